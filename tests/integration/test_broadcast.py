"""A planned outage over real HTTP: every customer once, progress that adds up, and cancellation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.app import DISPATCHER, TEMPLATES, create_app
from bot.db import utcnow
from bot.demo.activities import (
    TeamsUser,
    channel_conversation_id,
    channel_message,
    installation_update,
    personal_conversation_id,
)
from bot.notify.broadcast import (
    Progress,
    broadcast_progress,
    cancel_broadcast,
    start_outage_broadcast,
)
from bot.notify.compose import Notifier
from bot.notify.dispatcher import DeliverySettings
from bot.notify.models import OutboxMessage
from bot.notify.render import Renderer
from bot.notify.views import Outage
from tests.conftest import ALEX, DANIELLE
from tests.integration.settle import settled

OUTAGE = Outage(
    service="OpenCart shop",
    start=datetime(2026, 11, 28, 20, 0, tzinfo=UTC),
    end=datetime(2026, 11, 28, 23, 0, tzinfo=UTC),
    text="Database upgrade; orders placed meanwhile are kept.",
)
MANAGEMENT = channel_conversation_id("management")
AGENTS = channel_conversation_id("agents")
FAST = DeliverySettings(backoff_base=0.05, backoff_cap=0.2, idle_poll=0.05, max_attempts=4)
CUSTOMERS = [
    TeamsUser.named(
        f"Customer {n}",
        f"customer{n}@esmos.example",
        **({"locale": "de-DE"} if n % 3 == 0 else {"locale": "en-GB", "time_zone": "UTC"}),
    )
    for n in range(12)
]


@pytest.fixture
def start_desk(connector, database, aiohttp_client, settings, organisation):
    """Starts the bot, installs it for the customers and Alex (an agent), binds management."""

    async def start(*, rate: int | None = None, delivery: DeliverySettings = FAST):
        tuned = replace(settings, teams_rate_per_second=rate) if rate else settings
        app = create_app(tuned, organisation, delivery=delivery)
        client = await aiohttp_client(app)
        for user in [*CUSTOMERS, ALEX]:
            activity = installation_update(user, connector.url)
            assert (await client.post("/api/messages", json=activity)).status == 201
        subscribe = channel_message(
            DANIELLE, "/subscribe management", connector.url, channel="management"
        )
        assert (await client.post("/api/messages", json=subscribe)).status == 201
        await connector.wait_for(1, MANAGEMENT)
        await connector.wait_for(len(CUSTOMERS) + 2)
        notifier = Notifier(
            Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone), organisation
        )

        async def broadcast() -> str:
            async with database.transaction() as session:
                broadcast_id = await start_outage_broadcast(
                    session,
                    notifier=notifier,
                    outage=OUTAGE,
                    requested_by_person_id=None,
                    now=utcnow(),
                )
            app[DISPATCHER].wake()
            return broadcast_id

        return client, broadcast

    return start


def outage_cards(connector, conversation_id: str | None = None) -> list[dict]:
    """The cards posted to the conversation on the bot's own account (not answers to a turn)."""
    return [
        call.body["attachments"][0]["content"]
        for call in connector.sent(conversation_id)
        if call.operation == "send" and call.body.get("attachments")
    ]


async def progress_of(database, broadcast_id: str) -> Progress:
    async with database.transaction() as session:
        return await broadcast_progress(session, broadcast_id)


async def progress_when(
    database, broadcast_id: str, done: Callable[[Progress], bool], *, within: float = 10.0
) -> Progress:
    """The progress once `done` holds (or as it stands when time runs out)."""
    deadline = time.monotonic() + within
    progress = await progress_of(database, broadcast_id)
    while not done(progress) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        progress = await progress_of(database, broadcast_id)
    return progress


async def finished(database, broadcast_id: str) -> Progress:
    return await progress_when(database, broadcast_id, lambda progress: progress.finished)


