"""The daily management digest: the open queue, missed and endangered deadlines, the last day, CSAT."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.directory.models import Person
from bot.reports.availability import least_available, period_availability
from bot.reports.kpis import TicketFacts, breaches_of, period, period_kpis, summarise
from bot.reports.once import ManagementReport
from bot.tickets.calendar import BusinessCalendar
from bot.tickets.due import MISSED_BEFORE_SEEN, times_of
from bot.tickets.due_models import DueAction
from bot.tickets.lifecycle import OPEN_STATUSES, Status
from bot.tickets.models import Ticket
from bot.tickets.planning import FIRST_RESPONSE, RESOLUTION, VENDOR
from bot.tickets.sla import progress
from bot.tickets.state import policy_for

log = logging.getLogger(__name__)

TEMPLATE = "management/digest"
AT_RISK = 0.75  # share of a running deadline used up from which a ticket counts as at risk
LISTED = 10  # tickets named per list; the card counts the rest, so it stays readable and small
# A closed stretch longer than this (a misconfigured calendar) is not searched further.
_LOOKBACK_DAYS = 14


@dataclass(frozen=True)
class DigestTicket:
    """One ticket named in the digest, with the deadline that put it there."""

    key: str
    summary: str
    priority: str
    owner: str | None  # None: nobody is assigned
    sla_name: str
    due: datetime
    percent: int | None = None  # how much of the time is used, for a ticket at risk


@dataclass(frozen=True)
class Digest:
    """What management reads on a working morning; counts are of the moment `at`."""

    at: datetime
    open_total: int
    by_priority: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]  # lifecycle order
    breached: tuple[DigestTicket, ...]  # the longest overdue first, at most LISTED
    breached_total: int
    at_risk: tuple[DigestTicket, ...]  # the soonest due first, at most LISTED
    at_risk_total: int
    at_risk_from: int  # the share of a deadline, in percent, from which a ticket is at risk
    since: datetime  # new and resolved are counted from here to today's local midnight
    new: int
    resolved: int
    csat_average: float | None
    csat_answers: int
    csat_target: float
    csat_days: int
    # Deadlines already missed when esmbot first saw their tickets, recorded in the window
    # without an alert each: the tickets (at most LISTED), how many, and how many deadlines.
    seen_late: tuple[str, ...] = ()
    seen_late_total: int = 0
    seen_late_deadlines: int = 0
    # (service, share available, downtime) of each service down between `since` and midnight.
    availability: tuple[tuple[str, float, timedelta], ...] = ()


async def compose_digest(
    session: AsyncSession, *, organisation: Organisation, now: datetime
) -> Digest:
    """Reads the open tickets, the last working day's flow and a month of CSAT answers."""
    zone, calendar = organisation.time_zone, organisation.calendar
    today = now.astimezone(zone).date()
    midnight = datetime.combine(today, time(0), tzinfo=zone)
    since = datetime.combine(_previous_working_day(calendar, today), time(0), tzinfo=zone)

    rows = (
        await session.execute(
            select(Ticket, Person.name)
            .outerjoin(Person, Person.id == Ticket.assignee_id)
            .where(Ticket.status.in_([status.value for status in OPEN_STATUSES]))
        )
    ).all()
    tickets = [(ticket, owner or None, _facts(ticket)) for ticket, owner in rows]
    queue = summarise(
        [facts for _, _, facts in tickets], now=now, csat_target=organisation.csat_target
    )

    breached, at_risk = [], []
    for ticket, owner, facts in tickets:
        missed = breaches_of(facts, now)
        if missed:
            dues = [
                (due, name)
                for name, due in (
                    (FIRST_RESPONSE, ticket.first_response_due),
                    (RESOLUTION, ticket.resolution_due),
                    (VENDOR, ticket.vendor_escalation_due),
                )
                if name in missed and due is not None
            ]
            due, first = min(dues)  # the deadline missed longest ago names the breach
            breached.append(_named(ticket, owner, first, due))
            continue
        risk = _most_used(ticket, organisation, now)
        if risk is not None:
            sla, due, used = risk
            at_risk.append(_named(ticket, owner, sla, due, percent=int(used * 100)))
    breached.sort(key=lambda item: (item.due, item.key))
    at_risk.sort(key=lambda item: (item.due, item.key))

    # The flow since the previous working day's digest: a Monday covers the weekend too.
    flow = await period_kpis(
        session,
        start=since,
        end=midnight,
        now=now,
        organisation=organisation,
    )
    resolved = await session.scalar(
        select(func.count()).where(Ticket.resolved_at >= since, Ticket.resolved_at < midnight)
    )
    seen_late = (
        await session.execute(
            select(Ticket.key, func.count())
            .join(DueAction, DueAction.ticket_id == Ticket.id)
            .where(
                DueAction.outcome == MISSED_BEFORE_SEEN,
                DueAction.done_at >= since,
                DueAction.done_at < midnight,
            )
            .group_by(Ticket.key)
            .order_by(Ticket.key)
        )
    ).all()
    month = period("month", now=now, zone=zone)
    csat = await period_kpis(
        session,
        start=month.start,
        end=month.end,
        now=now,
        organisation=organisation,
    )
    return Digest(
        at=now,
        open_total=queue.opened,
        by_priority=tuple(sorted(queue.by_priority.items())),
        by_status=tuple(
            (status.value, queue.by_status[status.value])
            for status in Status
            if status.value in queue.by_status
        ),
        breached=tuple(breached[:LISTED]),
        breached_total=len(breached),
        at_risk=tuple(at_risk[:LISTED]),
        at_risk_total=len(at_risk),
        at_risk_from=round(AT_RISK * 100),
        since=since,
        new=flow.opened,
        resolved=int(resolved or 0),
        csat_average=csat.csat_average,
        csat_answers=csat.csat_answers,
        csat_target=organisation.csat_target,
        csat_days=(month.end - month.start).days,
        seen_late=tuple(key for key, _ in seen_late[:LISTED]),
        seen_late_total=len(seen_late),
        seen_late_deadlines=sum(count for _, count in seen_late),
        availability=least_available(
            await period_availability(session, start=since, end=midnight, now=now), LISTED
        ),
    )


