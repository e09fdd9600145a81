"""What people do to tickets from Teams: checked, written to the system of record, then stored."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.db import Database
from bot.directory.models import Person
from bot.errors import EsmbotError
from bot.notify.compose import Notifier
from bot.tickets.csat import SurveyAnswer, answer_survey
from bot.tickets.events import (
    Comment,
    EventDetails,
    EventKind,
    FieldValue,
    PersonRef,
    TicketEvent,
    first_occurred,
)
from bot.tickets.flows import Applied, apply_event
from bot.tickets.lifecycle import IllegalTransition, Status, can_transition
from bot.tickets.models import Ticket
from bot.tickets.service import next_key, ticket_by_key
from bot.tickets.system import Draft, TicketSystem

LOCAL_PREFIX = "SR"

log = logging.getLogger(__name__)

# Checks the ticket under its row lock, just before the event is applied; returns more details
# for the event, or raises to change nothing.
Guard = Callable[[AsyncSession, Ticket], Awaitable[EventDetails]]


class UnknownTicket(EsmbotError):
    """No ticket with this key (or none the asker may see): the same answer either way."""

    def __init__(self, key: str) -> None:
        super().__init__(f"I can't find a ticket {key.upper()}.")
        self.key = key


class AlreadyTaken(EsmbotError):
    """Someone got there first: the ticket has an owner, or was acknowledged already."""

    def __init__(
        self, key: str, holder: Person | None, *, asker: Person, acknowledged: bool = False
    ) -> None:
        self.key, self.holder, self.acknowledged = key, holder, acknowledged
        yours = self.yours = holder is not None and holder.id == asker.id
        name = (holder.name or holder.email or "someone else") if holder else None
        if acknowledged:
            owner = " and it is yours" if yours else f"; {name} has it" if name else ""
            message = f"{key} was already acknowledged{owner}."
        else:
            message = f"{key} is already yours." if yours else f"{key} is already taken by {name}."
        super().__init__(message)


@dataclass
class TicketActions:
    """The one way Teams changes tickets, whatever the system of record is."""

    database: Database
    system: TicketSystem
    organisation: Organisation
    clock: Callable[[], datetime]
    notifier: Notifier | None = None
    on_commit: Callable[[], None] | None = None

    async def open(
        self,
        draft: Draft,
        *,
        reporter: Person,
        opened_by: Person | None = None,
        prefix: str = LOCAL_PREFIX,
    ) -> Applied:
        """Creates the ticket in the system of record first; only then is it stored here.

        If the system refuses, nothing is stored. If storing fails after Jira created the issue,
        Jira's own webhook brings it in later under the same dedupe key.
        """
        recorded = await self.system.create(draft, reporter=reporter)
        now = self.clock()
        async with self.database.transaction() as session:
            key = recorded.key or await next_key(session, prefix=prefix)
            fields: dict[str, FieldValue] = {
                "summary": draft.summary,
                "description": draft.description,
                "type": draft.type,
                "module": draft.module,
                "impact": draft.impact,
                "steps": draft.steps,
                **first_occurred(draft.first_occurred_at),
                "priority": draft.priority,
            }
            event = TicketEvent(
                kind=EventKind.CREATED,
                source=self.system.name,
                ticket_key=key,
                dedupe_key=recorded.dedupe_key or f"esmbot:created:{key}",
                occurred_at=now,
                external_id=recorded.external_id,
                actor=_ref(opened_by or reporter),
                reporter=_ref(reporter),
                fields={name: value for name, value in fields.items() if value is not None},
                opened_by=_ref(opened_by)
                if opened_by is not None and opened_by.id != reporter.id
                else None,
            )
            applied = await apply_event(
                session, event, organisation=self.organisation, now=now, notifier=self.notifier
            )
        self._committed()
        return applied

    async def answer(self, key: str, body: str, *, actor: Person) -> Applied:
        """The customer's answer to the desk's question: a public comment, after which the
        ticket is worked on again (in the system of record too) and its owner hears of it."""
        ticket = await self._ticket(key)
        if Status(ticket.status) == Status.WAITING_FOR_CUSTOMER:
            await self.system.transition(ticket.key, Status.IN_PROGRESS)
        return await self.comment(ticket.key, body, actor=actor, public=True)

    async def rate(
        self, survey_id: int, score: int, comment: str | None, *, actor: Person
    ) -> SurveyAnswer:
        """A satisfaction answer, recorded once; a low score alerts management."""
        async with self.database.transaction() as session:
            answered = await answer_survey(
                session,
                survey_id=survey_id,
                person=actor,
                score=score,
                comment=comment,
                organisation=self.organisation,
                now=self.clock(),
                notifier=self.notifier,
            )
        if answered.told:
            self._committed()
        return answered

    def _committed(self) -> None:
        if self.on_commit is not None:
            self.on_commit()

    async def move(
        self,
        key: str,
        to: Status,
        *,
        actor: Person,
        reason: str | None = None,
        fields: dict[str, FieldValue] | None = None,
    ) -> Applied:
        """A status change asked for in Teams: refused early if the lifecycle forbids it."""
        ticket = await self._ticket(key)
        current = Status(ticket.status)
        if current != to and not can_transition(current, to):
            raise IllegalTransition(ticket.key, current, to)
        await self.system.transition(ticket.key, to)
        return await self._apply(
            ticket.key,
            EventKind.STATUS_CHANGED,
            actor,
            status=to,
            reason=reason,
            fields=fields or {},
        )

    async def comment(self, key: str, body: str, *, actor: Person, public: bool) -> Applied:
        ticket = await self._ticket(key)
        recorded = await self.system.comment(ticket.key, body, internal=not public)
        return await self._apply(
            ticket.key,
            EventKind.COMMENTED,
            actor,
            comment=Comment(body=body, public=public, author=_ref(actor)),
            dedupe_key=recorded.dedupe_key,
        )

    async def assign(
        self,
        key: str,
        assignee: Person | None,
        *,
        actor: Person,
        only_if_unassigned: bool = False,
    ) -> Applied:
        """Gives the ticket to `assignee` (None: nobody).

        With `only_if_unassigned` exactly one of several people taking the same ticket at once
        wins: the owner is re-checked under the ticket's row lock in the transaction that
        assigns, and the others get AlreadyTaken naming the winner, with nothing stored.
        """
        if only_if_unassigned and assignee is None:
            raise ValueError("only_if_unassigned needs someone to assign")
        ticket, holder = await self._ticket_and_owner(key)
        if only_if_unassigned and assignee is not None and holder is not None:
            raise AlreadyTaken(ticket.key, holder, asker=assignee)
        await self.system.assign(ticket.key, assignee)
        guard = _owner_must_be_none(assignee) if only_if_unassigned and assignee else None
        try:
            return await self._apply(
                ticket.key,
                EventKind.ASSIGNED,
                actor,
                guard=guard,
                assignee=_ref(assignee) if assignee else None,
                unassigned=assignee is None,
            )
        except AlreadyTaken as taken:
            # The system of record took our write after the winner's: give it back to them.
            await self._put_back(ticket.key, taken.holder)
            raise

    async def acknowledge(self, key: str, *, actor: Person) -> Applied:
        """The first response: the ticket moves to acknowledged and, if nobody owns it, the
        acknowledging agent takes it, so the customer hears who is on it.

        A second acknowledgement (two agents pressing at once) gets AlreadyTaken and stores
        nothing; the owner is decided under the ticket's row lock, as for assign().
        """
        ticket, holder = await self._ticket_and_owner(key)
        current = Status(ticket.status)
        if current == Status.ACKNOWLEDGED:
            raise AlreadyTaken(ticket.key, holder, asker=actor, acknowledged=True)
        if not can_transition(current, Status.ACKNOWLEDGED):
            raise IllegalTransition(ticket.key, current, Status.ACKNOWLEDGED)
        takes = holder is None
        await self.system.transition(ticket.key, Status.ACKNOWLEDGED)
        if takes:
            await self.system.assign(ticket.key, actor)
        owner: list[Person | None] = [None]  # as found under the lock

        async def guard(session: AsyncSession, locked: Ticket) -> EventDetails:
            owner[0] = await _owner(session, locked)
            if Status(locked.status) == Status.ACKNOWLEDGED:
                raise AlreadyTaken(locked.key, owner[0], asker=actor, acknowledged=True)
            return {"assignee": _ref(actor)} if owner[0] is None else {}

        try:
            applied = await self._apply(
                ticket.key, EventKind.STATUS_CHANGED, actor, guard=guard, status=Status.ACKNOWLEDGED
            )
        except AlreadyTaken as taken:
            if takes:
                await self._put_back(ticket.key, taken.holder)
            raise
        if takes and owner[0] is not None:
            # Someone else took the ticket between our read and the lock: the system of record
            # must show them, not us.
            await self._put_back(ticket.key, owner[0])
        return applied

    async def ask(self, key: str, question: str, *, actor: Person) -> Applied:
        """A question to the customer: the ticket waits for them and the resolution clock pauses.

        The system of record gets the question as a public comment; here it is one event whose
        reason is the question, so the customer gets one question card, not a reply card too.
        A ticket that already waits for the customer gets the question as a public reply.
        """
        ticket = await self._ticket(key)
        current = Status(ticket.status)
        if current == Status.WAITING_FOR_CUSTOMER:
            return await self.comment(ticket.key, question, actor=actor, public=True)
        if not can_transition(current, Status.WAITING_FOR_CUSTOMER):
            raise IllegalTransition(ticket.key, current, Status.WAITING_FOR_CUSTOMER)
        recorded = await self.system.comment(ticket.key, question, internal=False)
        await self.system.transition(ticket.key, Status.WAITING_FOR_CUSTOMER)
        return await self._apply(
            ticket.key,
            EventKind.STATUS_CHANGED,
            actor,
            # Jira's own webhook for the comment then counts as this event, not as a reply.
            dedupe_key=recorded.dedupe_key,
            status=Status.WAITING_FOR_CUSTOMER,
            reason=question,
        )

    async def classify(
        self, key: str, *, actor: Person, type: str | None = None, module: str | None = None
    ) -> Applied:
        """The dispatcher's classification: a request type (its service levels follow) or a
        module."""
        ticket = await self._ticket(key)
        await self.system.classify(ticket.key, type=type, module=module)
        fields: dict[str, FieldValue] = {"type": type} if type is not None else {}
        if module is not None:
            fields["module"] = module
        return await self._apply(ticket.key, EventKind.UPDATED, actor, fields=fields)

    async def vendor_answer(self, key: str, body: str, *, actor: Person) -> Applied:
        """The vendor's answer on a ticket escalated to it: an internal note (in Jira a comment
        that is not public), its owner told, its first answer recorded. A ticket never escalated
        is unknown to the vendor, whatever else it is."""
        ticket = await self._ticket(key)
        if ticket.vendor_escalated_at is None:
            raise UnknownTicket(key)
        recorded = await self.system.comment(ticket.key, body, internal=True)
        return await self._apply(
            ticket.key,
            EventKind.COMMENTED,
            actor,
            comment=Comment(body=body, public=False, author=_ref(actor)),
            dedupe_key=recorded.dedupe_key,
            from_vendor=True,
        )

    async def vendor_needed(self, key: str, why: str, *, actor: Person) -> Applied:
        """Marks that the request needs the vendor: its escalation clock starts now, unless an
        earlier mark or the escalation itself came first. The why is kept in its history."""
        ticket = await self._ticket(key)
        return await self._apply(
            ticket.key, EventKind.VENDOR_NEEDED, actor, vendor_needed=True, reason=why
        )

    async def set_priority(
        self, key: str, priority: str, *, actor: Person, reason: str | None = None
    ) -> Applied:
        ticket = await self._ticket(key)
        await self.system.set_priority(ticket.key, priority)
        return await self._apply(
            ticket.key,
            EventKind.PRIORITY_CHANGED,
            actor,
            fields={"priority": priority},
            reason=reason,
        )

    async def _ticket(self, key: str) -> Ticket:
        async with self.database.transaction() as session:
            ticket = await ticket_by_key(session, key=key)
        if ticket is None:
            raise UnknownTicket(key)
        return ticket

    async def _ticket_and_owner(self, key: str) -> tuple[Ticket, Person | None]:
        async with self.database.transaction() as session:
            ticket = await ticket_by_key(session, key=key)
            if ticket is None:
                raise UnknownTicket(key)
            return ticket, await _owner(session, ticket)

    async def _put_back(self, key: str, holder: Person | None) -> None:
        try:
            await self.system.assign(key, holder)
        except EsmbotError as error:
            log.warning(
                "could not give the ticket back to its owner in the system of record",
                extra={"ticket": key, "error": str(error)},
            )

    async def _apply(
        self,
        key: str,
        kind: EventKind,
        actor: Person,
        *,
        dedupe_key: str | None = None,
        guard: Guard | None = None,
        **details: Unpack[EventDetails],
    ) -> Applied:
        now = self.clock()
        async with self.database.transaction() as session:
            if guard is not None:
                # The row lock (PostgreSQL) or the single writer (SQLite) holds until commit, so
                # what the guard saw is still true when the event is applied.
                locked = await ticket_by_key(session, key=key, for_update=True)
                if locked is None:
                    raise UnknownTicket(key)
                details.update(await guard(session, locked))
            event = TicketEvent(
                kind=kind,
                source="esmbot",
                ticket_key=key,
                # A Teams action happens once; its own id keeps a retried Jira write from
                # counting twice.
                dedupe_key=dedupe_key or f"esmbot:{kind}:{key}:{uuid.uuid4().hex}",
                occurred_at=now,
                actor=_ref(actor),
                **details,
            )
            applied = await apply_event(
                session, event, organisation=self.organisation, now=now, notifier=self.notifier
            )
        self._committed()
        return applied


def _ref(person: Person) -> PersonRef:
    return PersonRef(name=person.name, email=person.email, person_id=person.id)


async def _owner(session: AsyncSession, ticket: Ticket) -> Person | None:
    person = await session.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    if person is not None:
        # Kept loaded outside the session: a refusal rolls back, which would expire it there.
        session.expunge(person)
    return person


def _owner_must_be_none(assignee: Person) -> Guard:
    async def guard(session: AsyncSession, locked: Ticket) -> EventDetails:
        holder = await _owner(session, locked)
        if holder is not None:
            raise AlreadyTaken(locked.key, holder, asker=assignee)
        return {}

    return guard
