"""Which fire of the leader's jobs is due: the working-day digest and the weekly report."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.tickets.calendar import BusinessCalendar
from scheduler.schedules import DaySchedule, Weekly, WorkingDays, due_fire
from scheduler.trigger import ScheduleTrigger

BERLIN = ZoneInfo("Europe/Berlin")
CALENDAR = BusinessCalendar(
    time_zone=BERLIN,
    holidays_country="DE",
    holidays_subdivision="BE",
    closed_dates=frozenset({datetime(2026, 12, 24).date()}),
)
DAILY = WorkingDays(CALENDAR, time(8, 0))
WEEKLY = Weekly(CALENDAR, time(8, 0))
WEDNESDAYS = Weekly(CALENDAR, time(8, 0), weekday=2)


def berlin(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def utc(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# (schedule, now, the fire handled last, the fire due now), each worked out by hand.
CASES = [
    # Started at 08:05 on Tuesday 24 November 2026: today's 08:00 (07:00 UTC) is due.
    ("digest, started at 08:05", DAILY, berlin(11, 24, 8, 5), utc(11, 23, 7), utc(11, 24, 7)),
    ("digest, restarted at 08:10", DAILY, berlin(11, 24, 8, 10), utc(11, 24, 7), None),
    ("digest, never run before", DAILY, berlin(11, 24, 8, 5), None, utc(11, 24, 7)),
    ("digest, before 08:00", DAILY, berlin(11, 24, 7, 59), utc(11, 23, 7), None),
    # Monday's digest was missed; on Tuesday before 08:00 it is not sent late.
    ("digest, yesterday missed", DAILY, berlin(11, 24, 7, 59), utc(11, 20, 7), None),
    ("digest, just after midnight", DAILY, berlin(11, 25, 0, 30), utc(11, 23, 7), None),
    ("digest, Saturday", DAILY, berlin(11, 28, 10), utc(11, 26, 7), None),
    # Christmas Day is a holiday and 24 December is closed: nothing is due on either.
    ("digest, closed 24 Dec", DAILY, berlin(12, 24, 9), utc(12, 23, 7), None),
    ("digest, Christmas Day", DAILY, berlin(12, 25, 9), utc(12, 23, 7), None),
    # Down from Thursday to Monday 09:00: one digest, Monday's, not one per missed day.
    ("digest, after an outage", DAILY, berlin(11, 30, 9), utc(11, 26, 7), utc(11, 30, 7)),
    # Summer time began on Sunday 29 March 2026: 08:00 is 06:00 UTC from Monday on.
    ("digest, first CEST Monday", DAILY, utc(3, 30, 6, 30), utc(3, 27, 7), utc(3, 30, 6)),
    ("digest, CEST before 08:00", DAILY, utc(3, 30, 5, 59), utc(3, 27, 7), None),
    # Summer time ended on Sunday 25 October 2026: 08:00 is 07:00 UTC again.
    ("digest, first CET Monday", DAILY, utc(10, 26, 6, 30), utc(10, 23, 6), None),
    ("digest, CET at 08:00", DAILY, utc(10, 26, 7), utc(10, 23, 6), utc(10, 26, 7)),
    # The weekly report of week 48 fell on Monday 23 November.
    ("weekly, on time", WEEKLY, berlin(11, 23, 8), utc(11, 16, 7), utc(11, 23, 7)),
    ("weekly, Monday missed", WEEKLY, berlin(11, 24, 8, 5), utc(11, 16, 7), utc(11, 23, 7)),
    ("weekly, Friday, missed", WEEKLY, berlin(11, 27, 16), utc(11, 16, 7), utc(11, 23, 7)),
    ("weekly, done this week", WEEKLY, berlin(11, 24, 8, 5), utc(11, 23, 7), None),
    # Never caught up in the next week: Monday 30 November before 08:00.
    ("weekly, next week early", WEEKLY, berlin(11, 30, 7, 30), utc(11, 16, 7), None),
    ("weekly, Sunday is still W48", WEEKLY, berlin(11, 29, 23), utc(11, 16, 7), utc(11, 23, 7)),
    # The DST week: Monday 19 October was CEST (06:00 UTC), Monday 26 October is CET (07:00).
    ("weekly, W43 in CEST", WEEKLY, utc(10, 20, 9), utc(10, 12, 6), utc(10, 19, 6)),
    ("weekly, W44 07:30 CET", WEEKLY, utc(10, 26, 6, 30), utc(10, 19, 6), None),
    ("weekly, W44 08:00 CET", WEEKLY, utc(10, 26, 7), utc(10, 19, 6), utc(10, 26, 7)),
    # Easter Monday (6 April 2026) is a holiday: the report moves to Tuesday.
    ("weekly, Easter Monday", WEEKLY, berlin(4, 6, 10), utc(3, 30, 6), None),
    ("weekly, Easter Tuesday", WEEKLY, berlin(4, 7, 8), utc(3, 30, 6), utc(4, 7, 6)),
    # 2026 has an ISO week 53 (28 Dec – 3 Jan): its report is due until that Sunday, 2027.
    (
        "weekly, W53 across the year",
        WEEKLY,
        berlin(1, 3, 12, year=2027),
        utc(12, 21, 7),
        utc(12, 28, 7),
    ),
    ("weekly on Wednesdays, Tuesday", WEDNESDAYS, berlin(11, 24, 9), utc(11, 18, 7), None),
    ("weekly on Wednesdays, Thursday", WEDNESDAYS, berlin(11, 26, 9), None, utc(11, 25, 7)),
]


@pytest.mark.parametrize(
    ("schedule", "now", "handled", "due"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_latest_unhandled_fire_of_the_period_is_due(
    schedule: DaySchedule, now: datetime, handled: datetime | None, due: datetime | None
) -> None:
    assert due_fire(schedule, now=now, handled=handled) == due


def test_the_trigger_fires_when_the_schedule_says() -> None:
    trigger = ScheduleTrigger(WEEKLY)
    first = trigger.get_next_fire_time(None, berlin(11, 23, 9))
    assert first == berlin(11, 30, 8)
    # After a fire, the next one: week 49's Monday, then week 50's.
    assert trigger.get_next_fire_time(first, first) == berlin(12, 7, 8)
    daily = ScheduleTrigger(DAILY)
    # Wednesday 23 December: the 24th is closed, the 25th and 26th are holidays.
    assert daily.get_next_fire_time(berlin(12, 23, 8), berlin(12, 23, 8)) == berlin(12, 28, 8)
    assert daily.get_next_fire_time(None, berlin(3, 27, 9)) == utc(3, 30, 6)


def test_a_report_day_off_moves_within_its_week_only() -> None:
    sundays = BusinessCalendar(time_zone=BERLIN, working_days=frozenset({6}))
    assert Weekly(sundays, time(8, 0)).fires_on(datetime(2026, 11, 29).date())
    # Mondays only, and the report set for Tuesdays: no week has a day for it.
    mondays = BusinessCalendar(time_zone=BERLIN, working_days=frozenset({0}))
    never = Weekly(mondays, time(8, 0), weekday=1)
    assert never.next_fire(berlin(11, 23, 9)) is None
    assert due_fire(never, now=berlin(11, 24, 9), handled=None) is None
