"""The vendor-escalation clock, checked by hand: when it starts, its nudges, and a late escalation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config.jira_mapping import parse_jira_mapping
from bot.config.timers import Timers
from bot.events.jira_webhook import parse_webhook
from bot.reports.kpis import TicketFacts, breaches_of
from bot.tickets.calendar import BusinessCalendar
from bot.tickets.durations import parse_duration
from bot.tickets.lifecycle import Status
from bot.tickets.planning import BREACH, NUDGE, VENDOR, Planned, TicketTimes, plan
from bot.tickets.sla import SlaClockInput, SlaPolicy, compute_deadlines

BERLIN = ZoneInfo("Europe/Berlin")
DE = BusinessCalendar(time_zone=BERLIN, holidays_country="DE")
# Monday 23 November 2026, 09:00 in Berlin.
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
POLICY = SlaPolicy(
    first_response=parse_duration("48h"),
    resolution=parse_duration("5 working days"),
    vendor_escalation=parse_duration("24h"),
)
TICKET = TicketTimes(
    ticket_id=7, status=Status.IN_PROGRESS, created_at=MONDAY, first_response_at=MONDAY,
    first_response_due=None, resolution_due=None, resolution_start=MONDAY,
    vendor_needed_at=None, vendor_escalated_at=None, vendor_escalation_due=None,
    resolved_at=None, paused_since=None, reopen_count=0,
)  # fmt: skip


def vendor_plan(ticket: TicketTimes) -> list[Planned]:
    planned = plan(ticket, policy=POLICY, calendar=DE, timers=Timers())
    return [p for p in planned if p.sla == VENDOR]


def marked(at: datetime, **changes: object) -> TicketTimes:
    due = compute_deadlines(
        POLICY, DE, SlaClockInput(created_at=MONDAY, vendor_needed_at=at), now=at
    )
    return replace(
        TICKET, vendor_needed_at=at, vendor_escalation_due=due.vendor_escalation_due, **changes
    )


def test_a_ticket_nobody_marked_has_no_vendor_clock():
    assert vendor_plan(TICKET) == []


def test_a_mark_at_creation_nudges_at_12_18_and_21h36_and_breaches_at_24h():
    # 24 h is wall-clock time: 50 % is Mon 20:00 UTC, 75 % Tue 02:00, 90 % Tue 05:36, due Tue 08:00.
    planned = vendor_plan(marked(MONDAY))

    assert [(p.kind, p.fraction, p.due_at) for p in planned] == [
        (NUDGE, 0.5, datetime(2026, 11, 23, 20, 0, tzinfo=UTC)),
        (NUDGE, 0.75, datetime(2026, 11, 24, 2, 0, tzinfo=UTC)),
        (NUDGE, 0.9, datetime(2026, 11, 24, 5, 36, tzinfo=UTC)),
        (BREACH, None, datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
    ]


def test_a_mark_made_later_starts_the_clock_then():
    # Marked Wednesday 14:30 UTC: escalate by Thursday 14:30 UTC.
    planned = vendor_plan(marked(datetime(2026, 11, 25, 14, 30, tzinfo=UTC)))

    assert planned[-1].kind == BREACH
    assert planned[-1].due_at == datetime(2026, 11, 26, 14, 30, tzinfo=UTC)


def test_an_escalation_in_time_ends_the_clock():
    on_time = marked(MONDAY, vendor_escalated_at=MONDAY + timedelta(hours=23, minutes=59))

    assert vendor_plan(on_time) == []


def test_a_late_escalation_is_one_breach_with_the_key_the_clock_had_given_it():
    waiting = marked(MONDAY)
    late = replace(
        waiting,
        status=Status.WAITING_FOR_VENDOR,
        vendor_escalated_at=MONDAY + timedelta(hours=30),
    )

    clock_breach = vendor_plan(waiting)[-1]
    (late_breach,) = vendor_plan(late)
    assert late_breach == clock_breach  # same key and moment: alerted once, whichever came first


def test_a_late_escalation_stays_a_breach_after_the_ticket_is_resolved_or_reopened():
    late = marked(MONDAY, vendor_escalated_at=MONDAY + timedelta(hours=30))
    resolved = replace(late, status=Status.RESOLVED, resolved_at=MONDAY + timedelta(days=2))
    reopened = replace(late, status=Status.REOPENED, reopen_count=1)

    assert [p.key for p in vendor_plan(resolved)] == ["7:breach:vendor_escalation:-:0"]
    assert [p.key for p in vendor_plan(reopened)] == ["7:breach:vendor_escalation:-:0"]


def test_every_report_counts_an_escalation_30h_after_creation_as_a_breach():
    # No earlier mark: the clock ran from creation, Monday 08:00 UTC, to Tuesday 08:00.
    facts = TicketFacts(
        type="incident", priority="P3", status="waiting_for_vendor", created_at=MONDAY,
        first_response_at=MONDAY, resolved_at=None, first_response_due=MONDAY + timedelta(hours=48),
        resolution_due=MONDAY + timedelta(days=7), vendor_escalation_due=MONDAY + timedelta(hours=24),
        vendor_escalated_at=MONDAY + timedelta(hours=30), paused_since=None, reopen_count=0,
    )  # fmt: skip

    assert breaches_of(facts, MONDAY + timedelta(hours=31)) == {"vendor_escalation"}
    in_time = replace(facts, vendor_escalated_at=MONDAY + timedelta(hours=20))
    assert breaches_of(in_time, MONDAY + timedelta(hours=31)) == set()


@pytest.mark.parametrize(
    ("mapped", "fields", "needed"),
    [
        ("label:vendor-needed", {"labels": ["Vendor-Needed", "checkout"]}, True),
        ("label:vendor-needed", {"labels": ["checkout"]}, False),
        ("customfield_10060", {"customfield_10060": {"value": "Yes"}}, True),
        ("customfield_10060", {"customfield_10060": None}, False),
        (None, {"labels": ["vendor-needed"]}, False),
    ],
)
def test_a_jira_field_or_label_mapped_in_jira_fields_marks_the_vendor_as_needed(
    mapped: str | None, fields: dict[str, object], needed: bool
):
    config = {"fields": {"vendor_needed": mapped}} if mapped else {}
    mapping = parse_jira_mapping(config, "esmbot.toml")
    body = {
        "webhookEvent": "jira:issue_updated",
        "issue": {"key": "SR-1", "fields": {"summary": "x", **fields}},
    }

    [event] = parse_webhook(body, mapping=mapping, delivery_id="d-1", now=MONDAY)

    assert event.vendor_needed is needed
