"""The service-desk KPIs of a period, from the tickets and CSAT tables: counts, times, SLA, CSAT.

Every ticket figure is about the tickets opened in the period, so the numbers of one report
describe one population: how many came in, how fast they were answered and resolved (so far),
how many missed a deadline, how many came back. CSAT is about the answers given in the period.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.directory.models import Person
from bot.tickets.lifecycle import OPEN_STATUSES, Status
from bot.tickets.models import CsatSurvey, Ticket

PeriodName = Literal["today", "week", "month"]
SLA_NAMES = ("first_response", "resolution", "vendor_escalation")
# Resolved on first contact: the acknowledgement and the resolution were all the customer heard.
FIRST_CONTACT_INTERACTIONS = 2


@dataclass(frozen=True)
class Period:
    """A stretch of time a report covers, [start, end); "range" is days someone named."""

    name: PeriodName | Literal["range"]
    start: datetime
    end: datetime


def period(name: PeriodName, *, now: datetime, zone: ZoneInfo) -> Period:
    """Today from local midnight; a week and a month as the last 7 and 30 days up to now."""
    if name == "today":
        local = now.astimezone(zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return Period(name, midnight, now)
    days = 7 if name == "week" else 30
    return Period(name, now - timedelta(days=days), now)


def previous_week(now: datetime, *, zone: ZoneInfo) -> Period:
    """The ISO week before the one `now` is in, Monday 00:00 to Monday 00:00 in `zone`."""
    monday = now.astimezone(zone).date() - timedelta(days=now.astimezone(zone).weekday())
    start, end = monday - timedelta(days=7), monday
    return Period(
        "week",
        datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC),
        datetime.combine(end, time(0), tzinfo=zone).astimezone(UTC),
    )


def iso_week(day: date) -> str:
    """The ISO week of a date as 2026-W49 (the year is the ISO year: 2027-01-01 is 2026-W53)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class TicketFacts:
    """The columns of one ticket that the KPIs read."""

    type: str
    priority: str
    status: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    vendor_escalation_due: datetime | None
    vendor_escalated_at: datetime | None
    paused_since: datetime | None
    reopen_count: int
    owner: str | None = None  # the assignee's name; None while nobody owns it
    interactions: int = 0  # messages exchanged with the customer (lifecycle's count)
    lowest_score: int | None = None  # the lowest CSAT score given for it, if any


@dataclass(frozen=True)
class Kpis:
    """One period's figures; a mean or share is None when nothing was there to measure."""

    opened: int
    by_type: dict[str, int]
    by_priority: dict[str, int]
    by_status: dict[str, int]
    responded: int
    mean_first_response: timedelta | None
    resolved: int
    mean_resolution: timedelta | None
    breached_tickets: int
    breaches: dict[str, int]  # by SLA name
    within_sla: float | None  # share of the opened tickets that missed no deadline
    reopened: int
    csat_answers: int
    csat_average: float | None
    csat_target: float
    by_owner: dict[str, int] = field(default_factory=dict)  # assigned tickets by owner name
    unassigned: int = 0
    with_deadline: dict[str, int] = field(default_factory=dict)  # by SLA name: tickets measured
    first_contact: int = 0  # resolved tickets resolved on first contact (see below)
    low_rated: int = 0  # tickets rated at or below the low-CSAT score
    not_solved: int = 0  # closed but not solved: reopened, or rated low
    mean_interactions: float | None = None


def breaches_of(ticket: TicketFacts, now: datetime) -> set[str]:
    """The deadlines this ticket missed: met late, or still owed and already past."""
    owed = Status(ticket.status) in OPEN_STATUSES
    missed = set()
    if _missed(ticket.first_response_at, ticket.first_response_due, now, owed):
        missed.add("first_response")
    # While the customer is awaited the resolution deadline keeps moving, so it is not missed.
    if _missed(ticket.resolved_at, ticket.resolution_due, now, owed and not ticket.paused_since):
        missed.add("resolution")
    if _missed(ticket.vendor_escalated_at, ticket.vendor_escalation_due, now, owed):
        missed.add("vendor_escalation")
    return missed


def _missed(done: datetime | None, due: datetime | None, now: datetime, owed: bool) -> bool:
    if due is None:
        return False
    if done is not None:
        return done > due
    return owed and now > due


