"""The daily digest over the real app: it reaches the management channel, once a day, from one replica."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SCHEDULER, create_app
from bot.demo.activities import channel_conversation_id, channel_message, installation_update
from bot.notify.dispatcher import DeliverySettings
from bot.notify.models import OutboxMessage
from tests.conftest import DANIELLE, LEARNER

TOKEN = "digest-token"
MANAGEMENT = channel_conversation_id("management")
AGENTS = channel_conversation_id("agents")
# Monday 23 November 2026, 09:00 in Berlin; the digests fall at 07:00 UTC (08:00 in Berlin).
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
QUICK = DeliverySettings(idle_poll=0.05, backoff_base=0.05, backoff_cap=0.2)


class Clock:
    """Wall time the test moves by hand, shared by every replica."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def boot(aiohttp_client, settings, organisation):
    """Starts a replica of the bot on the test's database, with the given clock."""
    secured = dataclasses.replace(settings, api_token=TOKEN)

    async def start(clock: Clock, **options: Any) -> tuple[Any, Any]:
        app = create_app(secured, organisation, clock=clock, delivery=QUICK, **options)
        return app, await aiohttp_client(app)

    return start


async def post(client: Any, path: str, body: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if path == "/api/events" else {}
    response = await client.post(path, json=body, headers=headers)
    assert response.status in (200, 201), await response.text()


async def set_up_desk(client: Any, connector: Any) -> None:
    """Lena has installed the bot; Danielle bound the agents' and the management channel."""
    await post(client, "/api/messages", installation_update(LEARNER, connector.url))
    for audience in ("agents", "management"):
        subscribe = channel_message(
            DANIELLE, f"/subscribe {audience}", connector.url, channel=audience
        )
        await post(client, "/api/messages", subscribe)


async def open_ticket(client: Any, key: str, priority: str, when: datetime) -> None:
    ticket = {"key": key, "summary": f"Checkout fails ({key})", "priority": priority,
              "reporter": {"email": LEARNER.email}}  # fmt: skip
    body = {"id": f"open-{key}", "type": "created", "occurred_at": when.isoformat(),
            "ticket": ticket}  # fmt: skip
    await post(client, "/api/events", body)


def digests(connector: Any) -> list[dict[str, Any]]:
    """The digest cards the management channel received, oldest first."""
    return [
        call.body
        for call in connector.sent(MANAGEMENT)
        if str(call.body.get("summary", "")).startswith("Digest:")
    ]


async def settled(apps: list[Any], within: float = 20.0) -> list[OutboxMessage]:
    """Waits until no outbox row is left to deliver; returns them all."""
    database = apps[0][SCHEDULER]._database
    async with asyncio.timeout(within):
        while True:
            async with database.transaction() as session:
                rows = list((await session.scalars(select(OutboxMessage))).all())
            if all(row.status == "sent" for row in rows):
                return rows
            await asyncio.sleep(0.05)


async def test_the_digest_lands_in_the_management_channel(boot, connector):
    clock = Clock(T0)
    app, client = await boot(clock, schedule=False)
    await set_up_desk(client, connector)
    await open_ticket(client, "OPS-1", "P1", T0)  # 4 h for the first response: missed by Tue
    await open_ticket(client, "OPS-2", "P3", T0)
    await settled([app])

    clock.now = at(24, 7)  # Tuesday 08:00 in Berlin
    await app[SCHEDULER].daily()  # what the cron trigger calls: the leader writes the digest
    await settled([app])

    [card_activity] = digests(connector)
    assert card_activity["summary"] == "Digest: 2 open, 1 overdue, 0 at risk"
    card = card_activity["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    texts = [item["text"] for item in walk(card["body"]) if item.get("type") == "TextBlock"]
    assert "Daily service desk digest" in texts
    assert any(text.startswith("OPS-1 · P1 · Checkout fails") for text in texts)
    assert not any(text.startswith("OPS-2") for text in texts)  # on track: not named
    fact_sets = [
        [(fact["title"], fact["value"]) for fact in item["facts"]]
        for item in walk(card["body"])
        if item.get("type") == "FactSet"
    ]
    by_priority, by_status, flow = fact_sets[:3]
    assert by_priority == [("P1", "1"), ("P3", "1")]
    assert by_status == [("New", "2")]
    assert flow == [("New", "2"), ("Resolved", "0")]  # both opened on Monday, in Berlin
    assert "OPS-1" in card["fallbackText"]


def walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for item in node:
            found += walk(item)
    return found


async def test_the_daily_job_is_scheduled_for_working_days_at_digest_at(boot):
    _app, client = await boot(Clock(T0), dispatch=False)
    job = client.app[SCHEDULER]._scheduler.get_job("daily")

    assert job is not None, "the digest is not wired to the scheduler"
    berlin = client.app[SCHEDULER]._organisation.time_zone

    def next_fire(after: datetime) -> datetime:
        return job.trigger.get_next_fire_time(None, after.astimezone(berlin))

    # 08:00 in Berlin on working days: Friday to Monday, and past Christmas (24 Dec is closed,
    # 25 and 26 are holidays) to Monday 28 December.
    assert next_fire(at(27, 8)) == datetime(2026, 11, 30, 8, 0, tzinfo=berlin)
    assert next_fire(at(27, 6)) == datetime(2026, 11, 27, 8, 0, tzinfo=berlin)
    assert next_fire(datetime(2026, 12, 23, 8, tzinfo=UTC)) == datetime(
        2026, 12, 28, 8, 0, tzinfo=berlin
    )
    weekly = client.app[SCHEDULER]._scheduler.get_job("weekly")
    assert weekly.trigger.get_next_fire_time(None, at(23, 8)) == datetime(
        2026, 11, 30, 8, 0, tzinfo=berlin
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_replicas_post_the_digest_once_a_day_and_every_nudge_once(boot, connector):
    clock = Clock(T0)
    one, client = await boot(clock, schedule=False)
    two, _ = await boot(clock, schedule=False)
    await set_up_desk(client, connector)
    await open_ticket(client, "OPS-1", "P3", T0)
    await settled([one, two])

    # Both replicas sweep every hour and both run the morning job, as their schedulers would.
    while clock.now < at(27, 14):
        clock.now += timedelta(hours=1)
        await asyncio.gather(one[SCHEDULER].sweep(), two[SCHEDULER].sweep())
        if clock.now.hour == 7:
            await asyncio.gather(one[SCHEDULER].daily(), two[SCHEDULER].daily())
            # Whoever holds the lease, the other writes nothing either when it runs the job
            # without one (a lease lost mid-morning, or a restart after 08:00).
            for app in (one, two):
                assert await app[SCHEDULER].jobs["daily"].run(clock.now) is False
        # Delivery takes milliseconds, not the hour the clock jumps: a claim's lease is
        # measured on this clock, so let it finish before time moves on.
        rows = await settled([one, two])

    written = Counter(row.template for row in rows)
    # As in test_sla_sweep: three first-response nudges (Tue 08:00, Tue 20:00, Wed 04:00) and
    # three resolution nudges (Wed 13:00, Thu 15:00, Fri 13:00), and the first-response breach.
    assert written["agents/sla_nudge"] == 6
    assert written["management/sla_breach"] == 1
    assert written["management/digest"] == 4
    assert sorted(r.dedupe_key for r in rows if r.template == "management/digest") == [
        f"digest:2026-11-{day}" for day in (24, 25, 26, 27)
    ]
    assert {row.attempts for row in rows} == {1}  # each row claimed by one replica, once
    assert len(digests(connector)) == 4
    summaries = [str(call.body.get("summary", "")) for call in connector.sent()]
    assert sum("due in" in summary for summary in summaries) == 6  # the nudges
    assert sum(summary.startswith("SLA breach") for summary in summaries) == 1
