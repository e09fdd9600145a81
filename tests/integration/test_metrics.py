"""`GET /metrics` over real HTTP: what webhooks and deliveries did, in Prometheus' text format."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.app import METRICS, create_app
from bot.demo.activities import (
    channel_conversation_id,
    channel_message,
    installation_update,
    personal_conversation_id,
)
from bot.directory.models import Conversation
from bot.notify.dispatcher import DeliverySettings
from bot.notify.metrics import Metrics
from bot.notify.models import OutboxMessage
from tests import jira_payloads as jp
from tests.conftest import DANIELLE, LEARNER

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
AGENTS = channel_conversation_id("agents")
LENA_CHAT = personal_conversation_id(LEARNER)
LENA_JIRA = jp.user("Lena Learner", account_id="acc-lena", email=LEARNER.email)
FAST = DeliverySettings(backoff_base=0.05, backoff_cap=0.2, idle_poll=0.05, max_attempts=2)
RECEIVED = "customer/ticket_received"
NEW_TICKET = "agents/new_ticket"


async def set_up(client, connector):
    """Lena's chat known and the agents' channel bound, as in the delivery tests."""
    for activity in (
        installation_update(LEARNER, connector.url),
        channel_message(DANIELLE, "/subscribe agents", connector.url, channel="agents"),
    ):
        assert (await client.post("/api/messages", json=activity)).status == 201
    await connector.wait_for(1, LENA_CHAT)
    await connector.wait_for(1, AGENTS)


@pytest.fixture
async def desk(connector, aiohttp_client, settings, organisation):
    client = await aiohttp_client(create_app(settings, organisation, delivery=FAST))
    await set_up(client, connector)
    return client


async def webhook(client, payload, status=200):
    response = await client.post("/api/events/jira", json=payload)
    assert response.status == status, await response.text()
    return response


async def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample by name and labels, from the text exposition."""
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def message(audience: str, template: str) -> dict[str, str]:
    return {"audience": audience, "template": template}


async def until(probe, within: float = 5.0):
    async with asyncio.timeout(within):
        while True:
            if answer := await probe():
                return answer
            await asyncio.sleep(0.05)


async def test_a_webhook_and_its_deliveries_are_counted(desk, connector):
    await webhook(desk, jp.created(jp.issue("SR-2", reporter=LENA_JIRA), at=T0))
    await connector.wait_for(2, LENA_CHAT)
    await connector.wait_for(2, AGENTS)

    async def settled():
        samples = await scrape(desk)
        return samples if value(samples, "esmbot_outbox_depth") == 0 else None

    samples = await until(settled)

    received = value(samples, "esmbot_webhook_events_total", source="jira", outcome="applied")
    assert received == 1
    for audience, template in (("customer", RECEIVED), ("agents", NEW_TICKET)):
        labels = message(audience, template)
        assert value(samples, "esmbot_notifications_enqueued_total", **labels) == 1
        assert value(samples, "esmbot_notifications_sent_total", **labels) == 1
        assert value(samples, "esmbot_notifications_retried_total", **labels) == 0
        assert value(samples, "esmbot_notifications_failed_total", **labels) == 0
    # The set-up replies were answers in a turn, not outbox deliveries: only the two cards count.
    assert value(samples, "esmbot_teams_responses_total", status="2xx") == 2
    assert value(samples, "esmbot_delivery_latency_seconds_count") == 2
    assert value(samples, "esmbot_delivery_latency_seconds_bucket", le="+Inf") == 2
    assert 0 < value(samples, "esmbot_delivery_latency_seconds_sum") < 10
    assert value(samples, "esmbot_outbox_oldest_pending_age_seconds") == 0


async def test_every_webhook_outcome_is_counted_by_source(desk, connector, settings):
    payload = jp.created(jp.issue("SR-3", reporter=LENA_JIRA), at=T0)
    await webhook(desk, payload)
    await webhook(desk, payload)  # a redelivery
    await webhook(desk, {"webhookEvent": "jira:version_released", "version": {"id": "1"}})
    await webhook(desk, {"issue": {}}, status=400)
    bad_type = await desk.post("/api/events/jira", data="{}", headers={"Content-Type": "text/x"})
    assert bad_type.status >= 400
    switched_off = await desk.post("/api/events", json={"type": "created"})
    assert switched_off.status == 503

    samples = await scrape(desk)

    def events(source: str, outcome: str) -> float:
        return value(samples, "esmbot_webhook_events_total", source=source, outcome=outcome)

    assert events("jira", "applied") == 1
    assert events("jira", "duplicate") == 1
    assert events("jira", "ignored") == 1
    assert events("jira", "rejected") == 2
    assert events("api", "error") == 1  # the event API is not configured: 503
    assert value(samples, "esmbot_notifications_enqueued_total", **message("customer", RECEIVED))


