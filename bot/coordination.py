"""Leases and records shared through the database, so that a once-only job is done once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notify.models import Coordination, set_coordination


async def hold_lease(
    session: AsyncSession, *, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Takes or renews the lease `name` for `holder`; True if `holder` has it until now + ttl.

    A holder that stops renewing loses the lease when it expires, and another replica takes
    it over on its next try.
    """
    await set_coordination(
        session,
        name=name,
        until=now + ttl,
        holder=holder,
        where=or_(Coordination.holder == holder, Coordination.until < now),
    )
    current = await session.get(Coordination, name, populate_existing=True)
    return current is not None and current.holder == holder


async def handled_until(session: AsyncSession, *, name: str) -> datetime | None:
    """The latest moment recorded under `name` by `record_handled`, or None."""
    row = await session.get(Coordination, name, populate_existing=True)
    return None if row is None else row.until


async def record_handled(
    session: AsyncSession, *, name: str, moment: datetime, holder: str
) -> None:
    """Records that the job `name` has handled its fire at `moment`; the record only moves on."""
    await set_coordination(
        session, name=name, until=moment, holder=holder, where=Coordination.until < moment
    )
