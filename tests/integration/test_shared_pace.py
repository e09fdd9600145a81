"""Two dispatchers on one PostgreSQL database keep the bot's tenant limit together, not each."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.db import Database, utcnow
from bot.demo.connector import ConnectorDouble
from bot.notify.pacing import Window
from bot.notify.replicas import ReplicaSettings, announce
from tests.integration.replicas import Replica, replicas, seed, statuses

__all__ = ["replicas"]  # the fixture

# Low enough to keep the test short, high enough that the sends are not one at a time.
RATE = 20
TENANT = (Window(1, RATE),)
SHARING = ReplicaSettings(interval=0.25, stale_after=0.5, ttl=1.0)
# Five seconds of sends at RATE: several one-second windows to judge.
CHATS, PER_CHAT = 50, 2

postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def limited() -> AsyncIterator[ConnectorDouble]:
    """Teams' per-conversation limits and a tenant limit of RATE a second, 429 past them."""
    double = ConnectorDouble(enforce_limits=True, tenant_rate=RATE)
    await double.start()
    yield double
    await double.close()


def busiest_second(times: list[float]) -> int:
    """The most arrivals in any one-second stretch."""
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def rate(times: list[float]) -> float:
    return (len(times) - 1) / (max(times) - min(times))


async def deliver_all(database: Database, *running: Replica, rows: int, within: float) -> None:
    tasks = [asyncio.create_task(replica.dispatcher.run()) for replica in running]
    try:
        async with asyncio.timeout(within):
            while True:
                if (await statuses(database))["sent"] == rows:
                    break
                await asyncio.sleep(0.1)
    finally:
        for replica in running:
            replica.dispatcher.stop()
        await asyncio.gather(*tasks)


@pytest.mark.slow
@postgresql_only
async def test_two_dispatchers_together_keep_the_tenant_limit(replicas, database, limited):
    chats = await seed(database, CHATS, limited.url, per_chat=PER_CHAT)
    one = replicas("replica-1", tenant=TENANT, sharing=SHARING)
    two = replicas("replica-2", tenant=TENANT, sharing=SHARING)

    await deliver_all(database, one, two, rows=CHATS * PER_CHAT, within=60)

    arrivals = [call.at for call in limited.sent()]
    print(
        f"\n{len(arrivals)} messages by two sharing dispatchers at {rate(arrivals):.1f}/s "
        f"(busiest second {busiest_second(arrivals)}, limit {RATE}/s; "
        f"split {one.delivered}/{two.delivered}; 429s {limited.throttled})"
    )
    assert limited.throttled == 0
    assert Counter(call.conversation_id for call in limited.sent()) == Counter(
        dict.fromkeys(chats, PER_CHAT)
    )
    assert await statuses(database) == Counter(sent=CHATS * PER_CHAT)
    assert one.delivered > 0 and two.delivered > 0, "both should have sent their share"
    # The limit as Teams counts it: no one-second stretch holds more. (The mean from the first
    # to the last arrival may come out a little above RATE: n sends fit into n / RATE - 1 s.)
    assert busiest_second(arrivals) <= RATE
    assert rate(arrivals) >= RATE / 2  # and they did share it, rather than take turns


@postgresql_only
async def test_without_sharing_two_dispatchers_together_go_past_the_limit(
    replicas, database, limited
):
    """The proof that the test above can fail: each pacing alone, they get 429s at once."""
    await seed(database, CHATS, limited.url, per_chat=PER_CHAT)
    one = replicas("replica-1", tenant=TENANT)
    two = replicas("replica-2", tenant=TENANT)
    tasks = [asyncio.create_task(replica.dispatcher.run()) for replica in (one, two)]
    try:
        async with asyncio.timeout(20):
            while True:
                if limited.throttled > 0:
                    break
                await asyncio.sleep(0.05)
    finally:
        for replica in (one, two):
            replica.dispatcher.stop()
        await asyncio.gather(*tasks)

    assert limited.throttled > 0
    assert busiest_second([call.at for call in limited.calls if call.operation == "send"]) > RATE


@pytest.mark.slow
@postgresql_only
async def test_the_survivor_of_a_dead_dispatcher_goes_back_to_the_full_rate(
    replicas, database, limited
):
    rows = 100  # 25 at half the rate until the dead one's row expires, the rest at the whole
    await seed(database, rows, limited.url)
    async with database.transaction() as session:
        # A dispatcher that announced itself and then died: its row is never renewed.
        await announce(session, start="dead", name="dead:1", until=utcnow() + timedelta(seconds=5))
    survivor = replicas("replica-1", tenant=TENANT, sharing=SHARING)
    sharing = survivor.dispatcher.replicas
    assert sharing is not None
    dropped: list[float] = []

    async def watch() -> None:
        while sharing.count != 1 or not dropped:
            if sharing.count == 2 and not dropped:
                await asyncio.sleep(0.01)
                continue
            if sharing.count == 1 and len(limited.sent()) > 0:
                dropped.append(time.monotonic())
            await asyncio.sleep(0.01)

    watching = asyncio.create_task(watch())
    await deliver_all(database, survivor, rows=rows, within=60)
    watching.cancel()
    await asyncio.gather(watching, return_exceptions=True)

    assert dropped, "the dead dispatcher was never dropped"
    halved = [call.at for call in limited.sent() if call.at < dropped[0]]
    full = [call.at for call in limited.sent() if call.at >= dropped[0] + 1.0]
    print(
        f"\nsurvivor: {rate(halved):.1f}/s while the other counted, then {rate(full):.1f}/s "
        f"(busiest seconds {busiest_second(halved)} and {busiest_second(full)})"
    )
    assert limited.throttled == 0 and await statuses(database) == Counter(sent=rows)
    assert busiest_second(halved) <= RATE // 2
    assert busiest_second(full) > RATE // 2 and rate(full) >= 0.7 * RATE
    assert sharing.pacer.tenant_rate(time.monotonic()) == RATE
