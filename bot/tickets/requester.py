"""The tickets a customer may see: their own and those they opened for colleagues, with history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from bot.db import detached
from bot.directory.models import Person
from bot.tickets.lifecycle import OPEN_STATUSES, Status
from bot.tickets.models import Ticket, TicketEvent

# How many tickets one list shows; the rest are counted, not drawn (a card has a size limit).
LIST_LIMIT = 15
HISTORY_LIMIT = 12
DETAIL_LIMIT = 300


@dataclass(frozen=True)
class HistoryLine:
    """One step of a ticket's story as the customer may read it (no internal notes)."""

    at: datetime
    what: str  # created, status, reply, assigned
    status: str | None = None
    who: str | None = None
    detail: str | None = None


def _visible_to(person: Person | BindParameter[int]) -> ColumnElement[bool]:
    """Tickets the person reported or opened for someone; `person` may be a bound parameter."""
    person_id = person if isinstance(person, BindParameter) else person.id
    return or_(Ticket.reporter_id == person_id, Ticket.opened_by_id == person_id)


# Built once, as every status turn runs them: building and cache-keying a select costs more
# than SQLite takes to answer it.
_VISIBLE_TICKET = select(Ticket).where(
    Ticket.key == bindparam("key"), _visible_to(bindparam("person_id"))
)
# Columns rather than entities: the story only reads them, and ORM loading costs more.
_HISTORY = (
    select(TicketEvent.at, TicketEvent.payload, Person.name)
    .outerjoin(Person, Person.id == TicketEvent.actor_id)
    .where(TicketEvent.ticket_id == bindparam("ticket_id"))
    .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
    .limit(HISTORY_LIMIT * 3)
)


async def visible_ticket(session: AsyncSession, *, key: str, person: Person) -> Ticket | None:
    """The ticket if this person may see it; None alike for someone else's and a missing one."""
    ticket: Ticket | None = await session.scalar(_VISIBLE_TICKET, _visible_values(key, person))
    return ticket


def ticket_seen(connection: Connection, *, key: str, person: Person) -> Ticket | None:
    """`visible_ticket` read on a plain connection (in `Database.read`), detached."""
    row = connection.execute(_VISIBLE_TICKET, _visible_values(key, person)).first()
    return None if row is None else detached(Ticket, row)


def _visible_values(key: str, person: Person) -> dict[str, str | int]:
    return {"key": key.strip().upper(), "person_id": person.id}


async def tickets_of(
    session: AsyncSession, *, person: Person, closed: bool = False
) -> tuple[list[tuple[Ticket, str | None, str | None]], int]:
    """Open (or, with `closed`, finished) tickets with their owner's name and, for a ticket
    opened for a colleague, the colleague's name; most urgent first, and how many in all."""
    statuses = {str(status) for status in OPEN_STATUSES}
    state = Ticket.status.in_(sorted(statuses))
    where = [_visible_to(person), ~state if closed else state]
    total = await session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    reporter = aliased(Person)
    colleague = case((Ticket.reporter_id != person.id, reporter.name), else_=None)
    query = (
        select(Ticket, Person.name, colleague)
        .outerjoin(Person, Person.id == Ticket.assignee_id)
        .outerjoin(reporter, reporter.id == Ticket.reporter_id)
    )
    if closed:
        query = query.order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    else:
        # Most urgent: the nearest running deadline (the first response until it is given,
        # then the resolution); tickets without one last, oldest first.
        due = case(
            (Ticket.first_response_at.is_(None), Ticket.first_response_due),
            else_=Ticket.resolution_due,
        )
        query = query.order_by(due.is_(None).asc(), due.asc(), Ticket.id.asc())
    rows = (await session.execute(query.where(*where).limit(LIST_LIMIT))).all()
    return [(ticket, owner, whom) for ticket, owner, whom in rows], int(total)


def next_deadline(ticket: Ticket) -> tuple[str, datetime] | None:
    """The deadline the customer is waiting on, by name: the first response, then the
    resolution ("first_response" or "resolution", as under [sla] in the i18n files)."""
    if ticket.first_response_at is None and ticket.first_response_due is not None:
        return "first_response", ticket.first_response_due
    if Status(ticket.status) == Status.WAITING_FOR_CUSTOMER:
        return None  # the clock waits for them, so no date would be honest
    if Status(ticket.status) in OPEN_STATUSES and ticket.resolution_due is not None:
        return "resolution", ticket.resolution_due
    return None


async def waiting_on(session: AsyncSession, *, person: Person) -> list[Ticket]:
    """Their tickets that wait for their answer, the newest question first."""
    query = (
        select(Ticket)
        .where(_visible_to(person), Ticket.status == str(Status.WAITING_FOR_CUSTOMER))
        .order_by(Ticket.paused_since.desc(), Ticket.id.desc())
    )
    return list((await session.scalars(query)).all())


async def recently_finished(
    session: AsyncSession, *, person: Person, since: datetime
) -> Ticket | None:
    """Their ticket resolved or closed most recently after `since` (a reopen candidate)."""
    query = (
        select(Ticket)
        .where(
            _visible_to(person),
            Ticket.status.in_([str(Status.RESOLVED), str(Status.CLOSED)]),
            Ticket.resolved_at >= since,
        )
        .order_by(Ticket.resolved_at.desc())
        .limit(1)
    )
    return await session.scalar(query)


def history(connection: Connection, *, ticket: Ticket) -> list[HistoryLine]:
    """The customer's view of what happened, oldest first, the newest HISTORY_LIMIT steps."""
    lines: list[HistoryLine] = []
    for at, payload, actor in connection.execute(_HISTORY, {"ticket_id": ticket.id}).all():
        line = _line(at, payload, actor)
        if line is not None:
            lines.append(line)
        if len(lines) == HISTORY_LIMIT:
            break
    return list(reversed(lines))


def _line(at: datetime, stored: dict[str, Any] | None, actor: str | None) -> HistoryLine | None:
    payload = stored or {}
    if payload.get("outcome") not in (None, "applied"):
        return None
    changes = payload.get("changes") or []
    who = actor or None
    if "created" in changes:
        return HistoryLine(at=at, what="created", who=who)
    comment = payload.get("comment")
    if isinstance(comment, dict):
        if not comment.get("public"):
            return None  # internal notes never reach the customer
        body = str(comment.get("body") or "")
        return HistoryLine(
            at=at, what="reply", who=comment.get("author") or who, detail=_short(body)
        )
    status = payload.get("status")
    if isinstance(status, dict) and status.get("to"):
        to = str(status["to"])
        # Only a question, a resolution note or the customer's own reason is meant for them.
        shown = to in (Status.WAITING_FOR_CUSTOMER, Status.RESOLVED, Status.REOPENED)
        reason = payload.get("reason") if shown else None
        return HistoryLine(at=at, what="status", status=to, who=who, detail=_short(reason or ""))
    if "assigned" in changes:
        return HistoryLine(at=at, what="assigned", who=payload.get("assignee") or who)
    return None


def _short(text: str) -> str | None:
    text = " ".join(text.split())
    if not text:
        return None
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1].rstrip() + "…"
