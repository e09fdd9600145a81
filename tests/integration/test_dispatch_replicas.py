"""Two bot replicas on one database: every message goes out exactly once, and none is stranded."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import utcnow
from bot.notify.delivery import Send, Sent
from bot.notify.dispatcher import DeliverySettings, Dispatcher
from bot.notify.models import OutboxMessage
from bot.teams.sender import TeamsSender
from tests.integration.replicas import replicas, seed, statuses

__all__ = ["replicas"]  # the fixture

# Enough for both replicas to claim batch after batch side by side (their batches are 100).
ROWS = 600


postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.mark.slow
@postgresql_only
async def test_two_dispatchers_send_each_of_many_messages_exactly_once(
    replicas, database, connector
):
    chats = await seed(database, ROWS, connector.url)
    one, two = replicas("replica-1"), replicas("replica-2")

    began = time.monotonic()
    running = [asyncio.create_task(r.dispatcher.run()) for r in (one, two)]
    try:
        async with asyncio.timeout(120):
            while True:
                if (await statuses(database))["sent"] == ROWS:
                    break
                await asyncio.sleep(0.1)
        elapsed = time.monotonic() - began
    finally:
        for replica in (one, two):
            replica.dispatcher.stop()
        await asyncio.gather(*running)

    per_chat = Counter(call.conversation_id for call in connector.sent())
    assert set(per_chat) == set(chats)
    assert set(per_chat.values()) == {1}, [c for c, n in per_chat.items() if n > 1][:10]
    assert one.delivered + two.delivered == ROWS
    assert one.delivered > 0 and two.delivered > 0, "both replicas should have taken a share"
    assert await statuses(database) == Counter(sent=ROWS)
    async with database.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert {row.attempts for row in rows} == {1}  # each row was claimed once, by one replica
    assert len({row.sent_activity_id for row in rows}) == ROWS
    print(
        f"\n{ROWS} messages by two replicas in {elapsed:.1f} s "
        f"({ROWS / elapsed:.0f}/s; split {one.delivered}/{two.delivered})"
    )


class Clock:
    """A wall clock the test moves by hand, shared by both replicas."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_row_left_by_a_dispatcher_that_died_mid_delivery_goes_out_from_the_other(
    replicas, database, connector
):
    chats = await seed(database, 3, connector.url)
    clock = Clock(datetime.now(UTC))
    lease = DeliverySettings(lease=timedelta(seconds=60), idle_poll=0.05)
    reached: list[str] = []

    def dies_mid_delivery(sender: TeamsSender) -> Send:
        async def send(reference: dict[str, Any], activity: dict[str, Any], _: str | None) -> Sent:
            reached.append(reference["conversation"]["id"])
            await asyncio.Event().wait()  # the process is gone before Teams answers
            raise AssertionError("unreachable")

        return send

    doomed = replicas("replica-1", clock=clock, delivery=lease, send=dies_mid_delivery)
    survivor = replicas("replica-2", clock=clock, delivery=lease)

    dying = asyncio.create_task(doomed.dispatcher.run_once())
    async with asyncio.timeout(5):
        while True:
            if len(reached) == 3:
                break
            await asyncio.sleep(0.01)
    dying.cancel()
    await asyncio.gather(dying, return_exceptions=True)
    assert await statuses(database) == Counter(sending=3)

    # While the lease holds, the rows belong to the dead dispatcher: nobody sends them twice.
    assert await survivor.dispatcher.run_once() == 0
    clock.now += timedelta(seconds=59)
    assert await survivor.dispatcher.run_once() == 0
    assert connector.sent() == []

    clock.now += timedelta(seconds=2)
    assert await survivor.dispatcher.run_once() == 3

    assert Counter(call.conversation_id for call in connector.sent()) == Counter(
        dict.fromkeys(chats, 1)
    )
    assert await statuses(database) == Counter(sent=3)
    async with database.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert {row.attempts for row in rows} == {2}
    assert survivor.delivered == 3 and doomed.delivered == 0


@postgresql_only
async def test_replicas_never_claim_the_same_row(replicas, database, connector):
    """Claims side by side: SKIP LOCKED hands each replica different rows, none waits."""
    await seed(database, 300, connector.url)
    names = [f"replica-{n}" for n in range(6)]
    dispatchers = [replicas(name).dispatcher for name in names]
    claimed: dict[str, list[int]] = {}

    async def claim(dispatcher: Dispatcher) -> None:
        from bot.notify import outbox

        async with dispatcher.database.transaction() as session:
            rows = await outbox.claim(
                session,
                now=utcnow(),
                limit=100,
                lease=timedelta(seconds=60),
                claimant=dispatcher.claimant,
            )
            await asyncio.sleep(0.05)  # hold the locks while the others claim
            claimed[dispatcher.name] = [row.id for row in rows]

    await asyncio.gather(*(claim(d) for d in dispatchers))

    every = [row for rows in claimed.values() for row in rows]
    assert len(every) == len(set(every)) == 300
    assert await statuses(database) == Counter(sending=300)
