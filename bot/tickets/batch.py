"""Applies a batch of ticket events with a few statements for the whole batch, not per event."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.notify.compose import DraftRow, Notifier
from bot.tickets.due import Action, NewAction
from bot.tickets.due_models import DueAction
from bot.tickets.events import EventKind, PersonRef, TicketEvent
from bot.tickets.flows import Applied, AuditLine, Lookups, apply_one, new_ticket
from bot.tickets.models import Ticket
from bot.tickets.models import TicketEvent as EventRow
from bot.tickets.people import matched_people, preload_people
from bot.tickets.ticket_rows import TicketRows


async def apply_batch(
    session: AsyncSession,
    events: Sequence[TicketEvent],
    *,
    organisation: Organisation,
    now: datetime,
    notifier: Notifier | None = None,
) -> list[Applied]:
    """Applies `events` in order, as apply_event would one by one, in one flush at the end.

    It reads the batch's tickets, audit keys, people, due actions and recipients up front and
    takes no savepoints, so anything unusual (a forbidden move, a row another replica wrote
    meanwhile) raises for the whole batch: the caller rolls back and applies the events one
    by one, each in its own savepoint, which is the reference for what every event does.
    """
    lookups = await BatchLookups.load(session, events)
    if notifier is not None:
        await notifier.preload(session, person_ids=lookups.person_ids())
    results = []
    for event, duplicate in zip(events, lookups.duplicates, strict=True):
        if duplicate:
            results.append(Applied("duplicate", event.ticket_key))
            continue
        results.append(
            await apply_one(
                session,
                event,
                organisation=organisation,
                now=now,
                notifier=notifier,
                lookups=lookups,
            )
        )
    await session.flush()
    await lookups.write(notifier)
    return results


# Built once: constructing and keying a statement costs about what running it does.
_STORED = select(EventRow.dedupe_key).where(
    EventRow.dedupe_key.in_(bindparam("keys", expanding=True))
)
_ACTIONS = select(DueAction).where(DueAction.ticket_id.in_(bindparam("ids", expanding=True)))


class BatchLookups(Lookups):
    """What a batch touches, read with one query per table; new tickets are inserted together."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.rows = TicketRows(session)
        self.tickets: dict[str, Ticket] = {}
        # Created up front, handed to the event that creates each: until then the key is unknown.
        self.unclaimed: dict[str, Ticket] = {}
        self.actions: dict[int, dict[str, Action]] = {}
        self.duplicates: list[bool] = []
        # Written at the batch's end as plain rows, one statement per table: nothing reads them
        # back within the batch, and the objects the session would track cost more than the rows.
        self.audit_lines: list[AuditLine] = []
        self.planned: list[NewAction] = []
        self.messages: list[DraftRow] = []

    @classmethod
    async def load(cls, session: AsyncSession, events: Sequence[TicketEvent]) -> BatchLookups:
        lookups = cls(session)
        keys = {event.ticket_key.upper() for event in events}
        found = await lookups.rows.read(keys)
        lookups.tickets = {ticket.key.upper(): ticket for ticket in found}
        stored = set(
            await session.scalars(_STORED, {"keys": list({event.dedupe_key for event in events})})
        )
        for event in events:
            lookups.duplicates.append(event.dedupe_key in stored)
            stored.add(event.dedupe_key)  # the same delivery twice in one batch
            key = event.ticket_key.upper()
            if event.kind == EventKind.DELETED or key in lookups.tickets or lookups.duplicates[-1]:
                continue
            lookups.unclaimed.setdefault(key, new_ticket(event))
        await lookups.rows.insert(list(lookups.unclaimed.values()))
        known = [ticket.id for ticket in lookups.tickets.values()]
        lookups.actions = {
            ticket.id: {} for ticket in (*lookups.tickets.values(), *lookups.unclaimed.values())
        }
        if known:
            for action in await session.scalars(_ACTIONS, {"ids": known}):
                lookups.actions[action.ticket_id][action.dedupe_key] = action
        await preload_people(
            session,
            (ref for event, dup in zip(events, lookups.duplicates, strict=True) if not dup
             for ref in _people_named(event)),
        )  # fmt: skip
        return lookups

    def person_ids(self) -> set[int]:
        """Everyone the batch's messages may go to, as far as it is known before applying."""
        ids: set[int] = set()
        for ticket in self.tickets.values():
            ids.update(
                i for i in (ticket.reporter_id, ticket.assignee_id, ticket.opened_by_id) if i
            )
        ids.update(person.id for person in matched_people(self.session))
        return ids

    async def ticket(self, key: str) -> Ticket | None:
        key = key.upper()
        if key in self.unclaimed:
            return None
        return self.tickets.get(key)

    async def create(self, event: TicketEvent) -> Ticket:
        key = event.ticket_key.upper()
        ticket = self.tickets[key] = self.unclaimed.pop(key)
        return ticket

    def due_actions(self, ticket: Ticket) -> dict[str, Action] | None:
        return self.actions.get(ticket.id)

    async def flush(self) -> None:
        pass  # the batch flushes once, at its end

    def record(self, row: AuditLine) -> None:
        self.audit_lines.append(row)

    def plan(self, action: NewAction) -> Action:
        # Kept out of the session: a later event of the batch may still move or skip it.
        self.planned.append(action)
        return action

    async def send(self, notifier: Notifier, rows: list[DraftRow]) -> None:
        self.messages.extend(rows)  # the batch's notifier writes them all in `write`

    async def write(self, notifier: Notifier | None) -> None:
        """The batch's tickets, audit lines, new due actions and messages, after the flush that
        wrote the rest."""
        await self.rows.write()
        if self.planned:
            await self.session.execute(
                insert(DueAction.__table__),
                [action.row() for action in self.planned],
            )
        if self.audit_lines:
            await self.session.execute(insert(EventRow.__table__), self.audit_lines)
        if notifier is not None:
            await notifier.insert(self.session, self.messages)


def _people_named(event: TicketEvent) -> Iterator[PersonRef]:
    # In the order apply_one matches them, so that what one match learns serves the next.
    for ref in (event.actor, event.reporter, event.opened_by, event.assignee):
        if ref is not None:
            yield ref
    if event.comment is not None and event.comment.author is not None:
        yield event.comment.author
