"""`GET /metrics` over real HTTP: what webhooks and deliveries did, in Prometheus' text format."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot.app import METRICS, SCHEDULER, TEMPLATES, create_app
from bot.db import utcnow
from bot.demo.activities import (
    channel_conversation_id,
    channel_message,
    installation_update,
    personal_conversation_id,
    personal_message,
)
from bot.directory.models import Conversation
from bot.notify.compose import Notifier
from bot.notify.dispatcher import DeliverySettings
from bot.notify.metrics import Metrics
from bot.notify.models import OutboxMessage
from bot.notify.render import Renderer
from tests import jira_payloads as jp
from tests.conftest import ALEX, DANIELLE, LEARNER
from tests.integration.desk import Clock

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

    async def aged():
        samples = await scrape(client)
        return samples if value(samples, "esmbot_outbox_oldest_pending_age_seconds") > 0.1 else None

    waiting = await until(aged)  # the age is read at scrape time: it grows while nothing is sent

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

    def counted() -> float | None:
        labels = {"audience": "customer", "template": RECEIVED}
        return metrics.registry.get_sample_value("esmbot_notifications_enqueued_total", labels)

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
        assert metrics.tally(session) is tally  # one tally per session, whoever asks
        assert counted() is None  # nothing counts before the commit

    assert counted() == 2
    assert [r.dedupe_key for r in tally.committed()] == ["kept", "flushed at commit"]
    metrics.enqueued(tally.committed())  # reported again after the commit: still counted once
    assert counted() == 2
    async with database.transaction() as session:
        stored = (await session.scalars(select(OutboxMessage.dedupe_key))).all()
    assert sorted(stored) == ["flushed at commit", "kept"]


def enqueued(samples) -> Counter[tuple[str, str]]:
    """The enqueued counter by (audience, template)."""
    found: Counter[tuple[str, str]] = Counter()
    for (name, labels), count in samples.items():
        if name == "esmbot_notifications_enqueued_total":
            found[dict(labels)["audience"], dict(labels)["template"]] += int(count)
    return found


async def last_row(database) -> int:
    async with database.transaction() as session:
        return await session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))


async def written_after(database, row_id: int) -> Counter[tuple[str, str]]:
    """The outbox rows stored since `row_id`, by (audience, template)."""
    async with database.transaction() as session:
        found = await session.execute(
            select(OutboxMessage.audience, OutboxMessage.template).where(OutboxMessage.id > row_id)
        )
        return Counter(tuple(row) for row in found)


async def moved_by(client, before, expected: Counter) -> Counter[tuple[str, str]]:
    """How far the counter moved since `before`, given a moment to reach `expected`."""
    for _ in range(50):
        moved = enqueued(await scrape(client)) - enqueued(before)
        if moved == expected:
            break
        await asyncio.sleep(0.02)
    return moved


async def test_what_ticket_actions_write_is_counted(desk, connector, database):
    # Opened a minute ago by the app's own clock, so the ack comes after it.
    opened = utcnow() - timedelta(minutes=1)
    await webhook(desk, jp.created(jp.issue("SR-30", reporter=LENA_JIRA), at=opened))
    await connector.wait_for(2, LENA_CHAT)
    before, since = await scrape(desk), await last_row(database)

    ack = channel_message(ALEX, "/ack SR-30", connector.url, channel="agents")
    assert (await desk.post("/api/messages", json=ack)).status == 201
    written = await until(lambda: written_after(database, since))

    assert written[("customer", "customer/being_worked_on")] == 1
    assert await moved_by(desk, before, written) == written


async def test_what_the_sweep_writes_is_counted(
    connector, database, aiohttp_client, settings, organisation
):
    clock = Clock(T0)
    client = await aiohttp_client(
        create_app(settings, organisation, clock=clock, dispatch=False, schedule=False)
    )
    await set_up(client, connector)
    await webhook(client, jp.created(jp.issue("SR-31", reporter=LENA_JIRA), at=T0))
    before, since = await scrape(client), await last_row(database)

    clock.now = T0 + timedelta(hours=25)  # half of the 48 h to the first response is gone
    await client.app[SCHEDULER].sweep()

    written = await written_after(database, since)
    assert written[("agents", "agents/sla_nudge")] == 1
    assert await moved_by(client, before, written) == written


async def test_every_recipient_of_a_broadcast_is_counted(desk, connector, database):
    before, since = await scrape(desk), await last_row(database)

    outage = personal_message(DANIELLE, "/outage 2099-12-01 22:00 2h Upgrade", connector.url)
    assert (await desk.post("/api/messages", json=outage)).status == 201
    written = await until(lambda: written_after(database, since))

    assert written[("customer", "customer/planned_outage")] == 1  # Lena; staff are not told
    assert await moved_by(desk, before, written) == written


async def test_rows_written_as_values_count_only_once_their_transaction_commits(
    database, connector, organisation
):
    metrics = Metrics()
    notifier = Notifier(
        Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone),
        organisation,
        metrics=metrics,
    )
    labels = {"audience": "customer", "template": "customer/planned_outage"}

    def counted() -> float | None:
        return metrics.registry.get_sample_value("esmbot_notifications_enqueued_total", labels)

    def values(key: str, chat: int) -> dict:
        now = utcnow()
        return {
            **labels,
            "dedupe_key": key,
            "conversation_id": chat,
            "activity": {},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }

    async with database.transaction() as session:
        chat = Conversation(
            conversation_id="a:personal-values", scope="personal", service_url="", reference={}
        )
        session.add(chat)
        await session.flush()
        await notifier.insert(session, [values("a", chat.id), values("b", chat.id)])
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await notifier.insert(session, [values("taken back", chat.id)])
                raise RuntimeError("the savepoint is rolled back")
        assert counted() is None  # nothing is counted before the commit
    assert counted() == 2
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await notifier.insert(session, [values("rolled back", chat.id)])
            raise RuntimeError("the transaction is rolled back")
    assert counted() == 2
