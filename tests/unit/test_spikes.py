"""The spike test by hand-computed examples, and eight synthetic weeks with and without a spike."""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.config.problem_rules import ProblemRules
from bot.problems.spikes import (
    Spike,
    is_spike,
    poisson_upper_bound,
    spikes,
    usual_rate,
)

RULES = ProblemRules()


@pytest.mark.parametrize(
    ("rate", "bound"),
    [
        # P(X<=k) at 0.4: 0.67032, 0.93845, 0.99207, 0.99922 -> 3 is the first >= 0.999.
        (0.4, 3),
        # At 0.3: 0.74082, 0.96306, 0.99640, 0.99973 -> 3.
        (0.3, 3),
        # At 0: X is always 0.
        (0.0, 0),
        # At 3: ..., P(X<=9) = 0.99890, P(X<=10) = 0.99971 -> 10.
        (3.0, 10),
    ],
)
def test_the_upper_bound_is_the_one_computed_by_hand(rate, bound):
    assert poisson_upper_bound(rate, 0.001) == bound


def test_six_in_forty_minutes_where_point_four_is_usual_is_a_spike():
    assert is_spike(6, 0.4, RULES)


def test_two_at_night_where_point_three_is_usual_is_not():
    assert not is_spike(2, 0.3, RULES)


def test_the_minimum_count_holds_even_where_nothing_is_usual():
    # At the floor of 0.05: P(X<=1) = 0.99879, P(X<=2) = 0.99998 -> 2.
    assert poisson_upper_bound(RULES.floor_rate, RULES.false_alarm) == 2
    assert not is_spike(4, 0.0, RULES)
    assert is_spike(5, 0.0, RULES)


def test_a_busy_hour_needs_more_than_a_quiet_one():
    assert not is_spike(10, 3.0, RULES)
    assert is_spike(11, 3.0, RULES)


def test_the_usual_rate_is_the_mean_of_past_weeks_with_a_floor():
    assert usual_rate([0, 1, 0, 1, 0, 0, 1, 0], RULES) == pytest.approx(0.375)
    assert usual_rate([0] * 8, RULES) == RULES.floor_rate
    assert usual_rate([], RULES) == RULES.floor_rate


def test_spikes_lists_only_the_unusual_groups_largest_first():
    now = {("Checkout", "incident"): 6, ("Printer", "service request"): 2, ("Admin", "bug"): 7}
    past = {
        ("Checkout", "incident"): [0, 1, 0, 0, 1, 0, 1, 0],
        ("Admin", "bug"): [3, 4, 2, 3, 3, 4, 3, 2],  # usual 3: 7 is within the bound of 10
    }

    assert spikes(now, past, RULES) == [Spike(("Checkout", "incident"), 6, 0.375)]


# Synthetic history: tickets per hour by module, higher in working hours, as a Poisson process.
MODULES = {"Checkout": 0.6, "Payment": 0.3, "Catalog": 0.4, "Admin": 0.2, "Shipping": 0.3}
START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday
WEEK = timedelta(days=7)


def _history(weeks: int, seed: int) -> dict[str, list[datetime]]:
    randomness = random.Random(seed)
    arrivals: dict[str, list[datetime]] = {}
    for module, busy_rate in MODULES.items():
        moments, at = [], START
        end = START + weeks * WEEK
        while at < end:
            working = at.weekday() < 5 and 7 <= at.hour < 17
            rate = busy_rate if working else busy_rate / 10  # per hour
            at += timedelta(hours=randomness.expovariate(rate))
            moments.append(at)
        arrivals[module] = moments
    return arrivals


def _count(moments: list[datetime], start: datetime, end: datetime) -> int:
    return bisect.bisect_left(moments, end) - bisect.bisect_left(moments, start)


def _alerts(arrivals: dict[str, list[datetime]], weeks: range, rules: ProblemRules) -> list:
    """Runs the detector every `rules.every` over the weeks; an alert keeps its group quiet
    until its window has passed (the detector counts no ticket twice)."""
    raised = []
    quiet_until: dict[str, datetime] = {}
    at = START + weeks.start * WEEK
    end = START + weeks.stop * WEEK
    while at < end:
        now, past = {}, {}
        for module, moments in arrivals.items():
            if quiet_until.get(module, at) > at:
                continue
            now[(module, "incident")] = _count(moments, at - rules.window, at)
            back = [at - k * WEEK for k in range(1, rules.history_weeks + 1)]
            past[(module, "incident")] = [
                _count(moments, moment - rules.window, moment) for moment in back
            ]
        for spike in spikes(now, past, rules):
            raised.append((at, spike))
            quiet_until[spike.key[0]] = at + rules.window
        at += rules.every
    return raised


def test_eight_quiet_weeks_raise_at_most_one_alert_a_week():
    arrivals = _history(16, seed=26)

    raised = _alerts(arrivals, range(8, 16), RULES)

    per_week = [
        sum(1 for at, _ in raised if START + w * WEEK <= at < START + (w + 1) * WEEK)
        for w in range(8, 16)
    ]
    print(f"alerts per quiet week: {per_week}")
    assert max(per_week) <= 1, per_week


def test_six_checkout_tickets_in_forty_minutes_are_caught_in_one_run():
    arrivals = _history(16, seed=26)
    # Tuesday 10:40 of the last week, six tickets within forty minutes.
    spike_start = START + 15 * WEEK + timedelta(days=1, hours=10, minutes=40)
    injected = [spike_start + timedelta(minutes=7 * i) for i in range(6)]
    arrivals["Checkout"] = sorted(arrivals["Checkout"] + injected)
    last = injected[-1]

    raised = _alerts(arrivals, range(15, 16), RULES)

    caught = [at for at, spike in raised if spike.key[0] == "Checkout" and at >= spike_start]
    assert caught, raised
    # Raised by the first run after the sixth ticket at the latest (here already at the fifth).
    assert caught[0] <= last + RULES.every
    print(f"first ticket to alert: {caught[0] - spike_start}")
