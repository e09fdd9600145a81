"""Dates, numbers, plurals and durations in a language's own conventions, from CLDR through Babel."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.units import format_unit

# The units a duration is told in, largest first, as CLDR names them.
_UNITS = (("duration-day", 24 * 60), ("duration-hour", 60), ("duration-minute", 1))


@lru_cache(maxsize=64)
def cldr_locale(language: str) -> Locale | None:
    """CLDR's data for a language code ("de", "pt_BR"), or None if CLDR does not know it."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None


@lru_cache(maxsize=64)
def standard_patterns(locale: Locale) -> tuple[str, str]:
    """CLDR's own patterns for a weekday with its date, and for that with the time and zone:
    what a language without patterns of its own in its words file is written in."""
    day = locale.datetime_skeletons["yMMMEd"].pattern
    time = locale.datetime_skeletons["Hm"].pattern
    return day, locale.datetime_formats["medium"].replace("{1}", day).replace("{0}", time) + " (VV)"


def instant(value: datetime, pattern: str, zone: ZoneInfo, locale: Locale) -> str:
    """An instant in the reader's zone, written with a CLDR pattern ("EEE d MMM y, HH:mm")."""
    return format_datetime(value, pattern, tzinfo=zone, locale=locale)


def day(value: date, pattern: str, locale: Locale) -> str:
    """A calendar day, written with a CLDR date pattern ("EEE d MMM y")."""
    return format_date(value, pattern, locale=locale)


def number(value: float | int | Decimal, digits: int | None, locale: Locale) -> str:
    """A number with the language's decimal sign and grouping; `digits` fixes the decimals."""
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, pattern, locale=locale)  # type: ignore[no-any-return]  # stubs omit its str


def duration(value: timedelta, locale: Locale, *, days: bool = True) -> str | None:
    """The two largest units of a span ("2 Std. 15 Min."), or None for less than a minute.

    Working time is told without days (`days=False`): a working day is not 24 hours.
    """
    minutes = int(abs(value).total_seconds()) // 60
    amounts = []
    for unit, size in _UNITS if days else _UNITS[1:]:
        amount, minutes = divmod(minutes, size)
        amounts.append((amount, unit))
    while amounts and amounts[0][0] == 0:
        amounts.pop(0)
    # Two neighbouring units say enough: "2 hr 15 min", "3 days 4 hr".
    told = [
        format_unit(amount, unit, length="short", locale=locale)
        for amount, unit in amounts[:2]
        if amount
    ]
    return " ".join(told) or None


def listing(items: list[str], style: str, locale: Locale) -> str:
    """Items joined as the language joins them: "a, b and c", or with "or" (`style="or"`)."""
    return format_list(items, style=style, locale=locale)  # type: ignore[arg-type]  # stubs: a literal
