"""A dispatcher killed mid-broadcast: what it had claimed goes out within seconds, and is counted."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections import Counter
from datetime import timedelta

import pytest
from prometheus_client import generate_latest
from sqlalchemy import update

from bot.app import create_app, replica_name
from bot.db import Database, utcnow
from bot.notify.models import OutboxMessage
from bot.notify.replicas import ReplicaSettings, announce
from tests.integration.replicas import replicas, seed, statuses

__all__ = ["replicas"]  # the fixture

CHATS = 8
IN_FLIGHT = 5  # of them claimed by the dispatcher that died; the rest still pending
LEASE = timedelta(seconds=120)  # the dispatcher's default
# Far below the lease: a restart that waited for it would stall for two minutes.
PROMPTLY = 10.0


async def crashed_holding(
    database: Database, chat_rows: dict[str, int], *, replica: str, beat_ago: float
) -> set[str]:
    """Leaves the database as a dispatcher killed mid-delivery does; returns the chats it held.

    Its heartbeat row says when it beat last, `beat_ago` seconds ago; its first rows are
    claimed (`sending`, leased for two minutes, naming it), the others wait.
    """
    now = utcnow()
    held = dict(list(chat_rows.items())[:IN_FLIGHT])
    async with database.transaction() as session:
        await announce(
            session,
            start="killed",
            name=replica,
            until=now - timedelta(seconds=beat_ago) + timedelta(seconds=ReplicaSettings().ttl),
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(held.values()))
            .values(
                status="sending",
                attempts=1,
                claimed_by=replica,
                claim_start="killed",
                next_attempt_at=now + LEASE,
            )
        )
    return set(held)


async def all_sent(database: Database, *, within: float) -> float:
    """Seconds until every row is sent; fails if that takes longer than `within`."""
    began = time.monotonic()
    while (await statuses(database)).get("sent", 0) < CHATS:
        assert time.monotonic() - began < within, await statuses(database)
        await asyncio.sleep(0.05)
    return time.monotonic() - began


def resent(metrics_text: str) -> float:
    found = re.search(r"^esmbot_outbox_resent_after_crash_total (\S+)$", metrics_text, re.M)
    assert found, "the metric is missing"
    return float(found.group(1))


@pytest.fixture
def restart(aiohttp_client, settings, organisation):
    """Starts the bot as replica `host-a`, as the restarted process would be."""
    restarted = dataclasses.replace(settings, replica_name="host-a")

    async def start():
        return await aiohttp_client(create_app(restarted, organisation, schedule=False))

    return start, replica_name(restarted)


async def test_a_restarted_replica_sends_what_its_killed_start_held_at_once(
    database, connector, restart
):
    start, me = restart
    chats = await seed(database, CHATS, connector.url)
    # Killed a second ago: its heartbeat still looks live, but it is this replica's own.
    held = await crashed_holding(database, chats, replica=me, beat_ago=1.0)
    assert await statuses(database) == Counter(sending=IN_FLIGHT, pending=CHATS - IN_FLIGHT)

    client = await start()

    took = await all_sent(database, within=PROMPTLY)
    per_chat = Counter(call.conversation_id for call in connector.sent())
    assert per_chat == Counter(dict.fromkeys(chats, 1))
    text = await (await client.get("/metrics")).text()
    assert resent(text) == len(held) == IN_FLIGHT
    print(f"\nthe restarted replica had sent everything {took:.2f} s after it started")


async def test_the_claims_of_a_replica_whose_heartbeat_died_go_out_from_a_newcomer(
    database, connector, restart
):
    start, _ = restart
    chats = await seed(database, CHATS, connector.url)
    dead_after = ReplicaSettings().dead_after
    await crashed_holding(database, chats, replica="host-b:MainProcess", beat_ago=dead_after + 1)

    client = await start()

    took = await all_sent(database, within=PROMPTLY)
    assert Counter(call.conversation_id for call in connector.sent()) == Counter(
        dict.fromkeys(chats, 1)
    )
    assert resent(await (await client.get("/metrics")).text()) == IN_FLIGHT
    print(f"\nthe newcomer had sent everything {took:.2f} s after it started")


async def test_the_claims_of_a_live_replica_are_left_to_it(database, connector, replicas):
    chats = await seed(database, CHATS, connector.url)
    # It beat two seconds ago: it may be sending these rows right now.
    await crashed_holding(database, chats, replica="host-b:MainProcess", beat_ago=2.0)
    newcomer = replicas("host-a:MainProcess", sharing=ReplicaSettings())
    assert newcomer.dispatcher.replicas is not None
    await newcomer.dispatcher.replicas.join()

    assert await newcomer.dispatcher.run_once() == CHATS - IN_FLIGHT

    assert await statuses(database) == Counter(sending=IN_FLIGHT, sent=CHATS - IN_FLIGHT)
    assert resent(generate_latest(newcomer.dispatcher.metrics.registry).decode()) == 0
