"""When the leader's jobs fall due: moments on the business calendar, and the catch-up rule."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.reports.kpis import iso_week
from bot.tickets.calendar import BusinessCalendar

# A calendar with no fire this far either way (every day closed) has nothing to schedule.
_SEARCH_DAYS = 400


@dataclass(frozen=True)
class DaySchedule(ABC):
    """Fires at most once a local day, at a wall time in the calendar's zone.

    A fire stays due until its period ends (the grace): a job whose moment passed while no
    replica ran it is still worth running within that period, and not after.
    """

    calendar: BusinessCalendar
    at: time

    @abstractmethod
    def fires_on(self, day: date) -> bool:
        """Whether the job falls due on this local date."""

    @abstractmethod
    def period(self, moment: datetime) -> str:
        """The name of the period `moment` is in; a fire is only caught up within its own."""

    def fire_on(self, day: date) -> datetime | None:
        """The fire of this local date in UTC; a wall time skipped by DST falls an hour later."""
        if not self.fires_on(day):
            return None
        return datetime.combine(day, self.at, tzinfo=self.calendar.time_zone).astimezone(UTC)

    def next_fire(self, at_or_after: datetime) -> datetime | None:
        """The first fire at or after the instant."""
        day = self._local_day(at_or_after)
        for _ in range(_SEARCH_DAYS):
            fire = self.fire_on(day)
            if fire is not None and fire >= at_or_after:
                return fire
            day += timedelta(days=1)
        return None

    def last_fire(self, now: datetime) -> datetime | None:
        """The most recent fire at or before now."""
        day = self._local_day(now)
        for _ in range(_SEARCH_DAYS):
            fire = self.fire_on(day)
            if fire is not None and fire <= now:
                return fire
            day -= timedelta(days=1)
        return None

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.calendar.time_zone).date()


@dataclass(frozen=True)
class WorkingDays(DaySchedule):
    """Every working day of the calendar (holidays and closed dates skipped); due that day."""

    def fires_on(self, day: date) -> bool:
        return self.calendar.is_working_day(day)

    def period(self, moment: datetime) -> str:
        return self._local_day(moment).isoformat()


@dataclass(frozen=True)
class Weekly(DaySchedule):
    """Once an ISO week: on `weekday`, or the next working day of that week when it is closed.

    A week with no working day from `weekday` on has no fire. The fire stays due for the rest
    of its ISO week.
    """

    weekday: int = 0  # Monday

    def fires_on(self, day: date) -> bool:
        return day == self._day_of_week(day)

    def period(self, moment: datetime) -> str:
        return iso_week(self._local_day(moment))

    def _day_of_week(self, day: date) -> date | None:
        monday = day - timedelta(days=day.weekday())
        for offset in range(self.weekday, 7):
            candidate = monday + timedelta(days=offset)
            if self.calendar.is_working_day(candidate):
                return candidate
        return None


def due_fire(schedule: DaySchedule, *, now: datetime, handled: datetime | None) -> datetime | None:
    """The fire to run now, if any: the latest one at or before now, when it was not handled
    yet and its period has not ended.

    Only the latest fire is ever considered, so several missed fires are coalesced into one
    run, and a fire from an earlier period (yesterday's digest, last week's report) is dropped.
    """
    fire = schedule.last_fire(now)
    if fire is None or (handled is not None and handled >= fire):
        return None
    if schedule.period(fire) != schedule.period(now):
        return None
    return fire