async def test_every_customer_hears_of_the_outage_exactly_once(start_desk, connector, database):
    _client, broadcast = await start_desk()

    broadcast_id = await broadcast()

    assert await finished(database, broadcast_id) == Progress(delivered=len(CUSTOMERS))
    await settled(database, connector)
    for user in CUSTOMERS:
        cards = outage_cards(connector, personal_conversation_id(user))
        assert len(cards) == 1, user.name
        title = "Geplante Wartung" if user.locale == "de-DE" else "Planned maintenance"
        assert title in cards[0]["fallbackText"]
    assert outage_cards(connector, personal_conversation_id(ALEX)) == []  # staff are not told
    notice = outage_cards(connector, MANAGEMENT)
    assert len(notice) == 1 and str(len(CUSTOMERS)) in notice[0]["fallbackText"]


async def test_progress_counts_what_is_pending_and_a_blocked_chat_as_unreachable(
    start_desk, connector, database
):
    client, broadcast = await start_desk()
    gone, blocked = CUSTOMERS[0], CUSTOMERS[1]
    uninstall = installation_update(gone, connector.url, action="remove")
    assert (await client.post("/api/messages", json=uninstall)).status == 201
    connector.fail(
        403, conversation_id=personal_conversation_id(blocked), code="MessageWritesBlocked"
    )

    broadcast_id = await broadcast()

    early = await progress_of(database, broadcast_id)
    assert early.total == len(CUSTOMERS) - 1  # no row at all for the uninstalled chat
    assert early.pending + early.delivered + early.unreachable == early.total
    progress = await finished(database, broadcast_id)
    assert progress == Progress(delivered=len(CUSTOMERS) - 2, unreachable=1)
    assert outage_cards(connector, personal_conversation_id(gone)) == []
    assert outage_cards(connector, personal_conversation_id(blocked)) == []


async def test_blocked_customers_are_counted_by_the_broadcast_not_reported_one_by_one(
    start_desk, connector, database
):
    client, broadcast = await start_desk()
    subscribe = channel_message(DANIELLE, "/subscribe agents", connector.url, channel="agents")
    assert (await client.post("/api/messages", json=subscribe)).status == 201
    await connector.wait_for(1, AGENTS)
    blocked = CUSTOMERS[:3]
    for user in blocked:
        chat = personal_conversation_id(user)
        connector.fail(403, conversation_id=chat, code="MessageWritesBlocked")

    broadcast_id = await broadcast()

    progress = await finished(database, broadcast_id)
    assert progress == Progress(delivered=len(CUSTOMERS) - len(blocked), unreachable=len(blocked))
    await settled(database, connector)
    assert len(connector.sent(AGENTS)) == 1  # the answer to /subscribe, nothing after it
    async with database.transaction() as session:
        notices = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "agents/delivery_failed")
        )
    assert notices == 0


async def test_a_cancelled_broadcast_stops_and_nobody_gets_it_twice(
    start_desk, connector, database
):
    # Two messages a second, a few rows per claim: the broadcast takes seconds, so there is a middle.
    slow = replace(FAST, batch=3, defer_after=0.5)
    _client, broadcast = await start_desk(rate=2, delivery=slow)
    broadcast_id = await broadcast()

    assert (await progress_when(database, broadcast_id, lambda p: p.delivered >= 2)).pending
    async with database.transaction() as session:
        dropped = await cancel_broadcast(session, broadcast_id)

    progress = await finished(database, broadcast_id)
    await settled(database, connector)
    assert dropped > 0 and progress.pending == 0
    assert progress.cancelled >= dropped and progress.delivered < len(CUSTOMERS)
    assert progress.delivered + progress.cancelled == len(CUSTOMERS)
    reached = [len(outage_cards(connector, personal_conversation_id(u))) for u in CUSTOMERS]
    assert sum(reached) == progress.delivered and max(reached) == 1
    assert await progress_of(database, broadcast_id) == progress
    async with database.transaction() as session:
        assert await cancel_broadcast(session, broadcast_id) == 0  # safe to repeat


async def test_a_second_broadcast_is_a_new_one(start_desk, connector, database):
    _client, broadcast = await start_desk()

    first, second = await broadcast(), await broadcast()

    assert first != second
    assert (await finished(database, second)).delivered == len(CUSTOMERS)
    assert (await finished(database, first)).delivered == len(CUSTOMERS)
    assert all(
        len(outage_cards(connector, personal_conversation_id(user))) == 2 for user in CUSTOMERS
    )
