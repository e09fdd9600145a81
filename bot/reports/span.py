"""The days a report covers, as people write them (2026-11-02..2026-11-04), made into instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import EsmbotError

# A report reads at most a year and its previous period: enough for any question asked of it.
LONGEST = timedelta(days=366)


class SpanError(EsmbotError):
    """The days asked for are not a period: `key` names what is wrong (a phrase of
    commands.report.*), `params` what to say it with."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(f"{key}: {params}")
        self.key, self.params = key, params


@dataclass(frozen=True)
class Span:
    """Whole local days, from the first to the last, as the instants [start, end) in UTC."""

    first: date
    last: date
    start: datetime
    end: datetime


def span(first: date, last: date, zone: ZoneInfo) -> Span:
    """The days from `first` to `last`, both included, in the organisation's zone."""
    if last < first:
        raise SpanError("backwards", first=first.isoformat(), last=last.isoformat())
    if last - first >= LONGEST:
        raise SpanError("too_long", first=first.isoformat(), last=last.isoformat())
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return Span(first, last, start, end)


def read_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise SpanError("bad_day", text=text) from None


def read_span(text: str, zone: ZoneInfo) -> Span:
    """`2026-11-02..2026-11-04`, or one day alone (`2026-11-02`)."""
    first, _, last = text.partition("..")
    return span(read_day(first), read_day(last or first), zone)
