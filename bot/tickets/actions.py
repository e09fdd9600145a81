"""What people do to tickets from Teams: checked, written to the system of record, then stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import Organisation
from bot.db import Database
from bot.directory.models import Person
from bot.errors import EsmbotError
from bot.notify.compose import Notifier
from bot.tickets.events import Comment, EventKind, PersonRef, TicketEvent
from bot.tickets.flows import Applied, apply_event
from bot.tickets.lifecycle import IllegalTransition, Status, can_transition
from bot.tickets.models import Ticket
from bot.tickets.service import next_key, ticket_by_key
from bot.tickets.system import Draft, TicketSystem

LOCAL_PREFIX = "SR"


class UnknownTicket(EsmbotError):
    """No ticket with this key (or none the asker may see): the same answer either way."""

    def __init__(self, key: str) -> None:
        super().__init__(f"I can't find a ticket {key.upper()}.")
        self.key = key


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
        self, draft: Draft, *, reporter: Person, opened_by: Person | None = None
    ) -> Applied:
        """Creates the ticket in the system of record first; only then is it stored here.

        If the system refuses, nothing is stored. If storing fails after Jira created the issue,
        Jira's own webhook brings it in later under the same dedupe key.
        """
        recorded = await self.system.create(draft, reporter=reporter)
        now = self.clock()
        async with self.database.transaction() as session:
            key = recorded.key or await next_key(session, prefix=LOCAL_PREFIX)
            fields: dict[str, Any] = {
                "summary": draft.summary,
                "description": draft.description,
                "type": draft.type,
                "module": draft.module,
                "impact": draft.impact,
                "steps": draft.steps,
                "first_occurred_at": draft.first_occurred_at,
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
            )
            applied = await apply_event(
                session, event, organisation=self.organisation, now=now, notifier=self.notifier
            )
        self._committed()
        return applied

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
        fields: dict[str, Any] | None = None,
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

    async def assign(self, key: str, assignee: Person | None, *, actor: Person) -> Applied:
        ticket = await self._ticket(key)
        await self.system.assign(ticket.key, assignee)
        return await self._apply(
            ticket.key,
            EventKind.ASSIGNED,
            actor,
            assignee=_ref(assignee) if assignee else None,
            unassigned=assignee is None,
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

    async def _apply(
        self,
        key: str,
        kind: EventKind,
        actor: Person,
        *,
        dedupe_key: str | None = None,
        **details: Any,
    ) -> Applied:
        now = self.clock()
        event = TicketEvent(
            kind=kind,
            source="esmbot",
            ticket_key=key,
            # A Teams action happens once; its own id keeps a retried Jira write from counting twice.
            dedupe_key=dedupe_key or f"esmbot:{kind}:{key}:{uuid.uuid4().hex}",
            occurred_at=now,
            actor=_ref(actor),
            **details,
        )
        async with self.database.transaction() as session:
            applied = await apply_event(
                session, event, organisation=self.organisation, now=now, notifier=self.notifier
            )
        self._committed()
        return applied


def _ref(person: Person) -> PersonRef:
    return PersonRef(name=person.name, email=person.email, person_id=person.id)
