"""Which open problem a customer's words describe, if any: for intake and new tickets' cards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.problems.models import ProblemLink
from bot.problems.similarity import best_match
from bot.tickets.lifecycle import OPEN_STATUSES
from bot.tickets.models import PROBLEM, Ticket

# Open problems compared with a text at most: the newest, which are the ones that pile up.
_CANDIDATES = 200
# The open problems as a session read them: a batch of events reads them once.
_MEMO = "open_problems"


@dataclass(frozen=True)
class KnownProblem:
    """An open problem as a customer may hear of it: its key, the desk's title, and since when.

    Nothing in it comes from another customer: not their tickets, names or words.
    """

    key: str
    summary: str
    since: datetime


def problem_suggestion(
    threshold: float,
) -> Callable[[AsyncSession, Ticket], Awaitable[dict[str, str] | None]]:
    """What the agents' card of a new ticket suggests: the open problem its words match."""

    async def suggest(session: AsyncSession, ticket: Ticket) -> dict[str, str] | None:
        if ticket.type == PROBLEM:
            return None
        problems = session.info.get(_MEMO)
        if problems is None:
            problems = session.info[_MEMO] = list((await session.execute(_open_problems())).all())
        if not problems:
            return None
        text = f"{ticket.summary} {ticket.description or ''}"
        found = best_match(
            text,
            [(row.key, f"{row.summary} {row.description or ''}") for row in problems],
            threshold=threshold,
        )
        if found is None or (await _problem_of(session, ticket.id)) is not None:
            return None
        row = next(row for row in problems if row.key == found)
        return {"key": row.key, "summary": row.summary}

    return suggest


def _open_problems() -> Any:
    return (
        select(Ticket.id, Ticket.key, Ticket.summary, Ticket.description, Ticket.created_at)
        .where(
            Ticket.type == PROBLEM,
            Ticket.status.in_(sorted(str(status) for status in OPEN_STATUSES)),
        )
        .order_by(Ticket.created_at.desc())
        .limit(_CANDIDATES)
    )


async def _problem_of(session: AsyncSession, ticket_id: int) -> int | None:
    return await session.scalar(
        select(ProblemLink.problem_id).where(ProblemLink.ticket_id == ticket_id)
    )


async def known_problem(
    session: AsyncSession, *, text: str, threshold: float, module: str | None = None
) -> KnownProblem | None:
    """The open problem most like `text` (in the same module, when one is named), or None."""
    query = _open_problems()
    if module:
        query = query.where((Ticket.module == module) | Ticket.module.is_(None))
    problems = (await session.execute(query)).all()
    found = best_match(
        text,
        [(row.id, f"{row.summary} {row.description or ''}") for row in problems],
        threshold=threshold,
    )
    if found is None:
        return None
    row = next(row for row in problems if row.id == found)
    first = await session.scalar(
        select(func.min(Ticket.created_at))
        .join(ProblemLink, ProblemLink.ticket_id == Ticket.id)
        .where(ProblemLink.problem_id == row.id)
    )
    return KnownProblem(row.key, row.summary, min(first or row.created_at, row.created_at))
