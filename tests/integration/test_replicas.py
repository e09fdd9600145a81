"""Dispatchers count each other in the database: joining, renewing, leaving and dying change shares."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import generate_latest
from sqlalchemy import update

from bot.db import Database
from bot.notify import outbox
from bot.notify.metrics import Metrics
from bot.notify.models import OutboxMessage
from bot.notify.pacing import Pacer, Window
from bot.notify.replicas import Replicas, ReplicaSettings, announce, holder_name, live
from tests.integration.replicas import replicas, seed, statuses

__all__ = ["replicas"]  # the fixture

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SHARING = ReplicaSettings(interval=1.0, stale_after=2.0, ttl=3.0)


class Clock:
    """The wall clock and the pacer's clock, moved together by the test."""

    def __init__(self) -> None:
        self.now, self.seconds = T0, 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.seconds += seconds


def member(database: Database, name: str, clock: Clock) -> Replicas:
    return Replicas(database, Pacer(), name, clock, SHARING, monotonic=clock.monotonic)


async def count_live(database: Database, now: datetime) -> int:
    async with database.transaction() as session:
        return await live(session, now=now)


async def test_the_first_dispatcher_sends_at_once_with_the_whole_of_the_limits(database):
    clock = Clock()
    one = member(database, "host-a:1", clock)

    assert await one.join() == 0.0
    assert one.count == 1 and one.pacer.tenant_rate(clock.seconds) == 30
    assert await count_live(database, clock.now) == 1


async def test_a_newcomer_waits_until_the_others_have_lowered_their_share(database):
    clock = Clock()
    one, two = member(database, "host-a:1", clock), member(database, "host-b:1", clock)
    await one.join()

    assert await two.join() == SHARING.settle == 4.0  # stale_after, then the 2 s windows
    assert two.count == 2 and two.pacer.tenant_rate(clock.seconds) == 15
    assert one.count == 1  # until its next beat, which comes within `interval`
    clock.advance(SHARING.interval)
    await one.beat()
    assert one.count == 2 and one.pacer.tenant_rate(clock.seconds) == 15


async def test_one_that_leaves_is_no_longer_counted(database):
    clock = Clock()
    one, two = member(database, "host-a:1", clock), member(database, "host-b:1", clock)
    await one.join()
    await two.join()
    await one.beat()

    await two.leave()
    clock.advance(SHARING.interval)
    await one.beat()

    assert one.count == 1
    assert one.pacer.tenant_rate(clock.seconds) == 15  # the leaver's last second still counts
    assert one.pacer.tenant_rate(clock.seconds + 1.0) == 30
    assert not two.fresh(clock.seconds)


async def test_one_whose_heartbeat_stopped_is_dropped_when_its_row_expires(database):
    clock = Clock()
    one, dead = member(database, "host-a:1", clock), member(database, "host-b:1", clock)
    await one.join()
    await dead.join()
    await one.beat()

    clock.advance(SHARING.ttl - 0.5)  # dead has not renewed its row: it still counts
    await one.beat()
    assert one.count == 2 and not dead.fresh(clock.seconds)  # and it stopped sending
    clock.advance(0.5)
    await one.beat()

    assert one.count == 1
    assert one.pacer.tenant_rate(clock.seconds + 1.0) == 30


async def test_a_dispatcher_with_no_recent_count_is_not_fresh(database):
    clock = Clock()
    one = member(database, "host-a:1", clock)
    await one.join()

    assert one.fresh(clock.seconds + SHARING.stale_after - 0.01)
    assert not one.fresh(clock.seconds + SHARING.stale_after)


async def test_rows_of_other_kinds_and_long_gone_dispatchers_are_not_counted(database):
    clock = Clock()
    async with database.transaction() as session:
        await announce(session, start="0", name="gone-long-ago", until=T0 - timedelta(days=1))
    one = member(database, "host-a:1", clock)
    await one.join()
    async with database.transaction() as session:
        await outbox.apply_brake(session, until=T0 + timedelta(hours=1), holder="host-a:1")

    assert await count_live(database, clock.now) == 1
    await one.leave()  # and the long-gone row is cleared on the way out
    assert await count_live(database, T0 - timedelta(days=2)) == 0


def test_a_long_name_keeps_its_end_within_the_column():
    name = "a-very-long-kubernetes-pod-name-esmbot-7d9f8c6b5-x2x9q:3978:esmbot-worker-1" * 2

    assert len(holder_name(name)) == 128
    assert holder_name(name).endswith(":3978:esmbot-worker-1")


def test_the_margins_must_nest():
    with pytest.raises(ValueError):
        ReplicaSettings(interval=2.0, stale_after=6.0, ttl=4.0)


async def test_the_count_and_the_share_are_on_metrics(database):
    clock = Clock()
    metrics = Metrics()
    one = Replicas(database, Pacer(), "host-a:1", clock, SHARING, metrics, clock.monotonic)
    await member(database, "host-b:1", clock).join()

    await one.join()

    text = generate_latest(metrics.registry).decode()
    assert "esmbot_dispatchers 2.0" in text
    assert "esmbot_tenant_share_per_second 15.0" in text


async def test_a_dispatcher_does_not_send_on_a_stale_count(replicas, database, connector):
    await seed(database, 2, connector.url)
    quick = ReplicaSettings(interval=0.05, stale_after=0.3, ttl=1.0)
    # One send a second: the second row's slot comes after the count has gone stale.
    replica = replicas("replica-1", sharing=quick, tenant=(Window(1, 1),))
    dispatcher = replica.dispatcher
    assert dispatcher.replicas is not None
    await dispatcher.replicas.join()
    # No beat since: another dispatcher may have joined unseen.
    async with asyncio.timeout(5):
        while True:
            if not dispatcher.replicas.fresh(time.monotonic()):
                break
            await asyncio.sleep(0.02)

    assert await dispatcher.run_once() == 0  # it claims nothing
    assert await statuses(database) == {"pending": 2}

    await dispatcher.replicas.beat()
    assert await dispatcher.run_once() == 2

    assert len(connector.sent()) == 1  # the second send found the count stale: handed back
    assert await statuses(database) == {"sent": 1, "pending": 1}
    async with database.transaction() as session:  # due again now
        await session.execute(update(OutboxMessage).values(next_attempt_at=T0))
    await dispatcher.replicas.beat()
    assert await dispatcher.run_once() == 1
    assert len(connector.sent()) == 2 and await statuses(database) == {"sent": 2}
