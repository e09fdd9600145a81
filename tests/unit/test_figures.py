"""The report's figures on the hand-built three-day history equal the values worked out by hand.

Each expected value below was computed on paper from the rows of report_history.py; the comment
beside it shows the sum.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.reports.figures import Breach, Spread
from bot.reports.trends import local_midnight, reach_back, report
from tests.unit.report_history import (
    BERLIN,
    END,
    MOVES,
    NOW,
    ORGANISATION,
    START,
    SURVEYS,
    TICKETS,
)


@pytest.fixture(scope="module")
def result():
    return report(TICKETS, MOVES, SURVEYS, start=START, end=END, now=NOW, organisation=ORGANISATION)


def test_tickets_created_resolved_and_closed_by_type_module_and_priority(result):
    current = result.current
    assert current.created.total == 5  # SR-1 … SR-5
    assert current.created.by_type == {"incident": 3, "bug": 1, "service request": 1}
    assert current.created.by_module == {"Checkout": 2, "Payment": 2, "Admin": 1}
    assert current.created.by_priority == {"P2": 2, "P3": 2, "P1": 1}
    # Resolved in the period: SR-1 (2 Nov), SR-3 (4 Nov), SR-2 (4 Nov); SR-6 was resolved before.
    assert current.resolved.total == 3
    assert current.resolved.by_type == {"incident": 2, "bug": 1}
    # Closed in the period: SR-1, SR-3 and SR-6, the last one created in the period before.
    assert current.closed.total == 3
    assert current.closed.by_module == {"Checkout": 3}


def test_each_service_level_with_its_breaches(result):
    first, resolution, vendor = result.current.levels.checks
    # First response: all five had one; SR-2 answered 2 h late, SR-4 still unanswered.
    assert (first.measured, first.missed, first.percent_on_time, first.met) == (5, 2, 60, False)
    # Resolution: SR-1 … SR-4 had a deadline; SR-3 resolved 2 h after it.
    assert (resolution.measured, resolution.missed, resolution.percent_on_time) == (4, 1, 75)
    # Vendor escalation: only SR-3, handed over an hour late.
    assert (vendor.measured, vendor.missed, vendor.percent_on_time) == (1, 1, 0)
    # CSAT (4 + 2 + 3) / 3 = 3.0, on the target of 3.0.
    assert (result.current.levels.csat_average, result.current.levels.csat_met) == (3.0, True)
    assert result.current.breaches == (
        Breach("SR-4", "first_response", 20.0),  # due 4 Nov 13:00, still open at 5 Nov 09:00
        Breach("SR-2", "first_response", 2.0),
        Breach("SR-3", "resolution", 2.0),
        Breach("SR-3", "vendor_escalation", 1.0),
    )
    assert result.current.kpis.within_sla == pytest.approx(2 / 5)  # SR-1 and SR-5 missed nothing


def test_time_to_close_in_calendar_and_working_hours(result):
    # Closed in the period: SR-1 24 h, SR-3 29 h, SR-6 71 h (Fri 30 Oct 10:00 → Mon 09:00 UTC).
    assert result.current.close_calendar == Spread(3, 29.0, 71.0)
    # Working hours 08–17 Berlin: SR-1 Mon 09–17 + Tue 08–09 = 9; SR-3 Tue 08–17 + Wed 08–13
    # = 14; SR-6 Fri 11–17 + Mon 08–10 = 8. Median 9, nearest-rank p90 the third: 14.
    assert result.current.close_working == Spread(3, 9.0, 14.0)


def test_time_in_each_stage_from_the_status_history(result):
    assert result.current.stage_hours == {
        "new": 6.4,  # (1 + 6 + 0.5 + 24 + 0.5) / 5
        "in_progress": 14.5,  # (6 + 34 + 17.5 + 0.5) / 4
        "waiting_for_customer": 6.0,  # SR-2 only
        "waiting_for_vendor": 8.0,  # SR-3 only
    }


def test_interactions_not_solved_first_contact_and_agents(result):
    current = result.current
    assert current.kpis.mean_interactions == 2.0  # (2 + 4 + 3 + 0 + 1) / 5
    # Resolved at least once: SR-1, SR-2, SR-3; SR-3 was rated 2, the low score: not solved.
    assert (current.kpis.not_solved, current.not_solved_share) == (1, pytest.approx(1 / 3))
    # Only SR-1 was resolved with nothing but the acknowledgement and the resolution.
    assert (current.kpis.first_contact, current.first_contact_share) == (1, pytest.approx(1 / 3))
    assert (current.kpis.by_owner, current.kpis.unassigned) == ({"Alex": 2, "Sam": 2}, 1)


def test_csat_average_distribution_and_response_rate(result):
    csat = result.current.csat
    assert (csat.answers, csat.average) == (3, 3.0)
    assert csat.distribution == {1: 0, 2: 1, 3: 1, 4: 1}
    # Sent in the period: SR-1's, SR-3's and SR-2's, two of them answered.
    assert (csat.sent, csat.answered_of_sent) == (3, 2)
    assert csat.response_rate == pytest.approx(2 / 3)


def test_tickets_per_type_per_local_day(result):
    assert result.current.daily == (
        (date(2026, 11, 2), {"bug": 1, "incident": 1}),
        (date(2026, 11, 3), {"incident": 1}),
        (date(2026, 11, 4), {"incident": 1, "service request": 1}),  # SR-5 at 21:00 Berlin
    )


def test_each_figure_beside_the_previous_three_days_with_a_direction(result):
    previous = result.previous
    assert previous.start == START - timedelta(days=3)
    assert (previous.created.total, previous.resolved.total, previous.closed.total) == (2, 1, 0)
    assert previous.breaches == (Breach("SR-7", "first_response", 20.0),)
    moved = {c.name: (c.now, c.before, c.direction, c.better) for c in result.changes}
    assert moved == {
        "created": (5, 2, "up", None),
        "resolved": (3, 1, "up", True),
        "closed": (3, 0, "up", True),
        "within_sla": (pytest.approx(0.4), 0.5, "down", False),
        "breaches": (4, 1, "up", False),
        "close_median_hours": (29.0, None, "new", None),
        "close_p90_hours": (71.0, None, "new", None),
        "interactions": (2.0, 1.5, "up", False),
        "not_solved": (pytest.approx(1 / 3), 0.0, "up", False),
        "first_contact": (pytest.approx(1 / 3), 1.0, "down", False),
        "csat_average": (3.0, None, "new", None),
        "csat_response_rate": (pytest.approx(2 / 3), 1.0, "down", False),
    }


def test_a_weekly_series_of_twelve_weeks_ending_with_the_period(result):
    weeks = result.weeks
    assert len(weeks) == 12
    assert (weeks[0].start, weeks[-1].start) == (date(2026, 8, 17), date(2026, 11, 2))
    last, before = weeks[-1], weeks[-2]
    assert (last.created, last.resolved, last.within_sla, last.csat_average) == (
        5, 3, pytest.approx(0.4), 3.0,
    )  # fmt: skip
    assert (before.created, before.resolved, before.within_sla, before.csat_average) == (
        2, 1, 0.5, None,
    )  # fmt: skip
    assert all(week.created == 0 and week.within_sla is None for week in weeks[:-2])


def test_the_rows_read_reach_back_to_the_series_start():
    assert reach_back(START, END, BERLIN) == local_midnight(date(2026, 8, 17), BERLIN)
