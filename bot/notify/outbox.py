"""The outbox's queries: claim due rows safely across replicas, and record what became of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notify.models import Coordination, OutboxMessage

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
BRAKE = "teams-brake"


async def claim(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta
) -> Sequence[OutboxMessage]:
    """Takes up to `limit` due rows for this dispatcher, oldest first.

    A claimed row is `sending` until its lease ends; a dispatcher that died mid-delivery leaves
    rows that fall due again when the lease runs out. On PostgreSQL SKIP LOCKED lets several
    replicas claim side by side without waiting for or taking each other's rows.
    """
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_((PENDING, SENDING)), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if _dialect(session) == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list((await session.scalars(due)).all())
    if not ids:
        return []
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(status=SENDING, next_attempt_at=now + lease, attempts=OutboxMessage.attempts + 1)
    )
    rows = (
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        )
    ).all()
    return rows


async def depth(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many rows wait, and since when the oldest."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status.in_((PENDING, SENDING))
            )
        )
    ).one()
    return count, oldest


async def brake_until(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(Coordination.until).where(Coordination.name == BRAKE))


async def apply_brake(session: AsyncSession, *, until: datetime, holder: str) -> None:
    """Every dispatcher holds back until `until`: Teams throttles the bot, not one replica."""
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    statement = insert(Coordination).values(name=BRAKE, until=until, holder=holder)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"until": until, "holder": holder},
            where=or_(Coordination.until < until),
        )
    )


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"
