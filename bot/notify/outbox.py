"""The outbox's queries: claim due rows safely across replicas, and record what became of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.notify.models import Coordination, OutboxMessage, set_coordination
from bot.notify.routing import FOLLOWS_TICKET_CARD, REDRAWS_TICKET_CARD, TICKET_CARD

if TYPE_CHECKING:
    from bot.notify.claims import Claimant

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
# For a person with no chat yet: waits until reaching them (bot/graph/) gives it a conversation.
REACHING = "reaching"
BRAKE = "teams-brake"
# replaces_activity_id of a redraw whose ticket card is unknown or gone: it is posted as a new
# message, which then is the ticket card.
POST_ANEW = ""
CARD_TEMPLATES = REDRAWS_TICKET_CARD | {TICKET_CARD}


async def claim(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta, claimant: Claimant
) -> Sequence[OutboxMessage]:
    """Takes up to `limit` due rows for `claimant`, oldest first.

    A claimed row is `sending`, and names its claimant, until the claimant records what became
    of it; the rows of one that died are handed back first (`claims.hand_back`), at the latest
    when the lease runs out. On PostgreSQL SKIP LOCKED lets several replicas claim side by side
    without waiting for or taking each other's rows. A redraw of a customer's ticket card waits
    until the card rows before it are settled, so it knows which activity to update and never
    overtakes an older state; the short news posted beside a redraw waits the same way, so it
    never arrives before the card it speaks of.
    """
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.template.not_in(FOLLOWS_TICKET_CARD), ~_earlier_card_unsettled()),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if dialect(session) == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list((await session.scalars(due)).all())
    if not ids:
        return []
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(
            status=SENDING,
            next_attempt_at=now + lease,
            attempts=OutboxMessage.attempts + 1,
            claimed_by=claimant.replica,
            claim_start=claimant.start,
        )
    )
    rows = (
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        )
    ).all()
    return rows


def is_redraw(row: OutboxMessage) -> bool:
    """Whether the row updates its customer's ticket card rather than posting a message."""
    return row.template in REDRAWS_TICKET_CARD and row.ticket_id is not None


async def ticket_card(session: AsyncSession, row: OutboxMessage) -> str | None:
    """The activity id of the ticket card a redraw updates: the last card delivered before it.

    Every redraw delivered since the card was posted kept its id, and a card posted anew in
    their place carries the new one.
    """
    return await session.scalar(
        select(OutboxMessage.sent_activity_id)
        .where(
            OutboxMessage.ticket_id == row.ticket_id,
            OutboxMessage.conversation_id == row.conversation_id,
            OutboxMessage.id < row.id,
            OutboxMessage.template.in_(CARD_TEMPLATES),
            OutboxMessage.status == SENT,
            OutboxMessage.sent_activity_id.is_not(None),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def _earlier_card_unsettled() -> ColumnElement[bool]:
    # Rows of one ticket are written under its row lock, so ids follow the order of its moves.
    earlier = aliased(OutboxMessage)
    return (
        select(earlier.id)
        .where(
            earlier.ticket_id == OutboxMessage.ticket_id,
            earlier.conversation_id == OutboxMessage.conversation_id,
            earlier.id < OutboxMessage.id,
            earlier.template.in_(CARD_TEMPLATES),
            earlier.status.in_((PENDING, SENDING)),
        )
        .exists()
    )


async def depth(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many rows wait, and since when the oldest."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status.in_((REACHING, PENDING, SENDING))
            )
        )
    ).one()
    return count, oldest


async def brake_until(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(Coordination.until).where(Coordination.name == BRAKE))


async def apply_brake(session: AsyncSession, *, until: datetime, holder: str) -> None:
    """Every dispatcher holds back until `until`: Teams throttles the bot, not one replica."""
    await set_coordination(
        session, name=BRAKE, until=until, holder=holder, where=Coordination.until < until
    )


def dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"
