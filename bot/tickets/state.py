"""Moves a stored ticket through the lifecycle and keeps its SLA clock and deadlines in step."""

from __future__ import annotations

from datetime import datetime

from bot.config import Organisation
from bot.tickets.lifecycle import PAUSED_STATUSES, Status, TicketClock, transition
from bot.tickets.models import Ticket
from bot.tickets.sla import (
    SlaClockInput,
    SlaPolicy,
    compute_deadlines,
    pause_clock,
    reopen_clock,
    resume_clock,
)


def policy_for(
    organisation: Organisation, priority: str, ticket_type: str | None = None
) -> SlaPolicy:
    targets = organisation.sla_for(priority, ticket_type)
    return SlaPolicy(
        first_response=targets.first_response,
        resolution=targets.resolution,
        vendor_escalation=targets.vendor_escalation,
    )


def clock_of(ticket: Ticket) -> TicketClock:
    return TicketClock(
        status=Status(ticket.status),
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        paused_since=ticket.paused_since,
        paused_seconds=ticket.paused_seconds,
        reopen_count=ticket.reopen_count,
        interaction_count=ticket.interaction_count,
    )


def sla_facts(ticket: Ticket) -> SlaClockInput:
    return SlaClockInput(
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        vendor_needed_at=ticket.vendor_needed_at,
        vendor_escalated_at=ticket.vendor_escalated_at,
        paused_since=ticket.paused_since,
        paused_business_seconds=ticket.paused_business_seconds,
        paused_seconds=ticket.paused_seconds,
        reopened_at=ticket.reopened_at,
    )


def move(ticket: Ticket, to: Status, *, organisation: Organisation, at: datetime) -> Status:
    """One allowed move (IllegalTransition otherwise, changing nothing); returns the old status."""
    before = Status(ticket.status)
    clock = transition(ticket.key, clock_of(ticket), to, at=at)
    policy = policy_for(organisation, ticket.priority, ticket.type)
    calendar = organisation.calendar
    facts = sla_facts(ticket)
    # The lifecycle decides the status and its timestamps; the SLA clock owns pause accounting,
    # in real and in open time.
    if to == Status.REOPENED:
        facts = reopen_clock(policy, calendar, facts, at=at)
    elif before in PAUSED_STATUSES and to not in PAUSED_STATUSES:
        facts = resume_clock(calendar, facts, at=at)
    if to in PAUSED_STATUSES and policy.pause_while_waiting_for_customer:
        facts = pause_clock(facts, at=at)
    ticket.status = clock.status
    ticket.first_response_at = clock.first_response_at
    ticket.resolved_at = clock.resolved_at
    ticket.closed_at = clock.closed_at
    ticket.reopen_count = clock.reopen_count
    ticket.interaction_count = clock.interaction_count
    ticket.paused_since = clock.paused_since
    ticket.paused_seconds = facts.paused_seconds
    ticket.paused_business_seconds = facts.paused_business_seconds
    ticket.reopened_at = facts.reopened_at
    return before


def refresh_deadlines(ticket: Ticket, *, organisation: Organisation, now: datetime) -> None:
    """Recomputes and stores the deadlines after anything that moves them."""
    deadlines = compute_deadlines(
        policy_for(organisation, ticket.priority, ticket.type),
        organisation.calendar,
        sla_facts(ticket),
        now=max(now, ticket.created_at),
    )
    ticket.first_response_due = deadlines.first_response_due
    ticket.resolution_due = deadlines.resolution_due
    ticket.vendor_escalation_due = deadlines.vendor_escalation_due
    ticket.vendor_response_due = vendor_response_due(ticket, organisation)


def vendor_response_due(ticket: Ticket, organisation: Organisation) -> datetime | None:
    """When the vendor is to answer the latest escalation, on its own calendar; None without a
    promise in [vendor] or an escalation."""
    response = organisation.vendor.response
    if response is None or ticket.vendor_escalated_at is None:
        return None
    return organisation.vendor_calendar.add(ticket.vendor_escalated_at, response)