def summarise(
    tickets: Sequence[TicketFacts],
    *,
    now: datetime,
    csat_scores: Iterable[int] = (),
    csat_target: float,
    low_csat: int = 2,
) -> Kpis:
    """The KPIs of these tickets (opened in the period) and CSAT answers (given in it).

    A ticket is resolved on first contact when it is resolved, was never reopened nor handed
    to the vendor, and the customer heard nothing but the acknowledgement and the resolution.
    """
    responses = [t.first_response_at - t.created_at for t in tickets if t.first_response_at]
    resolutions = [t.resolved_at - t.created_at for t in tickets if t.resolved_at]
    missed = [breaches_of(ticket, now) for ticket in tickets]
    breaches = Counter(name for names in missed for name in names)
    breached = sum(1 for names in missed if names)
    scores = list(csat_scores)
    low = [t.lowest_score is not None and t.lowest_score <= low_csat for t in tickets]
    return Kpis(
        opened=len(tickets),
        by_type=counted(t.type for t in tickets),
        by_priority=counted(t.priority for t in tickets),
        by_status=counted(t.status for t in tickets),
        responded=len(responses),
        mean_first_response=_mean(responses),
        resolved=len(resolutions),
        mean_resolution=_mean(resolutions),
        breached_tickets=breached,
        breaches={name: breaches.get(name, 0) for name in SLA_NAMES},
        within_sla=(len(tickets) - breached) / len(tickets) if tickets else None,
        reopened=sum(1 for t in tickets if t.reopen_count > 0),
        csat_answers=len(scores),
        csat_average=sum(scores) / len(scores) if scores else None,
        csat_target=csat_target,
        by_owner=counted(t.owner for t in tickets if t.owner),
        unassigned=sum(1 for t in tickets if not t.owner),
        with_deadline={
            "first_response": sum(1 for t in tickets if t.first_response_due),
            "resolution": sum(1 for t in tickets if t.resolution_due),
            "vendor_escalation": sum(1 for t in tickets if t.vendor_escalation_due),
        },
        first_contact=sum(1 for t in tickets if _first_contact(t)),
        low_rated=sum(low),
        not_solved=sum(
            1 for t, rated_low in zip(tickets, low, strict=True) if rated_low or t.reopen_count
        ),
        mean_interactions=sum(t.interactions for t in tickets) / len(tickets) if tickets else None,
    )


def _first_contact(ticket: TicketFacts) -> bool:
    return (
        ticket.resolved_at is not None
        and ticket.reopen_count == 0
        and ticket.vendor_escalated_at is None
        and ticket.interactions <= FIRST_CONTACT_INTERACTIONS
    )


async def period_kpis(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    organisation: Organisation,
) -> Kpis:
    """Reads the period's tickets and CSAT answers and summarises them against the
    organisation's CSAT target and its threshold for a low score."""
    lowest = lowest_scores()
    rows = await session.execute(
        select(
            Ticket.type,
            Ticket.priority,
            Ticket.status,
            Ticket.created_at,
            Ticket.first_response_at,
            Ticket.resolved_at,
            Ticket.first_response_due,
            Ticket.resolution_due,
            Ticket.vendor_escalation_due,
            Ticket.vendor_escalated_at,
            Ticket.paused_since,
            Ticket.reopen_count,
            # A person esmbot knows only by address is still an owner, not "unassigned".
            func.coalesce(func.nullif(Person.name, ""), Person.email),
            Ticket.interaction_count,
            lowest.c.score,
        )
        .outerjoin(Person, Person.id == Ticket.assignee_id)
        .outerjoin(lowest, lowest.c.ticket_id == Ticket.id)
        .where(Ticket.created_at >= start, Ticket.created_at < end)
    )
    # SQLAlchemy types the first ten columns of a row and leaves the rest open, and mypy lets no
    # open column stand for a named argument.
    tickets = [TicketFacts(*row) for row in rows]  # type: ignore[call-arg]
    scores = await session.scalars(
        select(CsatSurvey.score).where(
            CsatSurvey.score.is_not(None),
            CsatSurvey.answered_at >= start,
            CsatSurvey.answered_at < end,
        )
    )
    return summarise(
        tickets,
        now=now,
        csat_scores=[score for score in scores if score is not None],
        csat_target=organisation.csat_target,
        low_csat=organisation.timers.low_csat,
    )


def counted(values: Iterable[str]) -> dict[str, int]:
    """How often each value occurs, most frequent first; ties in alphabetical order."""
    counts = Counter(values)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _mean(durations: Sequence[timedelta]) -> timedelta | None:
    if not durations:
        return None
    return sum(durations, timedelta(0)) / len(durations)


def lowest_scores() -> Subquery:
    """Each surveyed ticket's lowest answered score (a reopened ticket may be rated twice)."""
    return (
        select(CsatSurvey.ticket_id, func.min(CsatSurvey.score).label("score"))
        .where(CsatSurvey.score.is_not(None))
        .group_by(CsatSurvey.ticket_id)
        .subquery()
    )
