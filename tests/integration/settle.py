"""Waits, with a deadline, until the bot has nothing left to send, so a test can count exactly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select

from bot.db import Database
from bot.demo.connector import ConnectorDouble
from bot.notify import outbox
from bot.notify.models import OutboxMessage

HORIZON = timedelta(seconds=1)


async def settled(
    database: Database,
    connector: ConnectorDouble,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    horizon: timedelta = HORIZON,
    within: float = 10.0,
) -> None:
    """Returns once no outbox row is being sent or due within `horizon` of `clock`, and the
    connector double has answered every call it received; fails if that does not come.

    A row due later (a reminder, a retry after a long Retry-After) is the test's to bring
    about. "Nothing more was sent" then means nothing more: not merely nothing yet.
    """
    deadline = time.monotonic() + within
    while True:
        busy = await _busy(database, clock() + horizon)
        if not busy and connector.unanswered == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"still sending after {within} s: {busy} outbox rows in hand or due, "
                f"{connector.unanswered} calls unanswered"
            )
        await asyncio.sleep(0.02)


async def _busy(database: Database, until: datetime) -> int:
    async with database.transaction() as session:
        return await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                or_(
                    OutboxMessage.status == outbox.SENDING,
                    (OutboxMessage.status.in_((outbox.PENDING, outbox.REACHING)))
                    & (OutboxMessage.next_attempt_at <= until),
                )
            )
        )
