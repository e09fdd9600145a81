"""An APScheduler trigger that fires when a schedule of ours does, so both read one rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from scheduler.schedules import DaySchedule


class ScheduleTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no types
    """Fires at the schedule's moments; the catch-up after a restart asks the same schedule."""

    __slots__ = ("schedule",)

    def __init__(self, schedule: DaySchedule) -> None:
        self.schedule = schedule

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        start = (
            now if previous_fire_time is None else previous_fire_time + timedelta(microseconds=1)
        )
        fire = self.schedule.next_fire(start)
        return None if fire is None else fire.astimezone(self.schedule.calendar.time_zone)

    def __str__(self) -> str:
        return f"{type(self.schedule).__name__.lower()} at {self.schedule.at:%H:%M}"
