"""Who holds a claimed outbox row, and handing back the rows of dispatchers that died holding them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notify.models import Coordination, OutboxMessage
from bot.notify.outbox import PENDING, SENDING, dialect
from bot.notify.replicas import PREFIX


@dataclass(frozen=True)
class Claimant:
    """A dispatcher as its claims name it: its replica's stable name and this start of it.

    `start` is None for a dispatcher without a heartbeat (one driven by hand): nobody can
    tell whether it is alive, so only the lease ends its claims.
    """

    replica: str
    start: str | None = None

    def holds(self) -> ColumnElement[bool]:
        """Rows this dispatcher claimed and still holds: nobody handed them back since."""
        return and_(
            OutboxMessage.status == SENDING,
            OutboxMessage.claimed_by == self.replica,
            OutboxMessage.claim_start.is_not_distinct_from(self.start),
        )


async def hand_back(
    session: AsyncSession, *, claimant: Claimant, now: datetime, heartbeats: bool
) -> int:
    """Makes the rows of dead claimants due now; returns how many, each of them in flight.

    A claim is dead when its lease ran out, or (with `heartbeats`, for a dispatcher that
    takes part in them) when its claimant's start has no heartbeat row: it was withdrawn by
    the replica's own next start, or deleted once it had not been renewed for longer than a
    live dispatcher can take (bot/notify/replicas.py). Teams may have taken some of these rows
    before the claimant died: they are the only messages that can arrive twice.
    """
    dead = OutboxMessage.next_attempt_at <= now
    if heartbeats:
        beating = select(Coordination.name).where(
            Coordination.name.startswith(PREFIX, autoescape=True)
        )
        dead = or_(
            dead,
            and_(
                OutboxMessage.claim_start.is_not(None),
                OutboxMessage.claim_start.is_distinct_from(claimant.start),
                (literal(PREFIX) + OutboxMessage.claim_start).not_in(beating),
            ),
        )
    found = select(OutboxMessage.id).where(OutboxMessage.status == SENDING, dead)
    if dialect(session) == "postgresql":
        # Rows another dispatcher is handing back or claiming right now are left to it.
        found = found.with_for_update(skip_locked=True)
    ids = list((await session.scalars(found)).all())
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=PENDING, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(ids)
