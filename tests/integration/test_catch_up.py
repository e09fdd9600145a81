"""A restart neither loses nor doubles the leader's jobs: the catch-up over the real scheduler."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.app import SCHEDULER
from bot.coordination import handled_until
from tests.integration.management import (
    Clock,
    at,
    boot_fixture,  # noqa: F401 - the fixture
    database_of,
    dedupe_keys,
    set_up_desk,
    settled,
)


async def bound_the_evening_before(boot: Any, connector: Any, clock: Clock) -> None:
    """Danielle bound the management channel on Monday evening, on a replica without jobs."""
    _, client = await boot(clock, schedule=False, dispatch=False)
    await set_up_desk(client, connector)


async def start_leader(boot: Any, clock: Clock) -> tuple[Any, Any]:
    """Starts a replica with its scheduler, as `python -m bot serve` does, and waits until it
    has taken the lease and caught up (a second pass waits for the first one to finish)."""
    app, client = await boot(clock)
    async with asyncio.timeout(10):
        while True:
            if app[SCHEDULER].is_leader:
                break
            await asyncio.sleep(0.02)
    await app[SCHEDULER].renew_lease()
    return app, client


def runs_of(caplog: Any, job: str) -> list[str]:
    """The fires the leaders ran `job` for, as their log says."""
    return [
        record.fire
        for record in caplog.records
        if record.getMessage() == "running a leader job" and record.job == job
    ]


async def test_a_bot_started_at_0805_posts_the_days_digest_once(boot, connector, caplog):
    caplog.set_level(logging.INFO, logger="scheduler.runner")
    clock = Clock(at(23, 17))
    await bound_the_evening_before(boot, connector, clock)

    clock.now = at(24, 7, 5)  # Tuesday 08:05 in Berlin: the 08:00 fire passed while down
    first, first_client = await start_leader(boot, clock)
    await settled([first])
    assert await dedupe_keys(first, "digest:") == ["digest:2026-11-24"]

    await first_client.close()  # stopped, and its lease lapses
    clock.now = at(24, 7, 10)  # restarted at 08:10
    second, _ = await start_leader(boot, clock)
    await settled([second])

    assert await dedupe_keys(second, "digest:") == ["digest:2026-11-24"]
    summaries = [str(call.body.get("summary", "")) for call in connector.sent()]
    assert sum(summary.startswith("Digest:") for summary in summaries) == 1
    # The record in the database, not the outbox's dedupe key, kept the second from running it.
    assert runs_of(caplog, "daily") == [at(24, 7).isoformat()]
    async with database_of(second).transaction() as session:
        assert await handled_until(session, name="job:daily") == at(24, 7)


async def test_a_bot_started_the_next_day_does_not_post_yesterdays_digest(boot, connector):
    clock = Clock(at(23, 17))
    await bound_the_evening_before(boot, connector, clock)

    clock.now = at(25, 6, 30)  # down all Tuesday; back on Wednesday at 07:30 in Berlin
    app, _ = await start_leader(boot, clock)
    await settled([app])
    assert await dedupe_keys(app, "digest:") == []

    clock.now = at(25, 7)  # Wednesday's own digest still comes, once
    await app[SCHEDULER].daily()
    await app[SCHEDULER].renew_lease()
    await settled([app])
    assert await dedupe_keys(app, "digest:") == ["digest:2026-11-25"]


async def test_a_weekly_report_missed_on_monday_is_posted_on_tuesday(boot, connector):
    clock = Clock(at(22, 17))  # bound on Sunday evening, down all Monday
    await bound_the_evening_before(boot, connector, clock)

    clock.now = at(24, 9)  # Tuesday 10:00 in Berlin
    app, _ = await start_leader(boot, clock)
    await settled([app])
    assert await dedupe_keys(app, "weekly:") == ["weekly:2026-W48"]
    # The catch-up also posted Tuesday's digest; Monday's is gone for good.
    assert await dedupe_keys(app, "digest:") == ["digest:2026-11-24"]
    await app[SCHEDULER].weekly()  # its trigger firing later that week: nothing more
    assert await dedupe_keys(app, "weekly:") == ["weekly:2026-W48"]


async def test_a_weekly_report_missed_all_week_is_not_posted_the_next_week(boot, connector):
    clock = Clock(at(22, 17))
    await bound_the_evening_before(boot, connector, clock)

    clock.now = at(30, 6, 30)  # down from Sunday to the next Monday, 07:30 in Berlin
    app, _ = await start_leader(boot, clock)
    await settled([app])
    assert await dedupe_keys(app, "weekly:") == []

    clock.now = at(30, 7)  # 08:00: this week's report, which covers the week that was missed
    await app[SCHEDULER].renew_lease()
    await settled([app])
    assert await dedupe_keys(app, "weekly:") == ["weekly:2026-W49"]
