"""Reads when a customer first saw a problem ("today 9:30", "gestern", "20.11.") in their time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Clocks drift and people round: "now" typed a minute late is not the future.
FUTURE_SLACK = timedelta(minutes=10)
# Older than this is almost certainly a typo in the year.
OLDEST = timedelta(days=5 * 366)

_MONTHS = {
    **{name: n for n, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)},
    **{name: n for n, name in enumerate(
        ("januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september",
         "oktober", "november", "dezember"), 1)},
    "jän": 1, "mär": 3, "maerz": 3, "okt": 10, "dez": 12, "sept": 9,
}  # fmt: skip
_WEEKDAYS = {
    **{name: n for n, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday",
                                          "saturday", "sunday"))},
    **{name: n for n, name in enumerate(("montag", "dienstag", "mittwoch", "donnerstag", "freitag",
                                          "samstag", "sonntag"))},
    **{name: n for n, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
}  # fmt: skip
_NOW = {"now", "just now", "right now", "jetzt", "gerade", "gerade eben", "eben", "soeben"}
_UNKNOWN = {
    "don't know", "dont know", "do not know", "not sure", "unknown", "no idea", "skip", "?",
    "weiß nicht", "weiss nicht", "keine ahnung", "unbekannt", "überspringen", "-",
}  # fmt: skip
_DAY_WORDS = {
    "today": 0, "heute": 0, "yesterday": 1, "gestern": 1,
    "day before yesterday": 2, "the day before yesterday": 2, "vorgestern": 2,
}  # fmt: skip
_PARTS_OF_DAY = {
    "morning": time(9), "this morning": time(9), "morgen": time(9), "früh": time(8),
    "vormittag": time(10), "noon": time(12), "mittag": time(12), "afternoon": time(15),
    "nachmittag": time(15), "evening": time(19), "abend": time(19), "night": time(22),
    "nacht": time(22),
}  # fmt: skip
_UNITS = {
    "minute": "minutes", "minutes": "minutes", "min": "minutes", "mins": "minutes",
    "minuten": "minutes", "hour": "hours", "hours": "hours", "h": "hours", "stunde": "hours",
    "stunden": "hours", "std": "hours", "day": "days", "days": "days", "tag": "days",
    "tagen": "days", "week": "weeks", "weeks": "weeks", "woche": "weeks", "wochen": "weeks",
}  # fmt: skip
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "einer": 1, "einem": 1, "ein": 1, "two": 2,
                 "zwei": 2, "three": 3, "drei": 3, "few": 3, "paar": 3}  # fmt: skip

_TIME = re.compile(
    r"(?:\b(?:at|um|gegen|around|ca\.?)\s+)?\b(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|uhr|h)?\b"
)
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DOTTED = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{2,4})?")
_SLASHED = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
_NAMED = re.compile(
    r"\b(\d{1,2})\.?\s+([a-zä]{3,9})\.?(?:\s+(\d{4}))?\b|\b([a-zä]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b"
)
_FUTURE = re.compile(
    r"\b(tomorrow|übermorgen|next|nächste[nrs]?|in \d+ (?:days?|hours?|tagen|stunden))\b"
)
_AGO = re.compile(r"\b(\d+|[a-z]+)\s+([a-z]+)\s+ago\b|\bvor\s+(\d+|[a-z]+)\s+([a-z]+)\b")


class NotADate(ValueError):
    """The answer could not be read as a moment; `reason` names which phrase explains why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "unreadable", "future" or "too_old"


@dataclass(frozen=True)
class FirstSeen:
    """A reading of the answer: the moment, the day when no time was named ("yesterday"), or
    None when the customer does not know."""

    at: datetime | date | None

    def stored(self) -> str | None:
        """As the dialog keeps it: an ISO date-time, or an ISO date (read by day_or_moment)."""
        return self.at.isoformat() if self.at else None


