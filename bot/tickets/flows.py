"""Applies a ticket event: the change, its audit line and who must hear of it, in one transaction."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypedDict

from sqlalchemy import ColumnElement, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.notify.compose import DraftRow, Notifier, waiting
from bot.notify.routing import Intent, TicketFacts, route
from bot.tickets.due import Action, NewAction, add_to_session, replan, times_of
from bot.tickets.events import TICKET_FIELDS, Change, EventKind, PersonRef, TicketEvent
from bot.tickets.lifecycle import IllegalTransition, Status, path
from bot.tickets.models import PROBLEM, Ticket
from bot.tickets.models import TicketEvent as EventRow
from bot.tickets.outages import restored_messages
from bot.tickets.people import match_person
from bot.tickets.planning import TicketTimes
from bot.tickets.service import ticket_by_key
from bot.tickets.state import move, refresh_deadlines

log = logging.getLogger(__name__)

Outcome = Literal["applied", "duplicate", "stale", "ignored"]

_STATUS_CHANGES = {
    Status.WAITING_FOR_CUSTOMER: Change.WAITING_FOR_CUSTOMER,
    Status.WAITING_FOR_VENDOR: Change.ESCALATED_TO_VENDOR,
    Status.RESOLVED: Change.RESOLVED,
    Status.CLOSED: Change.CLOSED,
    Status.REOPENED: Change.REOPENED,
    Status.CANCELLED: Change.CANCELLED,
}


# Texts are cut to what their columns hold; the audit line's free texts to a readable length.
def text_length(column: ColumnElement[Any]) -> int | None:
    """How many characters a text column holds, as the model declares it; None for no limit."""
    kind = column.type
    return kind.length if isinstance(kind, String) else None


def column_length(column: ColumnElement[Any]) -> int:
    length = text_length(column)
    if length is None:
        raise TypeError(f"{column} is not a text column of a declared length")
    return length


_ACTOR_LABEL = column_length(EventRow.__table__.c.actor_label)
_REPORTER_UNMATCHED = column_length(Ticket.__table__.c.reporter_unmatched)
_AUDIT_TEXT = 4000

# The reason of an automatic resolution after the customer never answered.
NO_RESPONSE = "no_response"
_WORKED_ON = frozenset({Status.ACKNOWLEDGED, Status.REOPENED})


@dataclass(frozen=True)
class Applied:
    """What became of one event: its outcome, what it changed and who is to be told."""

    outcome: Outcome
    ticket_key: str
    changes: tuple[Change, ...] = ()
    intents: tuple[Intent, ...] = ()
    ticket_id: int | None = None
    # The row as this transaction holds it, so that whoever follows up reads it without a query.
    ticket: Ticket | None = field(default=None, compare=False, repr=False)
    # How many outbox rows it wrote: a batch that wrote none has nothing to wake a dispatcher for.
    messages: int = field(default=0, compare=False)


class AuditLine(TypedDict):
    """A line of a ticket's history (a ticket_events row) as plain values."""

    ticket_id: int | None
    ticket_key: str
    at: datetime
    actor_id: int | None
    actor_label: str
    kind: str
    payload: dict[str, Any]
    source: str
    dedupe_key: str


class Lookups:
    """How applying one event finds what it touches: a query each, and a flush where it matters.

    A batch of events (bot/tickets/batch.py) reads all of it up front instead and writes
    everything in one flush at its end.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ticket(self, key: str) -> Ticket | None:
        return await ticket_by_key(self.session, key=key, for_update=True)

    async def create(self, event: TicketEvent) -> Ticket:
        ticket = new_ticket(event)
        self.session.add(ticket)
        await self.session.flush()
        return ticket

    def due_actions(self, ticket: Ticket) -> dict[str, Action] | None:
        """The ticket's due actions by dedupe key when known already; None: replan reads them."""
        return None

    def record(self, row: AuditLine) -> None:
        """Writes an audit line: here an object, so that a duplicate fails at the next flush."""
        self.session.add(EventRow(**row))

    def plan(self, action: NewAction) -> Action:
        """Writes a newly planned due action; returns what a later re-plan may change."""
        return add_to_session(self.session, action)

    async def send(self, notifier: Notifier, rows: list[DraftRow]) -> None:
        """Writes an event's outbox rows; a duplicate fails here, inside the event's savepoint."""
        await notifier.insert(self.session, rows)

    async def flush(self) -> None:
        # A duplicate must fail here, inside the event's savepoint, not at the commit.
        await self.session.flush()


@dataclass
class _Work:
    ticket: Ticket
    at: datetime
    changes: list[Change] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # what the messages may quote


