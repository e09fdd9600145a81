"""The daily digest over the real app: it reaches the management channel, once a day, from one replica."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import SCHEDULER
from bot.demo.activities import channel_conversation_id
from tests.integration.management import (
    MANAGEMENT,
    Clock,
    at,
    boot_fixture,  # noqa: F401 - the fixture
    open_ticket,
    set_up_desk,
    settled,
    walk,
)

AGENTS = channel_conversation_id("agents")
# Monday 23 November 2026, 09:00 in Berlin; the digests fall at 07:00 UTC (08:00 in Berlin).
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def digests(connector: Any) -> list[dict[str, Any]]:
    """The digest cards the management channel received, oldest first."""
    return [
        call.body
        for call in connector.sent(MANAGEMENT)
        if str(call.body.get("summary", "")).startswith("Digest:")
    ]


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
