"""Plans a ticket's upcoming actions (nudges, breaches, reminders, survey) from its state; pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config.organisation import VendorTerms
from bot.config.timers import Timers
from bot.tickets.calendar import BusinessCalendar
from bot.tickets.lifecycle import OPEN_STATUSES, Status
from bot.tickets.sla import SlaPolicy, nudge_times

NUDGE, BREACH = "nudge", "breach"
CUSTOMER_REMINDER, AUTO_RESOLVE = "customer_reminder", "auto_resolve"
SURVEY, SURVEY_REMINDER, SURVEY_EXPIRY = "survey", "survey_reminder", "survey_expiry"
# Before the vendor's respond-by its channel is reminded; after it the agents hear it passed.
VENDOR_REMINDER, VENDOR_OVERDUE = "vendor_reminder", "vendor_overdue"
FIRST_RESPONSE, RESOLUTION, VENDOR = "first_response", "resolution", "vendor_escalation"


@dataclass(frozen=True)
class TicketTimes:
    """The state of a ticket that decides what falls due for it and when."""

    ticket_id: int
    status: Status
    created_at: datetime
    first_response_at: datetime | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    resolution_start: datetime
    vendor_needed_at: datetime | None
    vendor_escalated_at: datetime | None
    vendor_escalation_due: datetime | None
    resolved_at: datetime | None
    paused_since: datetime | None
    reopen_count: int
    vendor_response_due: datetime | None = None
    vendor_responded_at: datetime | None = None
    # A problem is the desk's own record of a cause: no customer waits on it, so it has no
    # deadlines, reminders or survey (its incidents keep theirs).
    desk_only: bool = False


@dataclass(frozen=True)
class Planned:
    """One action to take at `due_at`; `key` is the same however often the ticket is re-planned."""

    key: str
    kind: str
    due_at: datetime
    sla: str | None = None
    fraction: float | None = None


def plan(
    ticket: TicketTimes,
    *,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    timers: Timers,
    vendor: VendorTerms | None = None,
) -> list[Planned]:
    """Everything still to come for this ticket, given what it is now."""
    planned: list[Planned] = []
    if ticket.desk_only:
        return planned
    cycle = ticket.reopen_count  # a reopened ticket may be nudged, reminded and surveyed again

    def add(
        kind: str,
        due_at: datetime,
        sla: str | None = None,
        fraction: float | None = None,
        round_: int = 0,
    ) -> None:
        share = f"{fraction:g}" if fraction is not None else "-"
        key = f"{ticket.ticket_id}:{kind}:{sla or '-'}:{share}:{round_}"
        planned.append(Planned(key=key, kind=kind, due_at=due_at, sla=sla, fraction=fraction))

    def deadline(sla: str, start: datetime, due: datetime, business: bool, round_: int) -> None:
        for fraction, moment in zip(
            timers.nudges, nudge_times(start, due, calendar, business, timers.nudges), strict=True
        ):
            add(NUDGE, moment, sla, fraction, round_)
        add(BREACH, due, sla, None, round_)

    if ticket.status in OPEN_STATUSES:
        if ticket.first_response_at is None and ticket.first_response_due is not None:
            deadline(
                FIRST_RESPONSE,
                ticket.created_at,
                ticket.first_response_due,
                policy.first_response.business,
                0,
            )
        # While the customer is asked, the resolution deadline keeps moving: plan it on resume.
        if ticket.paused_since is None and ticket.resolution_due is not None:
            # A reopening that continues the clock keeps the deadline, and with it the nudges
            # and the breach already given; only a restarted clock is a deadline of its own.
            deadline(
                RESOLUTION,
                ticket.resolution_start,
                ticket.resolution_due,
                policy.resolution.business,
                cycle if policy.reopen_restarts_resolution else 0,
            )
        if (
            ticket.vendor_needed_at is not None
            and ticket.vendor_escalated_at is None
            and ticket.vendor_escalation_due is not None
        ):
            # One clock per ticket (round 0): a reopening does not make the vendor due again.
            deadline(
                VENDOR,
                ticket.vendor_needed_at,
                ticket.vendor_escalation_due,
                policy.vendor_escalation.business,
                0,
            )
        if (
            ticket.status == Status.WAITING_FOR_VENDOR
            and ticket.vendor_escalated_at is not None
            and ticket.vendor_response_due is not None
            and ticket.vendor_responded_at is None
        ):
            terms = vendor or VendorTerms()
            own = terms.calendar or calendar
            business = terms.response.business if terms.response else False
            (reminder,) = nudge_times(
                ticket.vendor_escalated_at,
                ticket.vendor_response_due,
                own,
                business,
                (terms.reminder_at,),
            )
            # Each escalation is its own round: keyed by when it was made.
            escalation = int(ticket.vendor_escalated_at.timestamp())
            add(VENDOR_REMINDER, reminder, None, terms.reminder_at, escalation)
            add(VENDOR_OVERDUE, ticket.vendor_response_due, None, None, escalation)
        if ticket.status == Status.WAITING_FOR_CUSTOMER and ticket.paused_since is not None:
            # Each wait is its own round: keyed by when it began.
            wait = int(ticket.paused_since.timestamp())
            for number, after in enumerate(timers.customer_reminders, start=1):
                add(
                    CUSTOMER_REMINDER,
                    calendar.add(ticket.paused_since, after),
                    None,
                    float(number),
                    wait,
                )
            if timers.auto_resolve_after is not None:
                add(
                    AUTO_RESOLVE,
                    calendar.add(ticket.paused_since, timers.auto_resolve_after),
                    None,
                    None,
                    wait,
                )
    if (
        ticket.vendor_escalated_at is not None
        and ticket.vendor_escalation_due is not None
        and ticket.vendor_escalated_at > ticket.vendor_escalation_due
    ):
        # A late escalation is a breach management hears of, whatever the ticket does next; the
        # same key as the alert the clock would have given, so the breach is told once.
        add(BREACH, ticket.vendor_escalation_due, VENDOR, None, 0)
    if ticket.status in (Status.RESOLVED, Status.CLOSED) and ticket.resolved_at is not None:
        add(SURVEY, calendar.add(ticket.resolved_at, timers.survey_delay), None, None, cycle)
    return planned