def _previous_working_day(calendar: BusinessCalendar, today: date) -> date:
    day = today - timedelta(days=1)
    for _ in range(_LOOKBACK_DAYS):
        if calendar.is_working_day(day):
            return day
        day -= timedelta(days=1)
    return today - timedelta(days=1)


def _facts(ticket: Ticket) -> TicketFacts:
    return TicketFacts(
        type=ticket.type,
        priority=ticket.priority,
        status=ticket.status,
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        vendor_escalation_due=ticket.vendor_escalation_due,
        vendor_escalated_at=ticket.vendor_escalated_at,
        paused_since=ticket.paused_since,
        reopen_count=ticket.reopen_count,
    )


def _running(
    ticket: Ticket, organisation: Organisation
) -> list[tuple[str, datetime, datetime, bool]]:
    """(name, start, due, business) of each deadline still running, as the planner sees them.

    Like `bot/tickets/planning.py`: a deadline not met yet, and the resolution only while it
    is not paused for the customer (its due time keeps moving then).
    """
    times = times_of(ticket, organisation)
    policy = policy_for(organisation, ticket.priority, ticket.type)
    running = []
    if times.first_response_due is not None and times.first_response_at is None:
        running.append(
            (FIRST_RESPONSE, times.created_at, times.first_response_due,
             policy.first_response.business)
        )  # fmt: skip
    if times.resolution_due is not None and times.paused_since is None:
        running.append(
            (RESOLUTION, times.resolution_start, times.resolution_due, policy.resolution.business)
        )
    if (
        times.vendor_needed_at is not None
        and times.vendor_escalation_due is not None
        and times.vendor_escalated_at is None
    ):
        running.append(
            (VENDOR, times.vendor_needed_at, times.vendor_escalation_due,
             policy.vendor_escalation.business)
        )  # fmt: skip
    return running


def _most_used(
    ticket: Ticket, organisation: Organisation, now: datetime
) -> tuple[str, datetime, float] | None:
    """The running deadline with the largest share used, if that share reaches AT_RISK."""
    worst = None
    for name, start, due, business in _running(ticket, organisation):
        used = progress(start, due, now, organisation.calendar, business)
        if used >= AT_RISK and (worst is None or used > worst[2]):
            worst = (name, due, used)
    return worst


def _named(
    ticket: Ticket, owner: str | None, sla: str, due: datetime, *, percent: int | None = None
) -> DigestTicket:
    return DigestTicket(
        key=ticket.key,
        summary=ticket.summary,
        priority=ticket.priority,
        owner=owner,
        sla_name=sla,
        due=due,
        percent=percent,
    )


class DailyDigest(ManagementReport):
    """The leader's morning job: writes the day's digest for the management channel, once.

    The outbox row's dedupe key is the local date, so a second replica, a leader that changed
    hands or a job run again after a restart finds the day done and writes nothing.
    """

    async def __call__(self, fire: datetime | None = None) -> bool:
        """True when this call wrote the digest; `fire` names the day (default: today)."""
        now = self.clock()
        today = (fire or now).astimezone(self.organisation.time_zone).date()
        if not self.organisation.calendar.is_working_day(today):
            log.info("no digest on a day off", extra={"day": today.isoformat()})
            return False

        async def compose(session: AsyncSession) -> dict[str, object]:
            digest = await compose_digest(session, organisation=self.organisation, now=now)
            return {"digest": digest}

        return await self.write_once(
            template=TEMPLATE, dedupe_key=f"digest:{today.isoformat()}", compose=compose
        )