async def test_retries_failures_and_status_codes(desk, connector):
    connector.fail(500, conversation_id=LENA_CHAT)
    await webhook(desk, jp.created(jp.issue("SR-4", reporter=LENA_JIRA), at=T0))
    await connector.wait_for(2, LENA_CHAT, within=5)
    connector.fail(403, conversation_id=LENA_CHAT, code="MessageWritesBlocked")
    await webhook(
        desk,
        jp.comment(
            jp.issue("SR-4", reporter=LENA_JIRA),
            "Which browser?",
            at=T0.replace(minute=5),
            author=jp.user("Alex", account_id="acc-alex"),
        ),
    )

    async def told_the_desk():
        samples = await scrape(desk)
        labels = message("agents", "agents/delivery_failed")
        return samples if value(samples, "esmbot_notifications_sent_total", **labels) else None

    samples = await until(told_the_desk)

    received = message("customer", RECEIVED)
    reply = message("customer", "customer/agent_reply")
    assert value(samples, "esmbot_notifications_retried_total", **received) == 1
    assert value(samples, "esmbot_notifications_sent_total", **received) == 1
    assert value(samples, "esmbot_notifications_failed_total", **reply) == 1
    assert value(samples, "esmbot_notifications_sent_total", **reply) == 0
    # The failure notice to the desk was written by the dispatcher: it counts as enqueued too.
    failed_notice = message("agents", "agents/delivery_failed")
    assert value(samples, "esmbot_notifications_enqueued_total", **failed_notice) == 1
    assert value(samples, "esmbot_teams_responses_total", status="500") == 1
    assert value(samples, "esmbot_teams_responses_total", status="403") == 1
    assert value(samples, "esmbot_teams_responses_total", status="2xx") == 3


async def test_the_outbox_gauges_are_read_at_scrape_time(
    connector, database, aiohttp_client, settings, organisation
):
    client = await aiohttp_client(create_app(settings, organisation, dispatch=False))
    for activity in (
        installation_update(LEARNER, connector.url),
        channel_message(DANIELLE, "/subscribe agents", connector.url, channel="agents"),
    ):
        assert (await client.post("/api/messages", json=activity)).status == 201

    empty = await scrape(client)
    await webhook(client, jp.created(jp.issue("SR-5", reporter=LENA_JIRA), at=T0))
    await asyncio.sleep(0.2)
    waiting = await scrape(client)

    assert value(empty, "esmbot_outbox_depth") == 0
    assert value(empty, "esmbot_outbox_oldest_pending_age_seconds") == 0
    assert value(waiting, "esmbot_outbox_depth") == 2
    assert 0.1 < value(waiting, "esmbot_outbox_oldest_pending_age_seconds") < 30


async def test_each_app_counts_for_itself(
    connector, database, aiohttp_client, settings, organisation
):
    busy = await aiohttp_client(create_app(settings, organisation, dispatch=False))
    quiet = await aiohttp_client(create_app(settings, organisation, dispatch=False))

    await webhook(busy, jp.created(jp.issue("SR-6", reporter=LENA_JIRA), at=T0))

    busy_samples, quiet_samples = await scrape(busy), await scrape(quiet)
    name = "esmbot_webhook_events_total"
    assert value(busy_samples, name, source="jira", outcome="applied") == 1
    assert value(quiet_samples, name, source="jira", outcome="applied") == 0
    assert busy.app[METRICS].registry is not quiet.app[METRICS].registry


async def test_the_counters_survive_a_database_that_cannot_be_read(
    aiohttp_client, settings, organisation, tmp_path
):
    broken = settings.with_database(f"sqlite+aiosqlite:///{tmp_path / 'nowhere' / 'x.db'}")
    client = await aiohttp_client(create_app(broken, organisation, dispatch=False))

    samples = await scrape(client)

    # The gauges go quiet rather than claim an empty outbox; the rest is still served.
    assert ("esmbot_outbox_depth", frozenset()) not in samples
    assert ("esmbot_outbox_oldest_pending_age_seconds", frozenset()) not in samples
    assert value(samples, "esmbot_delivery_latency_seconds_count") == 0
    assert ("esmbot_delivery_latency_seconds_count", frozenset()) in samples


async def test_only_committed_outbox_rows_count_as_enqueued(database, connector):
    metrics = Metrics()
    async with database.transaction() as session:
        tally = metrics.tally(session)
        chat = Conversation(
            conversation_id="a:personal-tally",
            scope="personal",
            service_url=connector.url,
            reference={},
        )
        session.add(chat)
        await session.flush()

        def row(key: str) -> OutboxMessage:
            return OutboxMessage(
                dedupe_key=key,
                conversation_id=chat.id,
                audience="customer",
                template=RECEIVED,
                activity={},
            )

        session.add(row("kept"))
        await session.flush()
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                session.add(row("taken back"))
                await session.flush()
                raise RuntimeError("the event failed")
        session.add(row("flushed at commit"))
    metrics.enqueued(tally.committed())

    assert [r.dedupe_key for r in tally.committed()] == ["kept", "flushed at commit"]
    async with database.transaction() as session:
        stored = (await session.scalars(select(OutboxMessage.dedupe_key))).all()
    assert sorted(stored) == ["flushed at commit", "kept"]
    text = metrics.registry.get_sample_value(
        "esmbot_notifications_enqueued_total", {"audience": "customer", "template": RECEIVED}
    )
    assert text == 2
