"""A solved problem resolves its linked tickets too, when esmbot.toml says so ([problems])."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from bot.config import Organisation
from bot.db import Database
from bot.errors import EsmbotError
from bot.problems.models import ProblemLink
from bot.tickets.events import EventKind, PersonRef, TicketEvent
from bot.tickets.flows import apply_event
from bot.tickets.lifecycle import OPEN_STATUSES, IllegalTransition, Status
from bot.tickets.models import PROBLEM, Ticket
from bot.tickets.system import TicketSystem

log = logging.getLogger(__name__)

# Who resolved them, in the tickets' history.
ESMBOT = PersonRef(name="esmbot")


async def resolve_linked(
    database: Database, organisation: Organisation, system: TicketSystem, *, now: datetime
) -> int:
    """Resolves the open tickets of solved problems; returns how many it resolved.

    Their customers heard of the solution once, from the problem, so the resolution itself
    writes no message; their survey is planned as for any resolution. Each ticket's event is
    keyed by the problem and the ticket's round, so replicas and restarts resolve it once.
    """
    if not organisation.problems.resolve_linked:
        return 0
    problem = aliased(Ticket)
    async with database.transaction() as session:
        due: list[Any] = list(
            (
                await session.execute(
                    select(
                        Ticket.key,
                        Ticket.reopen_count,
                        problem.id.label("problem_id"),
                        problem.key.label("problem_key"),
                        problem.resolution,
                    )
                    .join(ProblemLink, ProblemLink.ticket_id == Ticket.id)
                    .join(problem, problem.id == ProblemLink.problem_id)
                    .where(
                        problem.type == PROBLEM,
                        problem.status.in_((Status.RESOLVED, Status.CLOSED)),
                        Ticket.status.in_(sorted(str(status) for status in OPEN_STATUSES)),
                    )
                    .order_by(Ticket.id)
                )
            ).all()
        )
    resolved = 0
    for row in due:
        try:
            await system.transition(row.key, Status.RESOLVED)
            async with database.transaction() as session:
                applied = await apply_event(
                    session,
                    TicketEvent(
                        kind=EventKind.STATUS_CHANGED,
                        source="esmbot",
                        ticket_key=row.key,
                        dedupe_key=f"problem:{row.problem_id}:resolves:{row.key}:{row.reopen_count}",
                        occurred_at=now,
                        actor=ESMBOT,
                        status=Status.RESOLVED,
                        reason=row.problem_key,
                        fields={"resolution": row.resolution or row.problem_key},
                    ),
                    organisation=organisation,
                    now=now,
                    notifier=None,
                )
            resolved += applied.outcome == "applied"
        except (EsmbotError, IllegalTransition) as error:
            # Left open and tried again at the next run; the desk sees it open in its queue.
            log.warning(
                "could not resolve a linked ticket",
                extra={"ticket": row.key, "problem": row.problem_key, "error": str(error)},
            )
    return resolved
