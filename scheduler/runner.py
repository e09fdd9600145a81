"""Wires APScheduler onto the app's event loop: the sweep everywhere, the lease, the leader's jobs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Organisation
from bot.coordination import handled_until, hold_lease, record_handled
from bot.db import Database
from bot.tickets.sweep import Sweeper
from scheduler.jobs import DAILY, WEEKLY, LeaderJob
from scheduler.schedules import due_fire
from scheduler.trigger import ScheduleTrigger

log = logging.getLogger(__name__)

LEADER = "scheduler-leader"
LEASE = timedelta(seconds=60)
RENEW_SECONDS = 20
STOP_GRACE_SECONDS = 10.0


class SchedulerRunner:
    """Runs the sweep on every replica and the cron-like jobs only on the lease holder.

    APScheduler 3 cannot share a job store between processes (its persistent stores run a job
    twice or miss it when several schedulers use one), so its store stays in memory and knows
    nothing a restart would lose: due times per ticket are rows, and the last fire each of the
    leader's jobs handled is a coordination row. A leader that starts, takes over or renews its
    lease runs a job whose latest fire passed unhandled within its period (the catch-up), and
    the jobs' dedupe keys keep a run repeated after a crash from writing twice.
    """

    def __init__(
        self,
        *,
        database: Database,
        organisation: Organisation,
        sweeper: Sweeper,
        clock: Callable[[], datetime],
        name: str,
        jobs: Sequence[LeaderJob] = (),
        detector: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._database, self._organisation, self._sweeper = database, organisation, sweeper
        self._detector = detector
        self._clock, self._name = clock, name
        self.jobs = {job.name: job for job in jobs}
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()
        # The lease job's catch-up and a job's own trigger may overlap; one at a time reads
        # and writes the records.
        self._jobs_lock = asyncio.Lock()
        self.is_leader = False
        self._decided = False

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
        if self._detector is not None:
            every = self._organisation.problems.every.total_seconds()
            scheduler.add_job(
                self.detect, "interval", seconds=every, id="detect",
                coalesce=True, max_instances=1,
            )  # fmt: skip
        for job in self.jobs.values():
            # A fire missed by more than the grace here (a blocked loop) is the catch-up's.
            scheduler.add_job(
                self.run_job, ScheduleTrigger(job.schedule), args=[job.name], id=job.name,
                coalesce=True, max_instances=1, misfire_grace_time=3600,
            )  # fmt: skip
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        """Stops scheduling and lets a job in flight finish (its transaction must not be cut)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        # A task that ran a job and now stops the runner (a test, a shutdown hook) must not
        # wait for itself.
        others = self._running - {asyncio.current_task()}
        if others:
            await asyncio.wait(others, timeout=STOP_GRACE_SECONDS)

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

    async def detect(self) -> None:
        """The spike detector, on the lease holder only: one run over the window now."""
        if self._detector is None or not await self._renew():
            return
        self._track()
        try:
            await self._detector()
        except asyncio.CancelledError:
            log.info("spike detection interrupted by shutdown")
        except Exception:  # the next interval looks again; nothing was half-written
            log.exception("spike detection failed")

    async def renew_lease(self) -> None:
        """Takes or renews the lease; the leader then catches up on every job that is due."""
        if await self._renew():
            for job in self.jobs.values():
                await self._run_if_due(job)

    async def run_job(self, name: str) -> None:
        """What a job's trigger calls: the leader runs the job if its fire is still unhandled."""
        job = self.jobs.get(name)
        if job is not None and await self._renew():
            await self._run_if_due(job)

    async def daily(self) -> None:
        await self.run_job(DAILY)

    async def weekly(self) -> None:
        await self.run_job(WEEKLY)

    async def _renew(self) -> bool:
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
        if held != self.is_leader or not self._decided:
            # Who leads at start is routine; a change later (a replica gone) is news.
            level = logging.INFO if self._decided else logging.DEBUG
            log.log(level, "scheduler leadership", extra={"leader": held, "replica": self._name})
        self.is_leader, self._decided = held, True
        return held

    async def _run_if_due(self, job: LeaderJob) -> bool:
        """Runs the job once for its latest unhandled fire, then records that fire as handled."""
        self._track()
        async with self._jobs_lock:
            try:
                async with self._database.transaction() as session:
                    handled = await handled_until(session, name=job.record)
                fire = due_fire(job.schedule, now=self._clock(), handled=handled)
                if fire is None:
                    return False
                log.info("running a leader job", extra={"job": job.name, "fire": fire.isoformat()})
                await job.run(fire)
                async with self._database.transaction() as session:
                    await record_handled(session, name=job.record, moment=fire, holder=self._name)
                return True
            except asyncio.CancelledError:
                # Unrecorded, so the next leader runs it again; its dedupe key stops a double.
                log.info("leader job interrupted by shutdown", extra={"job": job.name})
                return False
            except Exception:  # unrecorded: tried again at the next renewal while still due
                log.exception("leader job failed", extra={"job": job.name})
                return False