def read_first_seen(
    text: str, *, now: datetime, zone: ZoneInfo, month_first: bool = False
) -> FirstSeen:
    """The moment `text` names, in UTC; raises NotADate saying why it cannot be used.

    A day named without a time ("yesterday", "20.11.") is that day, not a moment made up
    inside it; `month_first` reads 11/20 as 20 November (en-US) instead of 11 February.
    """
    words = " ".join(text.lower().replace(",", " ").split()).strip(" !")
    if not words:
        raise NotADate("unreadable")
    if words in _UNKNOWN:
        return FirstSeen(None)
    local_now = now.astimezone(zone)
    if _FUTURE.search(words) or (
        re.search(r"\bmorgen\b", words) and not re.search(r"\b(heute|gestern|vorgestern)\b", words)
    ):
        raise NotADate("future")  # "morgen" alone is tomorrow; "heute morgen" this morning
    if words in _NOW:
        return FirstSeen(now)
    moment = _relative(words, now) or _absolute(words, local_now, zone, month_first)
    if moment is None:
        raise NotADate("unreadable")
    if isinstance(moment, datetime):
        if moment > now + FUTURE_SLACK:
            raise NotADate("future")
        if moment < now - OLDEST:
            raise NotADate("too_old")
        return FirstSeen(moment.astimezone(ZoneInfo("UTC")))
    if moment > local_now.date():
        raise NotADate("future")
    if moment < (local_now - OLDEST).date():
        raise NotADate("too_old")
    return FirstSeen(moment)


def _relative(words: str, now: datetime) -> datetime | None:
    match = _AGO.search(words)
    if match is None:
        return None
    amount_text, unit_text = (match[1], match[2]) if match[1] else (match[3], match[4])
    amount = int(amount_text) if amount_text.isdigit() else _NUMBER_WORDS.get(amount_text)
    unit = _UNITS.get(unit_text)
    if amount is None or unit is None:
        return None
    return now - timedelta(**{unit: amount})


def _absolute(
    words: str, local_now: datetime, zone: ZoneInfo, month_first: bool
) -> datetime | date | None:
    day, rest = _day(words, local_now.date(), month_first)
    at = _time_of_day(rest) or _part_of_day(rest)
    if at is None:
        return day
    if day is None:
        day = local_now.date()  # "9:30" or "this morning" alone means today
    return datetime.combine(day, at, tzinfo=zone)


def _day(words: str, today: date, month_first: bool) -> tuple[date | None, str]:
    """The day named in `words`, and the words left over for the time of day."""
    for phrase in sorted(_DAY_WORDS, key=len, reverse=True):
        if re.search(rf"\b{phrase}\b", words):
            return today - timedelta(days=_DAY_WORDS[phrase]), re.sub(rf"\b{phrase}\b", " ", words)
    if match := _ISO.search(words):
        return _safe_date(int(match[1]), int(match[2]), int(match[3])), _cut(words, match)
    if match := _DOTTED.search(words):
        found = _dated(today, int(match[1]), int(match[2]), match[3])
        return found, _cut(words, match)
    if match := _SLASHED.search(words):
        first, second = int(match[1]), int(match[2])
        day, month = (second, first) if month_first else (first, second)
        return _dated(today, day, month, match[3]), _cut(words, match)
    for match in _NAMED.finditer(words):
        if match[1]:
            number, month_name, year = match[1], match[2], match[3]
        else:
            month_name, number, year = match[4], match[5], match[6]
        named = _MONTHS.get(month_name) or _MONTHS.get(month_name[:3])
        if named is not None:
            return _dated(today, int(number), named, year), _cut(words, match)
    for name, weekday in _WEEKDAYS.items():
        if re.search(rf"\b{name}\b", words):
            back = (today.weekday() - weekday) % 7
            if re.search(r"\b(last|letzten|vergangenen)\b", words) and back == 0:
                back = 7
            return today - timedelta(days=back), re.sub(rf"\b{name}\b", " ", words)
    return None, words


def _dated(today: date, day: int, month: int, year_text: str | None) -> date | None:
    if year_text:
        year = int(year_text)
        year = year + 2000 if year < 100 else year
        return _safe_date(year, month, day)
    found = _safe_date(today.year, month, day)
    if found is not None and found > today:
        # "20.12." said in January is last December.
        found = _safe_date(today.year - 1, month, day)
    return found


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _cut(words: str, match: re.Match[str]) -> str:
    return words[: match.start()] + " " + words[match.end() :]


def _time_of_day(words: str) -> time | None:
    for match in _TIME.finditer(words):
        hour, minute, suffix = int(match[1]), int(match[2] or 0), match[3]
        if match[2] is None and suffix is None and not match[0].strip().startswith(("at", "um")):
            continue  # a bare number is not a time ("2 screens")
        if suffix == "pm" and hour < 12:
            hour += 12
        elif suffix == "am" and hour == 12:
            hour = 0
        if hour < 24 and minute < 60:
            return time(hour, minute)
    return None


def _part_of_day(words: str) -> time | None:
    for phrase in sorted(_PARTS_OF_DAY, key=len, reverse=True):
        if re.search(rf"\b{phrase}\b", words):
            return _PARTS_OF_DAY[phrase]
    return None