async def apply_event(
    session: AsyncSession,
    event: TicketEvent,
    *,
    organisation: Organisation,
    now: datetime,
    notifier: Notifier | None = None,
) -> Applied:
    """Applies `event` once: a redelivery is a duplicate, an older delivery cannot undo a newer.

    Everything happens in a savepoint that the audit line's unique dedupe key closes: a
    duplicate is found by that insert and takes back all it did. Raises IllegalTransition for a
    move esmbot's own users asked for that the lifecycle forbids; nothing is then stored.
    """
    try:
        async with session.begin_nested():
            return await apply_one(
                session, event, organisation=organisation, now=now, notifier=notifier,
                lookups=Lookups(session),
            )  # fmt: skip
    except IntegrityError:
        session.info.clear()  # the memos may hold what the savepoint took back
        if await session.scalar(select(EventRow.id).where(EventRow.dedupe_key == event.dedupe_key)):
            return Applied("duplicate", event.ticket_key)
        raise


async def apply_one(
    session: AsyncSession,
    event: TicketEvent,
    *,
    organisation: Organisation,
    now: datetime,
    notifier: Notifier | None,
    lookups: Lookups,
) -> Applied:
    """The change, its audit line and its messages, found and written through `lookups`."""
    # The audit line as plain values: a batch writes all of its lines with one statement.
    row: AuditLine = {
        "ticket_id": None,
        "ticket_key": event.ticket_key,
        "at": event.occurred_at,
        "actor_id": None,
        "actor_label": event.actor.label[:_ACTOR_LABEL] if event.actor else "",
        "kind": str(event.kind),
        "payload": {},
        "source": event.source,
        "dedupe_key": event.dedupe_key,
    }
    if event.actor is not None:
        actor = await match_person(session, ref=event.actor)
        row["actor_id"] = actor.id if actor else None
    ticket = await lookups.ticket(event.ticket_key)
    if ticket is None and event.kind == EventKind.DELETED:
        row["payload"] = {"outcome": "ignored", "why": "unknown ticket"}
        lookups.record(row)
        await lookups.flush()
        return Applied("ignored", event.ticket_key)
    work = _Work(ticket=ticket or await lookups.create(event), at=event.occurred_at)
    planned_for = _plan_inputs(ticket, organisation) if ticket is not None else None
    if ticket is None:
        work.changes.append(Change.CREATED)
    stale = (
        ticket is not None
        and ticket.source_updated_at is not None
        and event.occurred_at < ticket.source_updated_at
    )
    if not stale:
        await _apply_snapshot(session, work, event, organisation)
        work.ticket.source_updated_at = max(
            event.occurred_at, work.ticket.source_updated_at or event.occurred_at
        )
    if event.vendor_needed and not stale:
        _mark_vendor_needed(work, event)
    if event.comment is not None:
        await _apply_comment(session, work, event, organisation)
    if event.kind == EventKind.DELETED and not stale:
        work.ticket.status = Status.CANCELLED
        work.changes.append(Change.DELETED)
    if work.changes and not stale:
        moment = max(now, event.occurred_at)
        refresh_deadlines(work.ticket, organisation=organisation, now=moment)
        inputs = _plan_inputs(work.ticket, organisation)
        if inputs != planned_for:
            await replan(
                session,
                work.ticket,
                organisation=organisation,
                existing=lookups.due_actions(work.ticket),
                add=lookups.plan,
                times=inputs[0],
                first_seen=moment if ticket is None else None,
            )
    intents = route(
        work.changes,
        TicketFacts(
            priority=work.ticket.priority,
            has_assignee=work.ticket.assignee_id is not None,
            problem=work.ticket.type == PROBLEM,
        ),
    )
    row["ticket_id"] = work.ticket.id
    if event.reason:
        # Why it was done (a question, a resolution note, a reopen) belongs to the history.
        work.audit["reason"] = event.reason[:_AUDIT_TEXT]
    row["payload"] = {
        **work.audit,
        "outcome": "stale" if stale else "applied",
        "changes": [str(change) for change in work.changes],
        "notify": [{"audience": i.audience, "template": i.template} for i in intents],
    }
    lookups.record(row)
    await lookups.flush()
    messages = 0
    if notifier is not None and intents:
        # The messages are rows of this same transaction: no change without its messages.
        rows = await notifier.compose(
            session,
            ticket=work.ticket,
            intents=intents,
            origin=event_origin(event),
            extras={**work.extras, "reason": event.reason, "note": event.reason},
        )
        await lookups.send(notifier, rows)
        messages = waiting(rows)
    if notifier is not None and event.restores and Change.RESOLVED in work.changes:
        # In this same transaction: the outage ends and who wrote in meanwhile hears it, or neither.
        told = await restored_messages(
            session, notifier, incident=work.ticket, service=event.restores,
            back=event.occurred_at, origin=event_origin(event),
        )  # fmt: skip
        if told:
            await lookups.send(notifier, told)
        messages += waiting(told)
    return Applied(
        "stale" if stale and not work.changes else "applied",
        work.ticket.key,
        tuple(work.changes),
        tuple(intents),
        ticket_id=work.ticket.id,
        ticket=work.ticket,
        messages=messages,
    )


