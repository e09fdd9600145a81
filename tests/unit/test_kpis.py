"""The KPI arithmetic of a report: breaches, means, shares and periods, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.reports.availability import availability
from bot.reports.kpis import TicketFacts, breaches_of, period, summarise

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=3)
BASE = TicketFacts(
    type="incident",
    priority="P3",
    status="new",
    created_at=T0,
    first_response_at=None,
    resolved_at=None,
    first_response_due=T0 + timedelta(hours=48),
    resolution_due=T0 + timedelta(days=7),
    vendor_escalation_due=None,
    vendor_escalated_at=None,
    paused_since=None,
    reopen_count=0,
)


def test_an_unanswered_ticket_past_its_deadline_is_a_breach():
    assert breaches_of(BASE, NOW) == {"first_response"}
    assert breaches_of(BASE, T0 + timedelta(hours=47)) == set()


def test_a_late_answer_stays_a_breach_and_a_cancelled_ticket_owes_nothing():
    late = replace(BASE, status="in_progress", first_response_at=T0 + timedelta(hours=49))
    cancelled = replace(BASE, status="cancelled")

    assert breaches_of(late, NOW) == {"first_response"}
    assert breaches_of(cancelled, NOW) == set()


def test_a_paused_resolution_is_not_missed_while_the_customer_is_awaited():
    waiting = replace(
        BASE,
        status="waiting_for_customer",
        first_response_at=T0,
        resolution_due=T0 + timedelta(days=1),
        paused_since=T0 + timedelta(hours=1),
    )

    assert breaches_of(waiting, NOW) == set()
    assert breaches_of(replace(waiting, status="in_progress", paused_since=None), NOW) == {
        "resolution"
    }


def test_a_late_vendor_escalation_counts():
    slow = replace(
        BASE,
        status="waiting_for_vendor",
        first_response_at=T0,
        vendor_escalation_due=T0 + timedelta(hours=24),
        vendor_escalated_at=T0 + timedelta(hours=30),
    )

    assert breaches_of(slow, NOW) == {"vendor_escalation"}


def test_summarise_counts_means_shares_and_csat():
    answered = replace(
        BASE,
        type="bug",
        priority="P2",
        status="resolved",
        first_response_at=T0 + timedelta(hours=1),
        resolved_at=T0 + timedelta(hours=5),
        reopen_count=1,
    )
    quick = replace(BASE, status="in_progress", first_response_at=T0 + timedelta(hours=3))

    kpis = summarise([answered, quick, BASE], now=NOW, csat_scores=[4, 2, 3], csat_target=3.0)

    assert (kpis.opened, kpis.responded, kpis.resolved) == (3, 2, 1)
    assert kpis.by_type == {"incident": 2, "bug": 1}
    assert kpis.by_priority == {"P3": 2, "P2": 1}
    assert kpis.by_status == {"in_progress": 1, "new": 1, "resolved": 1}
    assert kpis.mean_first_response == timedelta(hours=2)
    assert kpis.mean_resolution == timedelta(hours=5)
    assert kpis.breached_tickets == 1 and kpis.breaches["first_response"] == 1
    assert kpis.within_sla == 2 / 3
    assert kpis.reopened == 1
    assert (kpis.csat_answers, kpis.csat_average) == (3, 3.0)


def test_nothing_to_measure_gives_none_not_zero():
    kpis = summarise([], now=NOW, csat_target=3.0)

    assert kpis.mean_first_response is None and kpis.within_sla is None
    assert kpis.csat_average is None


def test_periods_are_today_from_local_midnight_and_rolling_weeks_and_months():
    berlin = ZoneInfo("Europe/Berlin")

    today = period("today", now=T0, zone=berlin)
    week = period("week", now=T0, zone=berlin)
    month = period("month", now=T0, zone=berlin)

    assert today.start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert (week.start, week.end) == (T0 - timedelta(days=7), T0)
    assert month.start == T0 - timedelta(days=30)


def test_owners_first_contact_not_solved_and_interactions():
    first_go = replace(BASE, status="closed", owner="Alex Agent", first_response_at=T0,
                       resolved_at=T0 + timedelta(hours=2), interactions=2)  # fmt: skip
    came_back = replace(first_go, reopen_count=1, interactions=4)
    rated_low = replace(first_go, owner="Sam Agent", lowest_score=2)
    via_vendor = replace(first_go, vendor_escalated_at=T0 + timedelta(hours=1))
    chatty = replace(first_go, owner=None, interactions=3)
    open_one = replace(BASE, owner=None)

    kpis = summarise(
        [first_go, came_back, rated_low, via_vendor, chatty, open_one],
        now=NOW,
        csat_target=3.0,
        low_csat=2,
    )

    assert kpis.by_owner == {"Alex Agent": 3, "Sam Agent": 1}
    assert kpis.unassigned == 2
    # Resolved at the first go: first_go and rated_low (a low score is not another contact).
    assert (kpis.resolved, kpis.first_contact) == (5, 2)
    assert (kpis.reopened, kpis.low_rated, kpis.not_solved) == (1, 1, 2)
    assert kpis.mean_interactions == (2 + 4 + 2 + 2 + 3 + 0) / 6
    assert kpis.with_deadline == {"first_response": 6, "resolution": 6, "vendor_escalation": 0}
    assert summarise([rated_low], now=NOW, csat_target=3.0, low_csat=1).low_rated == 0


def test_availability_counts_overlapping_outages_once_and_only_inside_the_period():
    start, end = T0, T0 + timedelta(days=7)
    outages = [
        ("Checkout", T0 + timedelta(hours=2), T0 + timedelta(hours=3)),
        ("Checkout", T0 + timedelta(hours=2, minutes=30), T0 + timedelta(hours=4)),  # overlaps
        ("Payment", T0 - timedelta(hours=1), T0 + timedelta(hours=1)),  # began before
        ("Catalog", T0 + timedelta(days=6, hours=23), None),  # still down at the end
    ]

    figures = availability(outages, start=start, end=end, now=end + timedelta(days=1))

    week = 7 * 24.0
    assert figures == (
        ("Catalog", 1 - 1 / week, timedelta(hours=1)),
        ("Checkout", 1 - 2 / week, timedelta(hours=2)),
        ("Payment", 1 - 1 / week, timedelta(hours=1)),
    )
    # Judged up to now only: half-way through, the same outage weighs twice as much.
    halfway = availability(outages[:1], start=start, end=end, now=T0 + timedelta(days=3.5))
    assert halfway == (("Checkout", 1 - 1 / (week / 2), timedelta(hours=1)),)
