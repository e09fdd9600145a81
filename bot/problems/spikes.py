"""When a count of new tickets is unusual: a Poisson upper bound over the usual rate; pure.

The usual rate of a (module, type) is the mean count of the same window at the same weekday
and time over the past weeks. A count is a spike when it is at least the minimum and above the
count that a Poisson process at the usual rate stays at or below with the chosen confidence:
small counts never alarm ("2 tickets where 0.3 are usual at night" is not a spike), and a busy
hour needs more than a quiet one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config.problem_rules import ProblemRules


def poisson_upper_bound(rate: float, false_alarm: float) -> int:
    """The smallest k with P(X <= k) >= 1 - false_alarm for X ~ Poisson(rate)."""
    if rate < 0 or not 0 < false_alarm < 1:
        raise ValueError("the rate must not be negative and false_alarm must be in (0, 1)")
    term = math.exp(-rate)
    total, k = term, 0
    while total < 1.0 - false_alarm:
        k += 1
        term *= rate / k
        total += term
    return k


def usual_rate(past_counts: Sequence[int], rules: ProblemRules) -> float:
    """The mean of the same window's counts in past weeks, never below the floor."""
    if not past_counts:
        return rules.floor_rate
    return max(sum(past_counts) / len(past_counts), rules.floor_rate)


def is_spike(observed: int, usual: float, rules: ProblemRules) -> bool:
    return observed >= rules.min_count and observed > poisson_upper_bound(usual, rules.false_alarm)


@dataclass(frozen=True)
class Spike:
    """A group whose count now is unusual: what it is, how many, and what is usual."""

    key: tuple[str, str]  # (module, type)
    observed: int
    usual: float


def spikes(
    now: Mapping[tuple[str, str], int],
    past: Mapping[tuple[str, str], Sequence[int]],
    rules: ProblemRules,
) -> list[Spike]:
    """Every group of `now` whose count is a spike against its `past` counts, largest first."""
    found = []
    for key, observed in now.items():
        usual = usual_rate(past.get(key, ()), rules)
        if is_spike(observed, usual, rules):
            found.append(Spike(key, observed, usual))
    return sorted(found, key=lambda spike: (-spike.observed, spike.key))
