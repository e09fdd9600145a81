"""The leader's periodic jobs: what each one runs, when it falls due, and where its record is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Organisation
from scheduler.schedules import DaySchedule, Weekly, WorkingDays

DAILY = "daily"
WEEKLY = "weekly"

# Called with the fire it is for; True when it wrote something. It must be idempotent (its
# outbox rows carry a dedupe key of the fire's period): a leader that stops between the run
# and the record runs it again.
JobRun = Callable[[datetime], Awaitable[bool]]


@dataclass(frozen=True)
class LeaderJob:
    """A cron-like job that only the lease holder runs, and runs once per fire."""

    name: str
    schedule: DaySchedule
    run: JobRun

    @property
    def record(self) -> str:
        """The coordination row holding the last fire this job handled."""
        return f"job:{self.name}"


def leader_jobs(
    organisation: Organisation, *, daily: JobRun | None, weekly: JobRun | None
) -> tuple[LeaderJob, ...]:
    """The daily digest on working days and the weekly report, at the times esmbot.toml sets."""
    timers, calendar = organisation.timers, organisation.calendar
    jobs = []
    if daily is not None:
        jobs.append(LeaderJob(DAILY, WorkingDays(calendar, timers.digest_at), daily))
    if weekly is not None:
        schedule = Weekly(calendar, timers.weekly_time, weekday=timers.weekly_report_on)
        jobs.append(LeaderJob(WEEKLY, schedule, weekly))
    return tuple(jobs)
