"""The service desk's numbers of any period, as pure functions over ticket, status and survey rows.

The KPIs of `bot/reports/kpis.py` describe the tickets opened in the period; this module adds
what the monitoring report needs beside them: what was resolved and closed in the period, the
time to close, the time in each stage from the status history, the survey response rate and
the tickets created each day. `bot/reports/trends.py` sets them beside the previous period's.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from bot.config import Organisation
from bot.reports.kpis import Kpis, TicketFacts, breaches_of, counted, summarise
from bot.reports.service_levels import ServiceLevels, service_levels
from bot.tickets.lifecycle import Status

# The stages the desk reports on, and the statuses that count as each.
STAGES = ("new", "in_progress", "waiting_for_customer", "waiting_for_vendor")
STAGE_OF: Mapping[str, str] = {
    Status.NEW: "new",
    Status.ACKNOWLEDGED: "in_progress",
    Status.IN_PROGRESS: "in_progress",
    Status.REOPENED: "in_progress",
    Status.WAITING_FOR_CUSTOMER: "waiting_for_customer",
    Status.WAITING_FOR_VENDOR: "waiting_for_vendor",
}
SCORES = (1, 2, 3, 4)


@dataclass(frozen=True)
class TicketRow:
    """The columns of one ticket that the figures read."""

    id: int
    key: str
    type: str
    module: str | None
    priority: str
    status: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    vendor_escalation_due: datetime | None
    vendor_escalated_at: datetime | None
    paused_since: datetime | None
    reopen_count: int
    interactions: int
    owner: str | None
    lowest_score: int | None

    def facts(self) -> TicketFacts:
        """The same ticket as the KPIs read it."""
        return TicketFacts(
            type=self.type,
            priority=self.priority,
            status=self.status,
            created_at=self.created_at,
            first_response_at=self.first_response_at,
            resolved_at=self.resolved_at,
            first_response_due=self.first_response_due,
            resolution_due=self.resolution_due,
            vendor_escalation_due=self.vendor_escalation_due,
            vendor_escalated_at=self.vendor_escalated_at,
            paused_since=self.paused_since,
            reopen_count=self.reopen_count,
            owner=self.owner,
            interactions=self.interactions,
            lowest_score=self.lowest_score,
        )


@dataclass(frozen=True)
class StatusMove:
    """One line of a ticket's status history: at `at` it moved to `to`."""

    ticket_id: int
    at: datetime
    to: str


@dataclass(frozen=True)
class SurveyRow:
    """One CSAT survey: when it was sent and, if it was, answered, and the score."""

    sent_at: datetime | None
    answered_at: datetime | None
    score: int | None


@dataclass(frozen=True)
class Breakdown:
    """A count of tickets and the same count by type, module and priority (most first)."""

    total: int
    by_type: dict[str, int]
    by_module: dict[str, int]
    by_priority: dict[str, int]


@dataclass(frozen=True)
class Spread:
    """Durations in hours: how many, the median and the 90th percentile (nearest rank)."""

    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Breach:
    """One missed deadline: which ticket, which level, and by how much (hours, so far if open)."""

    key: str
    level: str
    late_hours: float


@dataclass(frozen=True)
class Csat:
    """The answers given in the period and the share of the surveys sent in it that got one."""

    answers: int
    average: float | None
    distribution: dict[int, int]  # score → answers, every score 1–4 present
    sent: int
    answered_of_sent: int

    @property
    def response_rate(self) -> float | None:
        return self.answered_of_sent / self.sent if self.sent else None


@dataclass(frozen=True)
class Figures:
    """One period's numbers, [start, end), as of `now`."""

    start: datetime
    end: datetime
    kpis: Kpis  # of the tickets created in the period
    levels: ServiceLevels
    created: Breakdown
    resolved: Breakdown
    closed: Breakdown
    breaches: tuple[Breach, ...]  # latest first
    close_calendar: Spread
    close_working: Spread
    stage_hours: dict[str, float | None]  # mean hours per ticket that was in the stage
    csat: Csat
    daily: tuple[tuple[date, dict[str, int]], ...]  # local day → tickets created by type
    ever_resolved: int  # created tickets resolved at least once (a reopened one too)

    @property
    def not_solved_share(self) -> float | None:
        """Closed but not solved, of the created tickets the desk has resolved at least once."""
        done = self.ever_resolved
        return self.kpis.not_solved / done if done else None

    @property
    def first_contact_share(self) -> float | None:
        return self.kpis.first_contact / self.kpis.resolved if self.kpis.resolved else None


