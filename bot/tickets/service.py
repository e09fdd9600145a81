"""Keyword-only queries and small writes on tickets that flows, commands and reports share."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.tickets.models import KeySequence, Ticket


async def ticket_by_key(
    session: AsyncSession, *, key: str, for_update: bool = False
) -> Ticket | None:
    query = select(Ticket).where(Ticket.key == key.upper())
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


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
