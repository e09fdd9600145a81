"""Which keys a ticket's planned nudges and breaches get: one per deadline and threshold."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.config.timers import Timers
from bot.tickets.calendar import BusinessCalendar
from bot.tickets.durations import parse_duration
from bot.tickets.lifecycle import Status
from bot.tickets.planning import RESOLUTION, TicketTimes, plan
from bot.tickets.sla import SlaPolicy

CALENDAR = BusinessCalendar(time_zone=ZoneInfo("UTC"))
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TICKET = TicketTimes(
    ticket_id=7, status=Status.IN_PROGRESS, created_at=MONDAY, first_response_at=MONDAY,
    first_response_due=None, resolution_due=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
    resolution_start=MONDAY, vendor_needed_at=None, vendor_escalated_at=None,
    vendor_escalation_due=None, resolved_at=None, paused_since=None, reopen_count=0,
)  # fmt: skip


def policy(**flags: bool) -> SlaPolicy:
    return SlaPolicy(
        first_response=parse_duration("48h"),
        resolution=parse_duration("5 working days"),
        vendor_escalation=parse_duration("24h"),
        **flags,
    )


def resolution_keys(ticket: TicketTimes, sla_policy: SlaPolicy) -> set[str]:
    planned = plan(ticket, policy=sla_policy, calendar=CALENDAR, timers=Timers())
    return {p.key for p in planned if p.sla == RESOLUTION}


def test_a_reopening_that_continues_the_clock_keeps_the_keys_of_the_deadline():
    reopened = replace(TICKET, status=Status.REOPENED, reopen_count=1)

    assert resolution_keys(reopened, policy()) == resolution_keys(TICKET, policy())


def test_a_reopening_that_restarts_the_clock_is_a_deadline_of_its_own():
    restarted = policy(reopen_restarts_resolution=True)
    reopened = replace(TICKET, status=Status.REOPENED, reopen_count=1)

    assert resolution_keys(reopened, restarted).isdisjoint(resolution_keys(TICKET, restarted))


def test_a_problem_has_no_deadlines_reminders_or_survey():
    open_problem = replace(TICKET, desk_only=True)
    solved = replace(open_problem, status=Status.RESOLVED, resolved_at=MONDAY)
    assert plan(TICKET, policy=policy(), calendar=CALENDAR, timers=Timers())  # not so a ticket
    for problem in (open_problem, solved):
        assert plan(problem, policy=policy(), calendar=CALENDAR, timers=Timers()) == []
