"""A batch's tickets held outside the session: inserted and updated as rows, not by its unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Update, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.db import utcnow
from bot.tickets.models import Ticket

_TABLE = Ticket.__table__
_COLUMNS = tuple(column.key for column in _TABLE.columns)
# Built once: constructing and keying a statement costs about what running it does.
_BY_KEYS = (
    select(Ticket)
    .where(Ticket.key.in_(bindparam("keys", expanding=True)))
    .order_by(Ticket.id)
    .with_for_update()
)
_INSERT = insert(_TABLE).returning(*_TABLE.columns, sort_by_parameter_order=True)
_UPDATES: dict[tuple[str, ...], Update] = {}


class TicketRows:
    """The tickets one transaction reads, creates and changes, written with a statement per kind
    of change.

    The session's unit of work cost more than the rest of applying an event: it tracks, sorts
    and diffs every mapped object at each flush. The tickets here are detached from it: they
    are plain Python objects to the code that changes them, and `write` compares each with the
    row it was read as and updates only the columns that moved, all rows that moved the same
    columns in one executemany. The rows stay locked (FOR UPDATE) until the transaction ends.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._read_as: dict[int, tuple[Any, ...]] = {}
        self._held: list[Ticket] = []

    async def read(self, keys: Iterable[str]) -> list[Ticket]:
        """The tickets with these keys, locked for this transaction."""
        found = list(await self.session.scalars(_BY_KEYS, {"keys": list(keys)}))
        for ticket in found:
            self.session.expunge(ticket)
            self._hold(ticket)
        return found

    async def insert(self, tickets: Sequence[Ticket]) -> None:
        """Inserts new tickets with their defaults and learns their ids and stored values."""
        if not tickets:
            return
        # What each was given; the table's defaults fill in the rest. They are made alike (by
        # new_ticket), so they share their columns, and insertmanyvalues sends one INSERT.
        rows = [
            {key: ticket.__dict__[key] for key in _COLUMNS if key in ticket.__dict__}
            for ticket in tickets
        ]
        result = await self.session.execute(_INSERT, rows)
        for ticket, stored in zip(tickets, result, strict=True):
            for key, value in zip(_COLUMNS, stored, strict=True):
                set_committed_value(ticket, key, value)
            self._hold(ticket)

    async def write(self) -> None:
        """Updates every held ticket that changed: one executemany per set of changed columns."""
        now = utcnow()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for ticket in self._held:
            values = ticket.__dict__
            before = self._read_as[ticket.id]
            moved = tuple(
                key
                for key, old in zip(_COLUMNS, before, strict=True)
                if values.get(key) != old and key != "updated_at"
            )
            if not moved:
                continue
            set_committed_value(ticket, "updated_at", now)
            row = {key: values.get(key) for key in moved}
            row["_id"], row["updated_at"] = ticket.id, now
            groups.setdefault(moved, []).append(row)
        for moved, rows in groups.items():
            await self.session.execute(_update_of(moved), rows)
        self._read_as = {ticket.id: _values(ticket) for ticket in self._held}

    def _hold(self, ticket: Ticket) -> None:
        self._read_as[ticket.id] = _values(ticket)
        self._held.append(ticket)


def _values(ticket: Ticket) -> tuple[Any, ...]:
    values = ticket.__dict__
    return tuple(values.get(key) for key in _COLUMNS)


def _update_of(columns: tuple[str, ...]) -> Update:
    statement = _UPDATES.get(columns)
    if statement is None:
        statement = _UPDATES[columns] = (
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("_id"))
            .values({key: bindparam(key) for key in (*columns, "updated_at")})
        )
    return statement
