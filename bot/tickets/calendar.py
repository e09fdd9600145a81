"""Owns the business calendar: when the service desk is open, and time arithmetic over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from bot.tickets.durations import Duration

_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0, 0)
# A calendar that stays closed this long is misconfigured; stop instead of looping forever.
_MAX_CLOSED_DAYS = 1000
_WALL_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}


@lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    # Cached at module level because the calendar is frozen and building a year is not free.
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in one time zone, minus weekends, public holidays and extra closed dates.

    Each working day is open over the half-open interval [day_start, day_end) of local wall
    time; day_end of 00:00 means "until midnight", so 00:00-00:00 on all seven days is 24x7.
    """

    time_zone: ZoneInfo
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    day_start: time = time(8, 0)
    day_end: time = time(17, 0)
    holidays_country: str | None = None
    holidays_subdivision: str | None = None
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    # Each day's open interval, worked out once: SLA arithmetic asks for the same days over and
    # over (every deadline and nudge of every ticket walks the coming weeks).
    _days: dict[date, tuple[datetime, datetime] | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Accept any iterable from configuration code but keep the object hashable.
        object.__setattr__(self, "working_days", frozenset(self.working_days))
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        if not self.working_days or not self.working_days <= set(range(7)):
            raise ValueError("working_days must be a non-empty set of weekdays 0 (Mon)..6 (Sun)")
        if self.day_start.tzinfo is not None or self.day_end.tzinfo is not None:
            raise ValueError("day_start and day_end are local wall times without a tzinfo")
        if self.day_end != _MIDNIGHT and self.day_end <= self.day_start:
            raise ValueError("day_end must be after day_start (overnight hours are not supported)")
        if self.holidays_subdivision is not None and self.holidays_country is None:
            raise ValueError("holidays_subdivision needs holidays_country")
        if self.holidays_country is not None:
            # Fail at start-up on a typo in the configuration, not at the first deadline.
            try:
                _public_holidays(self.holidays_country, self.holidays_subdivision, 2000)
            except NotImplementedError as error:
                raise ValueError(f"unknown holiday calendar: {error}") from error

    def is_working_day(self, d: date) -> bool:
        """True when d is a working weekday that is neither a public holiday nor closed."""
        if d.weekday() not in self.working_days or d in self.closed_dates:
            return False
        if self.holidays_country is None:
            return True
        return d not in _public_holidays(self.holidays_country, self.holidays_subdivision, d.year)

    def is_open(self, at: datetime) -> bool:
        """True when the desk is open at the instant at (closing time itself is closed)."""
        instant = _require_aware(at, "at")
        interval = self._interval(instant.astimezone(self.time_zone).date())
        return interval is not None and interval[0] <= instant < interval[1]

    def next_open(self, at: datetime) -> datetime:
        """The first open instant at or after at, in UTC (at itself when open)."""
        instant = _require_aware(at, "at")
        opens, _ = next(self._intervals_from(instant))
        return max(opens, instant)

    def add(self, start: datetime, duration: Duration) -> datetime:
        """The moment duration after start, in UTC.

        Wall-clock durations add real elapsed time ("48h" is 48 real hours, even across a
        DST change). Business hours count only open time, starting at the next opening when
        start is outside it. "N working days" ends at the same time of day N working days
        later; counted from an opening it ends at the closing of the Nth day. A business
        deadline that falls exactly at closing time is reported as the closing time.
        """
        instant = _require_aware(start, "start")
        if duration.amount < 0:
            raise ValueError("duration must not be negative")
        if not duration.business:
            return instant + timedelta(seconds=duration.amount * _WALL_UNITS[duration.unit])
        if duration.unit == "days":
            return self._add_working_days(instant, duration.amount)
        return self.add_business_seconds(instant, duration.amount * _WALL_UNITS[duration.unit])

    def add_business_seconds(self, start: datetime, seconds: float | timedelta) -> datetime:
        """The moment when seconds of open time have elapsed after start, in UTC.

        Zero seconds returns start unchanged; landing exactly at closing returns the closing.
        """
        instant = _require_aware(start, "start")
        remaining = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        if remaining < timedelta(0):
            raise ValueError("seconds must not be negative")
        if not remaining:
            return instant
        for opens, closes in self._intervals_from(instant):
            begin = max(opens, instant)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable: _intervals_from never ends")  # pragma: no cover

    def business_seconds_between(self, start: datetime, end: datetime) -> float:
        """Open time elapsed from start to end, in seconds; negative when end is before start."""
        first = _require_aware(start, "start")
        last = _require_aware(end, "end")
        if last < first:
            return -self.business_seconds_between(last, first)
        total = timedelta(0)
        for opens, closes in self._intervals_from(first):
            if opens >= last:
                break
            total += min(closes, last) - max(opens, first)
        # Summing exact timedeltas and converting once keeps whole-hour results exact.
        return total.total_seconds()

    def _interval(self, d: date) -> tuple[datetime, datetime] | None:
        """The open interval of local date d in UTC, or None when closed all day."""
        if d not in self._days:
            self._days[d] = self._work_out_interval(d)
        return self._days[d]

    def _work_out_interval(self, d: date) -> tuple[datetime, datetime] | None:
        if not self.is_working_day(d):
            return None
        # fold=0: a time skipped by DST maps forward, a repeated time means its first pass.
        opens = datetime.combine(d, self.day_start, tzinfo=self.time_zone).astimezone(UTC)
        end_day = d + _ONE_DAY if self.day_end == _MIDNIGHT else d
        closes = datetime.combine(end_day, self.day_end, tzinfo=self.time_zone).astimezone(UTC)
        return (opens, closes) if opens < closes else None

    def _intervals_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals that end after instant, in order, forever."""
        day = instant.astimezone(self.time_zone).date()
        closed_run = 0
        while True:
            interval = self._interval(day)
            if interval is None:
                closed_run += 1
                if closed_run > _MAX_CLOSED_DAYS:
                    raise ValueError(f"the calendar has no open time after {day.isoformat()}")
            else:
                closed_run = 0
                if interval[1] > instant:
                    yield interval
            day += _ONE_DAY

    def _nth_working_day_after(self, day: date, n: int) -> tuple[datetime, datetime]:
        found = 0
        closed_run = 0
        while True:
            day += _ONE_DAY
            interval = self._interval(day)
            if interval is None:
                closed_run += 1
                if closed_run > _MAX_CLOSED_DAYS:
                    raise ValueError(f"the calendar has no open time after {day.isoformat()}")
                continue
            closed_run = 0
            found += 1
            if found == n:
                return interval

    def _add_working_days(self, instant: datetime, days: int) -> datetime:
        if days == 0:
            return instant
        begin = self.next_open(instant)
        local = begin.astimezone(self.time_zone)
        interval = self._interval(local.date())
        assert interval is not None  # next_open only returns instants inside open intervals
        if begin == interval[0]:
            # Counting from an opening: N full days end at the closing of the Nth day.
            if days == 1:
                return interval[1]
            return self._nth_working_day_after(local.date(), days - 1)[1]
        opens, closes = self._nth_working_day_after(local.date(), days)
        # Same local time of day, as people read "due in 5 working days"; the clamp covers
        # a time of day that a DST change removes from, or pushes out of, the target day.
        target = datetime.combine(
            opens.astimezone(self.time_zone).date(), local.timetz()
        ).astimezone(UTC)
        return min(max(target, opens), closes)
