"""Keyword-only queries and small writes on tickets that flows, commands and reports share."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import Person
from bot.tickets.lifecycle import OPEN_STATUSES
from bot.tickets.models import KeySequence, Ticket


async def ticket_by_key(
    session: AsyncSession, *, key: str, for_update: bool = False
) -> Ticket | None:
    query = select(Ticket).where(Ticket.key == key.upper())
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def ticket_and_owner(session: AsyncSession, *, key: str) -> tuple[Ticket, str | None] | None:
    """A ticket with its owner's name (None when nobody owns it), or None for an unknown key."""
    found = (
        await session.execute(
            select(Ticket, Person.name)
            .outerjoin(Person, Person.id == Ticket.assignee_id)
            .where(Ticket.key == key.upper())
        )
    ).first()
    return (found[0], found[1]) if found else None


async def open_tickets(
    session: AsyncSession, *, assignee_id: int | None = None, unassigned: bool = False
) -> list[tuple[Ticket, str | None]]:
    """Open tickets with their owner's name, all of them or one agent's or nobody's."""
    query = (
        select(Ticket, Person.name)
        .outerjoin(Person, Person.id == Ticket.assignee_id)
        .where(Ticket.status.in_(sorted(str(status) for status in OPEN_STATUSES)))
        .order_by(Ticket.id)
    )
    if assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    if unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    return [(ticket, name) for ticket, name in (await session.execute(query)).all()]


async def next_key(session: AsyncSession, *, prefix: str) -> str:
    """The next free key of esmbot's own store (SR-1, SR-2, …), safe with concurrent writers."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(KeySequence)
        .values(prefix=prefix, next_value=1)
        .on_conflict_do_nothing(index_elements=["prefix"])
    )
    # The UPDATE takes the row lock, so two writers never get the same number.
    number = await session.scalar(
        update(KeySequence)
        .where(KeySequence.prefix == prefix)
        .values(next_value=KeySequence.next_value + 1)
        .returning(KeySequence.next_value - 1)
    )
    return f"{prefix}-{number}"
