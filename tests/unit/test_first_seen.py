"""Reading "when did you first see it" answers, in English and German, in the customer's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dialogs.first_seen import NotADate, read_first_seen
from bot.tickets.events import day_or_moment

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Wednesday 2026-11-18, 14:00 in Berlin (13:00 UTC).
NOW = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("gerade eben", NOW),
        ("today 9:30", berlin(2026, 11, 18, 9, 30)),
        ("heute um 9.30 Uhr", berlin(2026, 11, 18, 9, 30)),
        ("today", date(2026, 11, 18)),
        ("this morning", berlin(2026, 11, 18, 9, 0)),
        ("heute morgen", berlin(2026, 11, 18, 9, 0)),
        ("yesterday", date(2026, 11, 17)),
        ("Yesterday at 2pm", berlin(2026, 11, 17, 14, 0)),
        ("gestern 16 Uhr", berlin(2026, 11, 17, 16, 0)),
        ("gestern Nachmittag", berlin(2026, 11, 17, 15, 0)),
        ("vorgestern", date(2026, 11, 16)),
        ("the day before yesterday", date(2026, 11, 16)),
        ("2 hours ago", datetime(2026, 11, 18, 11, 0, tzinfo=UTC)),
        ("an hour ago", datetime(2026, 11, 18, 12, 0, tzinfo=UTC)),
        ("vor 3 Tagen", datetime(2026, 11, 15, 13, 0, tzinfo=UTC)),
        ("vor einer Stunde", datetime(2026, 11, 18, 12, 0, tzinfo=UTC)),
        ("2026-11-16", date(2026, 11, 16)),
        ("2026-11-16 08:15", berlin(2026, 11, 16, 8, 15)),
        ("16.11.2026", date(2026, 11, 16)),
        ("16.11.26 10:00", berlin(2026, 11, 16, 10, 0)),
        ("16.11.", date(2026, 11, 16)),
        # A day later in the year than today, without a year, is last year's.
        ("24.12.", date(2025, 12, 24)),
        ("16/11/2026", date(2026, 11, 16)),
        ("16 Nov", date(2026, 11, 16)),
        ("November 16th", date(2026, 11, 16)),
        ("16. November 2026", date(2026, 11, 16)),
        ("am 3. März", date(2026, 3, 3)),
        ("Monday", date(2026, 11, 16)),
        ("am Montag um 11", berlin(2026, 11, 16, 11, 0)),
        ("wednesday 10:00", berlin(2026, 11, 18, 10, 0)),
        ("last Wednesday", date(2026, 11, 11)),
        ("11:45", berlin(2026, 11, 18, 11, 45)),
    ],
)
def test_answers_are_read_in_berlin(text: str, expected: datetime | date) -> None:
    assert read_first_seen(text, now=NOW, zone=BERLIN).at == expected


def test_the_time_zone_is_the_customers() -> None:
    # 9:30 in New York is 14:30 UTC, not 8:30 as in Berlin; and 13:00 UTC is 8:00 there.
    seen = read_first_seen("today 7:30", now=NOW, zone=NEW_YORK).at
    assert seen == datetime(2026, 11, 18, 12, 30, tzinfo=UTC)


def test_us_customers_write_the_month_first() -> None:
    seen = read_first_seen("11/16/2026 9:00", now=NOW, zone=NEW_YORK, month_first=True).at
    assert seen == datetime(2026, 11, 16, 14, 0, tzinfo=UTC)


def test_a_day_without_a_time_is_that_day_and_no_made_up_time() -> None:
    for text in ("yesterday", "gestern", "17.11.", "11/17"):
        seen = read_first_seen(text, now=NOW, zone=NEW_YORK, month_first=text == "11/17")
        assert seen.at == date(2026, 11, 17) and not isinstance(seen.at, datetime)
        assert day_or_moment(seen.stored()) == seen.at
    # Just after midnight in Berlin it is still the day before in New York.
    late = datetime(2026, 11, 18, 23, 30, tzinfo=UTC)
    assert read_first_seen("today", now=late, zone=BERLIN).at == date(2026, 11, 19)
    assert read_first_seen("today", now=late, zone=NEW_YORK).at == date(2026, 11, 18)


@pytest.mark.parametrize("text", ["don't know", "weiß nicht", "Keine Ahnung", "skip"])
def test_not_knowing_is_an_answer(text: str) -> None:
    assert read_first_seen(text, now=NOW, zone=BERLIN).at is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "unreadable"),
        ("when the moon is blue", "unreadable"),
        ("2 screens", "unreadable"),
        ("31.02.2026", "unreadable"),
        ("25:99", "unreadable"),
        ("today 18:00", "future"),
        ("tomorrow", "future"),
        ("tomorrow 9:00", "future"),
        ("morgen", "future"),
        ("next monday", "future"),
        ("2026-12-01", "future"),
        ("01.01.2001", "too_old"),
        ("🔥🔥🔥", "unreadable"),
        ("x" * 20000, "unreadable"),
    ],
)
def test_what_cannot_be_used_says_why(text: str, reason: str) -> None:
    with pytest.raises(NotADate) as raised:
        read_first_seen(text, now=NOW, zone=BERLIN)
    assert raised.value.reason == reason