def figures(
    tickets: Sequence[TicketRow],
    moves: Sequence[StatusMove],
    surveys: Sequence[SurveyRow],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    organisation: Organisation,
) -> Figures:
    """The numbers of [start, end) from rows that may reach beyond it (only the period counts)."""
    created = [t for t in tickets if start <= t.created_at < end]
    resolved = [t for t in tickets if within(t.resolved_at, start, end)]
    closed = [t for t in tickets if within(t.closed_at, start, end)]
    answers = [s for s in surveys if within(s.answered_at, start, end) and s.score is not None]
    kpis = summarise(
        [t.facts() for t in created],
        now=now,
        csat_scores=[s.score for s in answers if s.score is not None],
        csat_target=organisation.csat_target,
        low_csat=organisation.timers.low_csat,
    )
    sent = [s for s in surveys if within(s.sent_at, start, end)]
    calendar = organisation.calendar
    return Figures(
        start=start,
        end=end,
        kpis=kpis,
        levels=service_levels(kpis, organisation),
        created=breakdown(created),
        resolved=breakdown(resolved),
        closed=breakdown(closed),
        breaches=tuple(breaches(created, now)),
        close_calendar=spread(
            (t.closed_at - t.created_at).total_seconds() for t in closed if t.closed_at
        ),
        close_working=spread(
            calendar.business_seconds_between(t.created_at, t.closed_at)
            for t in closed
            if t.closed_at
        ),
        stage_hours=stage_hours(created, moves, now=now),
        csat=Csat(
            answers=len(answers),
            average=kpis.csat_average,
            distribution={score: sum(1 for s in answers if s.score == score) for score in SCORES},
            sent=len(sent),
            answered_of_sent=sum(1 for s in sent if s.answered_at is not None),
        ),
        daily=daily(created, start=start, end=end, zone=organisation.time_zone),
        ever_resolved=sum(1 for t in created if t.resolved_at or t.reopen_count),
    )


def breakdown(tickets: Iterable[TicketRow]) -> Breakdown:
    rows = list(tickets)
    return Breakdown(
        total=len(rows),
        by_type=counted(t.type for t in rows),
        by_module=counted(t.module or "" for t in rows),
        by_priority=counted(t.priority for t in rows),
    )


def breaches(tickets: Iterable[TicketRow], now: datetime) -> list[Breach]:
    """Every deadline these tickets missed, with how late it was met (or is, while owed)."""
    found = []
    for ticket in tickets:
        for level in sorted(breaches_of(ticket.facts(), now)):
            due, done = _deadline(ticket, level)
            if due is not None:
                late = ((done or now) - due).total_seconds() / 3600
                found.append(Breach(ticket.key, level, round(late, 2)))
    return sorted(found, key=lambda b: (-b.late_hours, b.key, b.level))


def _deadline(ticket: TicketRow, level: str) -> tuple[datetime | None, datetime | None]:
    if level == "first_response":
        return ticket.first_response_due, ticket.first_response_at
    if level == "resolution":
        return ticket.resolution_due, ticket.resolved_at
    return ticket.vendor_escalation_due, ticket.vendor_escalated_at


def spread(seconds: Iterable[float]) -> Spread:
    """The median and the nearest-rank 90th percentile, in hours rounded to a hundredth."""
    hours = sorted(s / 3600 for s in seconds)
    if not hours:
        return Spread(0, None, None)
    rank = math.ceil(0.9 * len(hours))
    return Spread(len(hours), round(median(hours), 2), round(hours[rank - 1], 2))


def stage_hours(
    tickets: Iterable[TicketRow], moves: Iterable[StatusMove], *, now: datetime
) -> dict[str, float | None]:
    """The mean hours a ticket spent in each stage, over the tickets that were ever in it.

    A ticket is in `new` from its creation to its first move; its time stops at its
    resolution or cancellation, and at `now` while it is still open.
    """
    history: dict[int, list[StatusMove]] = {}
    for move in moves:
        history.setdefault(move.ticket_id, []).append(move)
    totals: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for ticket in tickets:
        spent: defaultdict[str, float] = defaultdict(float)
        stage: str | None = "new"
        since = ticket.created_at
        for move in sorted(history.get(ticket.id, ()), key=lambda m: m.at):
            if stage is not None and move.at > since:
                spent[stage] += (move.at - since).total_seconds()
            stage, since = STAGE_OF.get(move.to), max(since, move.at)
        if stage is not None and now > since:
            spent[stage] += (now - since).total_seconds()
        for name, seconds in spent.items():
            totals[name].append(seconds / 3600)
    return {
        stage: round(sum(hours) / len(hours), 2) if hours else None
        for stage, hours in totals.items()
    }


def daily(
    tickets: Iterable[TicketRow], *, start: datetime, end: datetime, zone: ZoneInfo
) -> tuple[tuple[date, dict[str, int]], ...]:
    """The tickets created on each local day of the period, by type (every day listed)."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    days: dict[date, Counter[str]] = {
        first + timedelta(days=n): Counter() for n in range((last - first).days + 1)
    }
    for ticket in tickets:
        day = ticket.created_at.astimezone(zone).date()
        if day in days:
            days[day][ticket.type] += 1
    return tuple((day, dict(sorted(counts.items()))) for day, counts in days.items())


def within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end