def _plan_inputs(ticket: Ticket, organisation: Organisation) -> tuple[TicketTimes, str]:
    # Everything the plan of due actions is made from: when none of it moved (a comment, a
    # new summary) the ticket's actions stay as they are.
    return times_of(ticket, organisation), ticket.priority


def event_origin(event: TicketEvent) -> str:
    """What the event's outbox rows are keyed by: known before its audit line has an id."""
    digest = hashlib.blake2s(event.dedupe_key.encode(), digest_size=12).hexdigest()
    return f"ev:{digest}"


def new_ticket(event: TicketEvent) -> Ticket:
    """The ticket an event about an unknown key creates, before the event's own changes."""
    created_at = min(event.created_at or event.occurred_at, event.occurred_at)
    return Ticket(
        key=event.ticket_key,
        summary=_fitted("summary", str(event.fields.get("summary") or "(no summary)")),
        source=event.source,
        external_id=event.external_id,
        status=Status.NEW,
        created_at=created_at,
        source_updated_at=None,
    )


async def _apply_snapshot(
    session: AsyncSession, work: _Work, event: TicketEvent, organisation: Organisation
) -> None:
    ticket = work.ticket
    changed_fields = {}
    for name in TICKET_FIELDS:
        value = _fitted(name, event.fields[name]) if name in event.fields else None
        if name in event.fields and getattr(ticket, name) != value:
            changed_fields[name] = (getattr(ticket, name), value)
            setattr(ticket, name, value)
    if "priority" in changed_fields:
        before, after = changed_fields["priority"]
        if Change.CREATED not in work.changes:
            work.changes.append(Change.PRIORITY_CHANGED)
            if after == "P1" and before != "P1":
                work.changes.append(Change.PRIORITY_RAISED_TO_P1)
    if set(changed_fields) - {"priority", "resolution"} and Change.CREATED not in work.changes:
        work.changes.append(Change.FIELDS_UPDATED)
    if changed_fields:
        work.audit["fields"] = sorted(changed_fields)
    if event.reporter is not None:
        await _set_reporter(session, ticket, event.reporter)
    if event.opened_by is not None and ticket.opened_by_id is None:
        # Known before the messages are written, so that she hears of the ticket from its start.
        opener = await match_person(session, ref=event.opened_by)
        ticket.opened_by_id = opener.id if opener and opener.id != ticket.reporter_id else None
    if event.assignee is not None or event.unassigned:
        person = await match_person(session, ref=event.assignee) if event.assignee else None
        if person is None and event.assignee is not None:
            log.info(
                "assignee not matched",
                extra={"ticket": ticket.key, "assignee": event.assignee.label},
            )
        new_id = person.id if person else None
        if new_id != ticket.assignee_id:
            ticket.assignee_id = new_id
            if new_id is not None:
                work.changes.append(Change.ASSIGNED)
            work.audit["assignee"] = event.assignee.label if event.assignee else None
    if event.status is not None:
        _follow_status(work, event, event.status, organisation)


def _fitted(name: str, value: Any) -> Any:
    """A ticket field's value, a text cut to what its column holds."""
    length = text_length(Ticket.__table__.c[name])
    return value[:length] if length and isinstance(value, str) else value


async def _set_reporter(session: AsyncSession, ticket: Ticket, ref: PersonRef) -> None:
    person = await match_person(session, ref=ref)
    if person is not None:
        ticket.reporter_id, ticket.reporter_unmatched = person.id, None
    elif ticket.reporter_id is None:
        # Kept, not dropped: the reporter may meet the bot in Teams later under this e-mail.
        unmatched = ref.email or ref.jira_account_id or ref.jira_name or ref.name
        ticket.reporter_unmatched = unmatched[:_REPORTER_UNMATCHED]
        log.info("reporter not matched", extra={"ticket": ticket.key, "reporter": ref.label})


