"""A period against its past: the previous period of the same length, how each figure moved,
and a weekly series over the last twelve weeks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.config import Organisation
from bot.reports.figures import Figures, StatusMove, SurveyRow, TicketRow, figures, within
from bot.reports.kpis import summarise

SERIES_WEEKS = 12
Direction = Literal["up", "down", "same", "new"]


@dataclass(frozen=True)
class Change:
    """A figure beside its value in the previous period of the same length."""

    name: str
    now: float | None
    before: float | None
    direction: Direction
    better: bool | None  # None when the direction says nothing good or bad (or nothing moved)


@dataclass(frozen=True)
class Week:
    """One point of the weekly series."""

    start: date  # its Monday, local
    created: int
    resolved: int
    within_sla: float | None
    csat_average: float | None


@dataclass(frozen=True)
class Report:
    """The period, the one before it, how each figure moved and the last twelve weeks."""

    current: Figures
    previous: Figures
    changes: tuple[Change, ...]
    weeks: tuple[Week, ...]


# Whether a rise of each compared figure is good news (True), bad news (False) or neither.
COMPARED: Mapping[str, bool | None] = {
    "created": None,
    "resolved": True,
    "closed": True,
    "within_sla": True,
    "breaches": False,
    "close_median_hours": False,
    "close_p90_hours": False,
    "interactions": False,
    "not_solved": False,
    "first_contact": True,
    "csat_average": True,
    "csat_response_rate": True,
}


def compared_values(figures: Figures) -> dict[str, float | None]:
    """The figures a report sets beside the previous period's, by name (shares as 0–1)."""
    return {
        "created": figures.created.total,
        "resolved": figures.resolved.total,
        "closed": figures.closed.total,
        "within_sla": figures.kpis.within_sla,
        "breaches": len(figures.breaches),
        "close_median_hours": figures.close_calendar.median_hours,
        "close_p90_hours": figures.close_calendar.p90_hours,
        "interactions": figures.kpis.mean_interactions,
        "not_solved": figures.not_solved_share,
        "first_contact": figures.first_contact_share,
        "csat_average": figures.csat.average,
        "csat_response_rate": figures.csat.response_rate,
    }


def changes(current: Figures, previous: Figures) -> tuple[Change, ...]:
    now, before = compared_values(current), compared_values(previous)
    return tuple(_change(name, now[name], before[name]) for name in COMPARED)


def _change(name: str, now: float | None, before: float | None) -> Change:
    if now is None or before is None:
        return Change(name, now, before, "new", None)
    if math.isclose(now, before):
        return Change(name, now, before, "same", None)
    direction: Direction = "up" if now > before else "down"
    good = COMPARED[name]
    return Change(name, now, before, direction, None if good is None else good == (now > before))


def week_starts(end: datetime, zone: ZoneInfo, count: int = SERIES_WEEKS) -> list[date]:
    """The Mondays of the `count` weeks up to and including the one the period ends in."""
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    monday = last - timedelta(days=last.weekday())
    return [monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def weekly_series(
    tickets: Sequence[TicketRow],
    surveys: Sequence[SurveyRow],
    *,
    end: datetime,
    now: datetime,
    organisation: Organisation,
) -> tuple[Week, ...]:
    zone = organisation.time_zone
    weeks = []
    for monday in week_starts(end, zone):
        start = local_midnight(monday, zone)
        stop = local_midnight(monday + timedelta(days=7), zone)
        created = [t.facts() for t in tickets if start <= t.created_at < stop]
        scores = [
            s.score for s in surveys if s.score is not None and within(s.answered_at, start, stop)
        ]
        kpis = summarise(created, now=now, csat_scores=scores, csat_target=organisation.csat_target)
        weeks.append(
            Week(
                start=monday,
                created=kpis.opened,
                resolved=sum(1 for t in tickets if within(t.resolved_at, start, stop)),
                within_sla=kpis.within_sla,
                csat_average=kpis.csat_average,
            )
        )
    return tuple(weeks)


def report(
    tickets: Sequence[TicketRow],
    moves: Sequence[StatusMove],
    surveys: Sequence[SurveyRow],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    organisation: Organisation,
) -> Report:
    """The period's figures, the previous period's (of the same length, just before) and the
    weekly series; the rows must reach back to the earlier of the two beginnings."""
    current = figures(
        tickets, moves, surveys, start=start, end=end, now=now, organisation=organisation
    )
    before = start - (end - start)
    previous = figures(
        tickets, moves, surveys, start=before, end=start, now=now, organisation=organisation
    )
    return Report(
        current=current,
        previous=previous,
        changes=changes(current, previous),
        weeks=weekly_series(tickets, surveys, end=end, now=now, organisation=organisation),
    )


def reach_back(start: datetime, end: datetime, zone: ZoneInfo) -> datetime:
    """The earliest moment a report of [start, end) reads: the previous period or the series."""
    series = local_midnight(week_starts(end, zone)[0], zone)
    return min(start - (end - start), series)
