"""Leases shared through the database, so that one replica at a time does a once-only job."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notify.models import Coordination


async def hold_lease(
    session: AsyncSession, *, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Takes or renews the lease `name` for `holder`; True if `holder` has it until now + ttl.

    A holder that stops renewing loses the lease when it expires, and another replica takes
    it over on its next try.
    """
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Coordination).values(name=name, until=now + ttl, holder=holder)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"until": now + ttl, "holder": holder},
            where=or_(Coordination.holder == holder, Coordination.until < now),
        )
    )
    current = await session.get(Coordination, name, populate_existing=True)
    return current is not None and current.holder == holder
