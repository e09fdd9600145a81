"""A period against its past: the previous period of the same length, how each figure moved,
and a weekly series over the last twelve weeks."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.config import Organisation
from bot.reports.figures import Figures, StatusMove, SurveyRow, TicketRow, figures
from bot.reports.kpis import TicketFacts, summarise

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
    """Each week's tickets created and resolved, its share within all service levels and its
    CSAT average; every row is put in its week once (by bisection), not looked at per week."""
    zone = organisation.time_zone
    mondays = week_starts(end, zone)
    # In UTC, as the rows' times are: comparing across zones asks each for its offset.
    bounds = [local_midnight(monday, zone).astimezone(UTC) for monday in mondays]
    bounds.append(local_midnight(mondays[-1] + timedelta(days=7), zone).astimezone(UTC))

    def week_of(moment: datetime | None) -> int | None:
        if moment is None:
            return None
        slot = bisect_right(bounds, moment) - 1
        return slot if 0 <= slot < len(mondays) else None

    created: list[list[TicketFacts]] = [[] for _ in mondays]
    resolved = [0] * len(mondays)
    scores: list[list[int]] = [[] for _ in mondays]
    for ticket in tickets:
        if (slot := week_of(ticket.created_at)) is not None:
            created[slot].append(ticket.facts())
        if (slot := week_of(ticket.resolved_at)) is not None:
            resolved[slot] += 1
    for survey in surveys:
        if survey.score is not None and (slot := week_of(survey.answered_at)) is not None:
            scores[slot].append(survey.score)
    weeks = []
    for slot, monday in enumerate(mondays):
        kpis = summarise(
            created[slot], now=now, csat_scores=scores[slot], csat_target=organisation.csat_target
        )
        weeks.append(
            Week(
                start=monday,
                created=kpis.opened,
                resolved=resolved[slot],
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
