"""Keeps a ticket's due-action rows in step with its plan whenever its deadlines or state move."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.tickets.due_models import DueAction
from bot.tickets.lifecycle import Status
from bot.tickets.models import PROBLEM, Ticket
from bot.tickets.planning import BREACH, SURVEY_EXPIRY, SURVEY_REMINDER, TicketTimes, plan
from bot.tickets.sla import resolution_start
from bot.tickets.state import policy_for, sla_facts

PENDING, DONE, SKIPPED = "pending", "done", "skipped"
# A deadline that had passed when esmbot first saw its ticket: recorded, and left to the digest.
MISSED_BEFORE_SEEN = "missed before esmbot saw the ticket"
# Planned when the survey goes out, not from the ticket's state; re-planning leaves them alone.
_PLANNED_ELSEWHERE = frozenset({SURVEY_REMINDER, SURVEY_EXPIRY})


@dataclass(slots=True)
class NewAction:
    """A due action planned just now, as plain values until it is written.

    A batch of events keeps these until its end (a later event may still move or skip one)
    and writes them as rows; building a mapped object for each cost more than its insert.
    """

    ticket_id: int
    dedupe_key: str
    kind: str
    sla: str | None
    fraction: float | None
    due_at: datetime
    status: str = PENDING
    outcome: str | None = None
    done_at: datetime | None = None

    def row(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "dedupe_key": self.dedupe_key,
            "kind": self.kind,
            "sla": self.sla,
            "fraction": self.fraction,
            "due_at": self.due_at,
            "status": self.status,
            "outcome": self.outcome,
            "done_at": self.done_at,
        }


# A ticket's action as re-planning sees it: stored already, or planned in this transaction.
Action = DueAction | NewAction
# Writes a new action; returns what re-planning is to change later in the same transaction.
AddAction = Callable[[NewAction], Action]


def add_to_session(session: AsyncSession, new: NewAction) -> DueAction:
    """A new action as an object in the session, flushed with everything else."""
    action = DueAction(**new.row())
    session.add(action)
    return action


def times_of(ticket: Ticket, organisation: Organisation) -> TicketTimes:
    policy = policy_for(organisation, ticket.priority, ticket.type)
    return TicketTimes(
        ticket_id=ticket.id,
        status=Status(ticket.status),
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        resolution_start=resolution_start(policy, sla_facts(ticket)),
        vendor_needed_at=ticket.vendor_needed_at,
        vendor_escalated_at=ticket.vendor_escalated_at,
        vendor_escalation_due=ticket.vendor_escalation_due,
        resolved_at=ticket.resolved_at,
        paused_since=ticket.paused_since,
        reopen_count=ticket.reopen_count,
        vendor_response_due=ticket.vendor_response_due,
        vendor_responded_at=ticket.vendor_responded_at,
        desk_only=ticket.type == PROBLEM,
    )


async def replan(
    session: AsyncSession,
    ticket: Ticket,
    *,
    organisation: Organisation,
    existing: dict[str, Action] | None = None,
    add: AddAction | None = None,
    times: TicketTimes | None = None,
    first_seen: datetime | None = None,
) -> None:
    """Adds what is newly due, moves what moved, and drops what no longer applies.

    Whatever was done stays done: a nudge sent is never sent again, whatever happens later.
    `existing`, the ticket's actions by dedupe key when the caller has read them already,
    learns the actions added here; `add` writes each new one (by default into the session);
    `times` are the ticket's times_of when the caller has them already. `first_seen`, when
    esmbot meets the ticket just now: a breach due before it is recorded as done, not alerted.
    """
    wanted = plan(
        times or times_of(ticket, organisation),
        policy=policy_for(organisation, ticket.priority, ticket.type),
        calendar=organisation.calendar,
        timers=organisation.timers,
        vendor=organisation.vendor,
    )
    add = add or partial(add_to_session, session)
    if existing is None:
        existing = {
            action.dedupe_key: action
            for action in (
                await session.scalars(select(DueAction).where(DueAction.ticket_id == ticket.id))
            ).all()
        }
    for planned in wanted:
        action = existing.get(planned.key)
        if action is None:
            new = NewAction(
                ticket_id=ticket.id,
                dedupe_key=planned.key,
                kind=planned.kind,
                sla=planned.sla,
                fraction=planned.fraction,
                due_at=planned.due_at,
            )
            if planned.kind == BREACH and first_seen is not None and planned.due_at <= first_seen:
                # An old ticket imported now would otherwise alert every deadline it ever missed.
                new.status, new.outcome, new.done_at = DONE, MISSED_BEFORE_SEEN, first_seen
            existing[planned.key] = add(new)
        elif action.status != DONE and (action.status, action.due_at, action.outcome) != (
            PENDING,
            planned.due_at,
            None,
        ):
            # Only what moved is set: an attribute set to its own value still costs the session
            # its bookkeeping, for every action of the ticket, on every event.
            action.status, action.due_at, action.outcome = PENDING, planned.due_at, None
    keys = {planned.key for planned in wanted}
    for key, action in existing.items():
        if action.status == PENDING and key not in keys and action.kind not in _PLANNED_ELSEWHERE:
            action.status, action.outcome = SKIPPED, "no longer due"


def schedule_once(
    session: AsyncSession, *, ticket_id: int, key: str, kind: str, due_at: datetime
) -> None:
    """An action planned by another action (a survey's reminder and expiry)."""
    session.add(DueAction(ticket_id=ticket_id, dedupe_key=key, kind=kind, due_at=due_at))
