"""Tests the business calendar against hand-computed deadlines in Europe/Berlin."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.tickets.calendar import BusinessCalendar
from bot.tickets.durations import Duration, parse_duration

BERLIN = ZoneInfo("Europe/Berlin")


def b(*parts: int) -> datetime:
    """A Berlin wall-clock moment, as written by a person."""
    return datetime(*parts, tzinfo=BERLIN)


def u(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


CALENDARS = {
    "de": BusinessCalendar(time_zone=BERLIN, holidays_country="DE"),
    "bb": BusinessCalendar(time_zone=BERLIN, holidays_country="DE", holidays_subdivision="BB"),
    "by": BusinessCalendar(time_zone=BERLIN, holidays_country="DE", holidays_subdivision="BY"),
    "closed": BusinessCalendar(
        time_zone=BERLIN,
        holidays_country="DE",
        closed_dates=frozenset({date(2026, 6, 12), date(2026, 12, 24), date(2026, 12, 31)}),
    ),
    # 24x7: every day from midnight to midnight, no holidays.
    "always": BusinessCalendar(
        time_zone=BERLIN,
        working_days=frozenset(range(7)),
        day_start=time(0, 0),
        day_end=time(0, 0),
    ),
    # Sunday nights only, so the DST hour (02:00-03:00) falls inside opening hours.
    "night": BusinessCalendar(
        time_zone=BERLIN,
        working_days=frozenset({6}),
        day_start=time(1, 0),
        day_end=time(5, 0),
    ),
}
DE = CALENDARS["de"]

ADD_CASES = [
    # Working days: same time of day N working days later.
    ("wd-monday-10-five-days", "de", b(2026, 6, 8, 10), "5 working days", b(2026, 6, 15, 10)),
    ("wd-one-day", "de", b(2026, 6, 8, 10), "1 working day", b(2026, 6, 9, 10)),
    ("wd-friday-over-weekend", "de", b(2026, 6, 12, 15), "1 working day", b(2026, 6, 15, 15)),
    ("wd-before-opening", "de", b(2026, 6, 9, 6, 30), "5 working days", b(2026, 6, 15, 17)),
    ("wd-after-closing", "de", b(2026, 6, 9, 18), "5 working days", b(2026, 6, 16, 17)),
    ("wd-exactly-at-closing", "de", b(2026, 6, 9, 17), "5 working days", b(2026, 6, 16, 17)),
    ("wd-exactly-at-opening", "de", b(2026, 6, 8, 8), "1 working day", b(2026, 6, 8, 17)),
    ("wd-saturday", "de", b(2026, 6, 13, 11), "5 working days", b(2026, 6, 19, 17)),
    ("wd-sunday-late", "de", b(2026, 6, 14, 23, 59), "5 working days", b(2026, 6, 19, 17)),
    ("wd-on-whit-monday", "de", b(2026, 5, 25, 10), "5 working days", b(2026, 6, 1, 17)),
    ("wd-over-easter", "de", b(2026, 4, 2, 10), "5 working days", b(2026, 4, 13, 10)),
    ("wd-over-ascension", "de", b(2026, 5, 13, 14), "2 working days", b(2026, 5, 18, 14)),
    ("wd-over-labour-day", "de", b(2026, 4, 30, 9), "1 working day", b(2026, 5, 4, 9)),
    ("wd-over-whit-monday", "de", b(2026, 5, 22, 16), "1 working day", b(2026, 5, 26, 16)),
    ("wd-over-christmas", "de", b(2026, 12, 23, 10), "5 working days", b(2026, 12, 31, 10)),
    ("wd-over-new-year", "de", b(2026, 12, 28, 10), "5 working days", b(2027, 1, 5, 10)),
    ("wd-unity-day-2025-friday", "de", b(2025, 10, 2, 10), "1 working day", b(2025, 10, 6, 10)),
    ("wd-unity-day-2026-saturday", "de", b(2026, 10, 2, 10), "1 working day", b(2026, 10, 5, 10)),
    ("wd-reformation-day-bb", "bb", b(2025, 10, 30, 10), "1 working day", b(2025, 11, 3, 10)),
    ("wd-reformation-day-not-de", "de", b(2025, 10, 30, 10), "1 working day", b(2025, 10, 31, 10)),
    ("wd-corpus-christi-by", "by", b(2026, 6, 3, 10), "1 working day", b(2026, 6, 5, 10)),
    ("wd-corpus-christi-not-de", "de", b(2026, 6, 3, 10), "1 working day", b(2026, 6, 4, 10)),
    ("wd-closed-date", "closed", b(2026, 6, 11, 10), "1 working day", b(2026, 6, 15, 10)),
    ("wd-closed-eves", "closed", b(2026, 12, 23, 10), "5 working days", b(2027, 1, 5, 10)),
    # Business hours: only open time counts.
    ("bh-within-day", "de", b(2026, 6, 8, 9), "4 business hours", b(2026, 6, 8, 13)),
    ("bh-overnight", "de", b(2026, 6, 8, 15), "4 business hours", b(2026, 6, 9, 10)),
    ("bh-ends-at-closing", "de", b(2026, 6, 8, 13), "4 business hours", b(2026, 6, 8, 17)),
    ("bh-over-weekend", "de", b(2026, 6, 12, 16), "16 business hours", b(2026, 6, 16, 14)),
    ("bh-before-opening", "de", b(2026, 6, 8, 5), "9 business hours", b(2026, 6, 8, 17)),
    ("bh-saturday", "de", b(2026, 6, 13, 11), "1 business hour", b(2026, 6, 15, 9)),
    ("bh-epiphany-by", "by", b(2026, 1, 5, 12), "8 business hours", b(2026, 1, 7, 11)),
    # Across DST: expectations in UTC make the offset change explicit (CET +1, CEST +2).
    ("bh-dst-spring", "de", b(2026, 3, 27, 15), "4 business hours", u(2026, 3, 30, 8)),
    ("bh-dst-autumn", "de", b(2026, 10, 23, 15), "4 business hours", u(2026, 10, 26, 9)),
    ("wd-dst-spring", "de", b(2026, 3, 27, 10), "1 working day", u(2026, 3, 30, 8)),
    ("wd-dst-autumn", "de", b(2026, 10, 23, 10), "1 working day", u(2026, 10, 26, 9)),
    ("bh-dst-hour-inside-hours", "night", b(2026, 3, 28, 12), "4 business hours", b(2026, 4, 5, 2)),
    (
        "always-24bh-dst-spring",
        "always",
        b(2026, 3, 28, 12),
        "24 business hours",
        u(2026, 3, 29, 11),
    ),
    ("always-wd-dst-spring", "always", b(2026, 3, 28, 12), "1 working day", u(2026, 3, 29, 10)),
    ("always-wd-dst-autumn", "always", b(2026, 10, 24, 12), "1 working day", u(2026, 10, 25, 11)),
    # Wall clock: real elapsed time, whatever the calendar says.
    ("wall-48h-dst-spring", "de", b(2026, 3, 28, 12), "48h", u(2026, 3, 30, 11)),
    ("wall-48h-dst-autumn", "de", b(2026, 10, 24, 12), "48h", u(2026, 10, 26, 10)),
    ("wall-2-days-dst-spring", "de", b(2026, 3, 28, 12), "2 days", u(2026, 3, 30, 11)),
    ("wall-48h-over-weekend", "de", b(2026, 6, 12, 16), "48h", b(2026, 6, 14, 16)),
    ("wall-24h-on-holiday", "de", b(2026, 12, 24, 20), "24h", b(2026, 12, 25, 20)),
    ("wall-30-minutes", "de", b(2026, 6, 8, 16, 45), "30 minutes", b(2026, 6, 8, 17, 15)),
]


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in ADD_CASES],
)
def test_add(calendar: str, start: datetime, duration: str, expected: datetime) -> None:
    result = CALENDARS[calendar].add(start, parse_duration(duration))
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        pytest.param("de", b(2026, 6, 8, 8), True, id="monday-at-opening"),
        pytest.param("de", b(2026, 6, 8, 7, 59, 59), False, id="second-before-opening"),
        pytest.param("de", b(2026, 6, 8, 16, 59), True, id="minute-before-closing"),
        pytest.param("de", b(2026, 6, 8, 17), False, id="at-closing"),
        pytest.param("de", b(2026, 6, 13, 11), False, id="saturday"),
        pytest.param("de", b(2026, 5, 25, 10), False, id="whit-monday"),
        pytest.param("de", u(2026, 3, 27, 15, 30), True, id="cet-16-30"),
        pytest.param("de", u(2026, 3, 30, 6, 30), True, id="cest-08-30"),
        pytest.param("de", u(2026, 3, 30, 15, 30), False, id="cest-17-30"),
        pytest.param("closed", b(2026, 12, 24, 10), False, id="closed-date"),
        pytest.param("always", b(2026, 12, 25, 3), True, id="always-open"),
    ],
)
def test_is_open(calendar: str, at: datetime, expected: bool) -> None:
    assert CALENDARS[calendar].is_open(at) is expected


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        pytest.param("de", date(2026, 4, 6), False, id="easter-monday"),
        pytest.param("de", date(2026, 4, 7), True, id="tuesday-after-easter"),
        pytest.param("de", date(2026, 10, 3), False, id="unity-day-saturday"),
        pytest.param("de", date(2026, 12, 24), True, id="christmas-eve-is-working"),
        pytest.param("de", date(2026, 12, 25), False, id="christmas-day"),
        pytest.param("bb", date(2025, 10, 31), False, id="reformation-day-bb"),
        pytest.param("de", date(2025, 10, 31), True, id="reformation-day-not-national"),
        pytest.param("by", date(2026, 6, 4), False, id="corpus-christi-by"),
        pytest.param("closed", date(2026, 12, 24), False, id="closed-date"),
    ],
)
def test_is_working_day(calendar: str, day: date, expected: bool) -> None:
    assert CALENDARS[calendar].is_working_day(day) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(b(2026, 6, 8, 10, 15), b(2026, 6, 8, 10, 15), id="already-open"),
        pytest.param(b(2026, 6, 8, 6), b(2026, 6, 8, 8), id="before-opening"),
        pytest.param(b(2026, 6, 8, 17), b(2026, 6, 9, 8), id="at-closing"),
        pytest.param(b(2026, 6, 12, 18), b(2026, 6, 15, 8), id="friday-evening"),
        pytest.param(b(2026, 4, 3, 9), b(2026, 4, 7, 8), id="good-friday"),
        pytest.param(b(2026, 12, 24, 18), b(2026, 12, 28, 8), id="christmas-eve-evening"),
        pytest.param(b(2026, 3, 28, 12), u(2026, 3, 30, 6), id="weekend-of-dst-change"),
    ],
)
def test_next_open(at: datetime, expected: datetime) -> None:
    result = DE.next_open(at)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("calendar", "start", "end", "hours"),
    [
        pytest.param("de", b(2026, 6, 8, 9), b(2026, 6, 8, 12), 3, id="same-day"),
        pytest.param("de", b(2026, 6, 8, 16), b(2026, 6, 9, 10), 3, id="overnight"),
        pytest.param("de", b(2026, 6, 12, 16), b(2026, 6, 15, 9), 2, id="over-weekend"),
        pytest.param("de", b(2026, 6, 8), b(2026, 6, 13), 45, id="whole-week"),
        pytest.param("de", b(2026, 4, 2), b(2026, 4, 9), 27, id="easter-week"),
        pytest.param("de", b(2026, 6, 9, 10), b(2026, 6, 8, 16), -3, id="reversed-is-negative"),
        pytest.param("de", b(2026, 6, 13, 1), b(2026, 6, 14, 23), 0, id="weekend-only"),
        pytest.param("night", b(2026, 3, 29), b(2026, 3, 30), 3, id="night-dst-spring"),
        pytest.param("night", b(2026, 10, 25), b(2026, 10, 26), 5, id="night-dst-autumn"),
        pytest.param("always", b(2026, 3, 29), b(2026, 3, 30), 23, id="always-dst-spring"),
        pytest.param("always", b(2026, 10, 25), b(2026, 10, 26), 25, id="always-dst-autumn"),
    ],
)
def test_business_seconds_between(
    calendar: str, start: datetime, end: datetime, hours: int
) -> None:
    assert CALENDARS[calendar].business_seconds_between(start, end) == hours * 3600


def test_add_business_seconds_zero_returns_start() -> None:
    assert DE.add_business_seconds(b(2026, 6, 13, 11), 0) == b(2026, 6, 13, 11)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: DE.is_open(datetime(2026, 6, 8, 10)), id="is_open"),
        pytest.param(lambda: DE.next_open(datetime(2026, 6, 8, 10)), id="next_open"),
        pytest.param(lambda: DE.add(datetime(2026, 6, 8, 10), Duration(1, "hours")), id="add"),
        pytest.param(
            lambda: DE.business_seconds_between(b(2026, 6, 8), datetime(2026, 6, 9)), id="between"
        ),
        pytest.param(lambda: DE.add_business_seconds(b(2026, 6, 8), -1), id="negative-seconds"),
    ],
)
def test_rejects_bad_input(call) -> None:
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"working_days": frozenset()}, id="no-working-days"),
        pytest.param({"working_days": frozenset({7})}, id="weekday-out-of-range"),
        pytest.param({"day_start": time(17), "day_end": time(8)}, id="overnight-hours"),
        pytest.param({"holidays_country": "XX"}, id="unknown-country"),
        pytest.param({"holidays_country": "DE", "holidays_subdivision": "ZZ"}, id="unknown-subdiv"),
        pytest.param({"holidays_subdivision": "BY"}, id="subdivision-without-country"),
    ],
)
def test_rejects_bad_configuration(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(time_zone=BERLIN, **kwargs)  # type: ignore[arg-type]


def test_calendar_with_only_closed_days_fails_instead_of_looping() -> None:
    calendar = BusinessCalendar(
        time_zone=BERLIN,
        working_days=frozenset({0}),
        closed_dates=frozenset(date(2026, 1, 1) + timedelta(days=i) for i in range(3000)),
    )
    with pytest.raises(ValueError, match="no open time"):
        calendar.next_open(b(2026, 1, 1))


# Three years around the DST changes and holidays the table uses.
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(start=instants, smaller=st.integers(1, 120), extra=st.integers(0, 120))
def test_business_add_is_monotonic_in_the_duration(
    start: datetime, smaller: int, extra: int
) -> None:
    for unit in ("hours", "days"):
        short = DE.add(start, Duration(smaller, unit, business=True))  # type: ignore[arg-type]
        long = DE.add(start, Duration(smaller + extra, unit, business=True))  # type: ignore[arg-type]
        assert short <= long


@settings(max_examples=200, deadline=None)
@given(start=instants, hours=st.integers(1, 200))
def test_business_add_lands_in_open_time_and_measures_back(start: datetime, hours: int) -> None:
    due = DE.add(start, Duration(hours, "hours", business=True))
    # Inside open time, or exactly at a closing (a deadline "by 17:00").
    assert DE.is_open(due) or DE.is_open(due - timedelta(microseconds=1))
    assert DE.business_seconds_between(start, due) == hours * 3600


@settings(max_examples=200, deadline=None)
@given(start=instants, days=st.integers(1, 30))
def test_working_days_are_full_business_days(start: datetime, days: int) -> None:
    due = DE.add(start, Duration(days, "days", business=True))
    # 08:00-17:00 in Berlin never touches a DST change, so every working day has 9 hours.
    assert DE.business_seconds_between(start, due) == days * 9 * 3600


@settings(max_examples=100, deadline=None)
@given(start=instants, hours=st.integers(1, 500))
def test_wall_clock_add_is_real_elapsed_time(start: datetime, hours: int) -> None:
    assert DE.add(start, Duration(hours, "hours")) - start == timedelta(hours=hours)
