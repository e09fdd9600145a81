"""Wires APScheduler onto the app's event loop: the sweep everywhere, the lease, the leader's jobs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import Organisation
from bot.coordination import hold_lease
from bot.db import Database
from bot.tickets.sweep import Sweeper

log = logging.getLogger(__name__)

LEADER = "scheduler-leader"
LEASE = timedelta(seconds=60)
RENEW_SECONDS = 20
STOP_GRACE_SECONDS = 10.0


class SchedulerRunner:
    """Runs the sweep on every replica and the cron-like jobs only on the lease holder.

    APScheduler 3 cannot share a job store between processes, so nothing per ticket lives in
    it: due times are rows, and the leader's jobs make their own output idempotent.
    """

    def __init__(
        self,
        *,
        database: Database,
        organisation: Organisation,
        sweeper: Sweeper,
        clock: Callable[[], datetime],
        name: str,
        daily: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._database, self._organisation, self._sweeper = database, organisation, sweeper
        self._clock, self._name, self._daily = clock, name, daily
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()
        self.is_leader = False

    def start(self) -> None:
        timers = self._organisation.timers
        scheduler = AsyncIOScheduler(timezone=self._organisation.time_zone)
        scheduler.add_job(
            self.sweep, "interval", seconds=timers.sweep_seconds, id="sweep",
            coalesce=True, max_instances=1, next_run_time=datetime.now(self._organisation.time_zone),
        )  # fmt: skip
        scheduler.add_job(
            self.renew_lease, "interval", seconds=RENEW_SECONDS, id="lease",
            coalesce=True, max_instances=1, next_run_time=datetime.now(self._organisation.time_zone),
        )  # fmt: skip
        if self._daily is not None:
            working = ",".join(str(day) for day in sorted(self._organisation.calendar.working_days))
            scheduler.add_job(
                self.daily, CronTrigger(day_of_week=working, hour=timers.digest_at.hour,
                minute=timers.digest_at.minute, timezone=self._organisation.time_zone),
                id="daily", coalesce=True, max_instances=1, misfire_grace_time=3600,
            )  # fmt: skip
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        """Stops scheduling and lets a job in flight finish (its transaction must not be cut)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._running:
            await asyncio.wait(set(self._running), timeout=STOP_GRACE_SECONDS)

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def sweep(self) -> None:
        self._track()
        try:
            while await self._sweeper.sweep() >= self._sweeper.batch:
                pass  # a backlog (after downtime) is worked off now, not one batch per interval
        except asyncio.CancelledError:
            # Shutting down past the grace period: the transaction rolls back, the rows stay due.
            log.info("sweep interrupted by shutdown")
        except Exception:  # the next interval tries again; the rows are still due
            log.exception("sweep failed")

    async def renew_lease(self) -> None:
        self._track()
        try:
            async with self._database.transaction() as session:
                held = await hold_lease(
                    session, name=LEADER, holder=self._name, now=self._clock(), ttl=LEASE
                )
        except asyncio.CancelledError:
            # Shutting down: another replica takes the lease over when it lapses.
            log.info("lease renewal interrupted by shutdown")
            held = False
        except Exception:
            log.exception("could not renew the scheduler lease")
            held = False
        if held != self.is_leader:
            log.info("scheduler leadership changed", extra={"leader": held, "replica": self._name})
        self.is_leader = held

    async def daily(self) -> None:
        await self.renew_lease()
        if self.is_leader and self._daily is not None:
            try:
                await self._daily()
            except Exception:
                log.exception("daily job failed")