def _follow_status(
    work: _Work, event: TicketEvent, target: Status, organisation: Organisation
) -> None:
    ticket = work.ticket
    current = Status(ticket.status)
    if target == current:
        return
    if event.source != "esmbot" and target == Status.IN_PROGRESS and current in _WORKED_ON:
        # Jira has no "acknowledged" or "reopened" of its own: In Progress is where both live there.
        return
    # esmbot's own users get the lifecycle's verdict; a system of record is followed.
    steps = [target] if event.source == "esmbot" else path(current, target)
    if steps is None and event.source == "esmbot":
        raise IllegalTransition(ticket.key, current, target)
    if steps is None:
        # The system of record revived a ticket esmbot's table calls final (cancelled): follow it.
        ticket.status = target
        ticket.paused_since = work.at if target == Status.WAITING_FOR_CUSTOMER else None
        work.audit["forced"] = True
        steps = []
    had_response = ticket.first_response_at is not None
    for step in steps:
        move(ticket, step, organisation=organisation, at=max(work.at, ticket.created_at))
        if step == Status.WAITING_FOR_VENDOR:
            # Without an earlier mark the need was there from the start: the 24 h run from the
            # ticket's creation, so an escalation a day late is a breach, not a promise met.
            ticket.vendor_needed_at = ticket.vendor_needed_at or ticket.created_at
            ticket.vendor_escalated_at = work.at
    work.audit["status"] = {"from": str(current), "to": str(target)}
    work.extras["previous_status"] = current
    if target == Status.WAITING_FOR_CUSTOMER:
        ticket.pending_question = event.reason or ticket.pending_question
        work.extras["question"] = ticket.pending_question or ""
        # The card says who asks; a comment in the same event would name its own author.
        work.extras.setdefault("author", (event.actor.name if event.actor else None) or None)
    elif current == Status.WAITING_FOR_CUSTOMER:
        ticket.pending_question = None
    if target == Status.RESOLVED:
        work.extras["no_response"] = event.reason == NO_RESPONSE
    if (
        not had_response
        and ticket.first_response_at is not None
        and target
        in (
            Status.ACKNOWLEDGED,
            Status.IN_PROGRESS,
        )
    ):
        work.changes.append(Change.ACKNOWLEDGED)
    elif target in _STATUS_CHANGES:
        work.changes.append(_STATUS_CHANGES[target])
    elif Change.CREATED not in work.changes:
        work.changes.append(Change.STATUS_CHANGED)


def _mark_vendor_needed(work: _Work, event: TicketEvent) -> None:
    """Starts the vendor-escalation clock when the need became known; the earliest mark holds."""
    ticket = work.ticket
    if ticket.vendor_escalated_at is not None:
        return  # the vendor has it already: the clock has stopped
    known = max(event.occurred_at, ticket.created_at)
    if ticket.vendor_needed_at is not None and ticket.vendor_needed_at <= known:
        return
    ticket.vendor_needed_at = known
    work.audit["vendor_needed_at"] = known.isoformat()
    if Change.CREATED not in work.changes:
        work.changes.append(Change.VENDOR_NEEDED)


async def _apply_comment(
    session: AsyncSession, work: _Work, event: TicketEvent, organisation: Organisation
) -> None:
    comment, ticket = event.comment, work.ticket
    assert comment is not None
    author = await match_person(session, ref=comment.author) if comment.author else None
    # A key user who opened the ticket for a colleague answers on the customer's side too. A
    # problem is reported by the desk: what it says there is news for the affected.
    from_reporter = (
        author is not None
        and author.id in (ticket.reporter_id, ticket.opened_by_id)
        and ticket.type != PROBLEM
    )
    work.extras.update(
        comment=comment.body,
        author=(author.name if author else None)
        or (comment.author.label if comment.author else None),
    )
    work.audit["comment"] = {
        "public": comment.public,
        "author": comment.author.label if comment.author else None,
        "body": comment.body[:_AUDIT_TEXT],
        "id": comment.external_id,
    }
    if not comment.public and event.from_vendor:
        # The vendor's answer: its owner hears it, and the first one ends the vendor's wait.
        ticket.vendor_responded_at = ticket.vendor_responded_at or work.at
        work.changes.append(Change.VENDOR_ANSWERED)
        return
    if not comment.public:
        work.changes.append(Change.INTERNAL_COMMENT)
        return
    ticket.interaction_count += 1
    if from_reporter:
        work.changes.append(Change.CUSTOMER_REPLIED)
        if ticket.status == Status.WAITING_FOR_CUSTOMER and event.source == "esmbot":
            move(ticket, Status.IN_PROGRESS, organisation=organisation, at=work.at)
    else:
        work.changes.append(Change.PUBLIC_COMMENT)
