"""The CTQ tree of a period: the customers' complaints, their drivers, and each metric against its
target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.reports.figures import Figures

Unit = Literal["percent", "hours", "number"]
# The desk's own targets for the metrics the contract does not state; the service levels'
# targets (everything on time) are the contract's.
TARGETS: Mapping[str, float] = {
    "not_solved": 0.10,  # at most a tenth of the resolved tickets come back or are rated low
    "first_contact": 0.60,
    "first_response": 1.0,
    "resolution": 1.0,
    "close_median": 24.0,  # hours, calendar
    "interactions": 3.0,
}
# Whether a metric meets its target from above (at least) or from below (at most).
AT_LEAST = frozenset({"first_contact", "first_response", "resolution"})


@dataclass(frozen=True)
class Leaf:
    """One metric: its value in the period, its target and whether it meets it."""

    name: str  # the phrase report.tree.<name>
    value: float | None
    target: float | None
    unit: Unit
    met: bool | None
    params: Mapping[str, str] | None = None  # for a leaf whose words name something


@dataclass(frozen=True)
class Driver:
    name: str  # report.tree.<name>
    leaves: tuple[Leaf, ...]


@dataclass(frozen=True)
class Complaint:
    name: str  # report.tree.<name>
    drivers: tuple[Driver, ...]


def _leaf(name: str, value: float | None, unit: Unit) -> Leaf:
    target = TARGETS[name]
    if value is None:
        return Leaf(name, None, target, unit, None)
    met = value >= target if name in AT_LEAST else value <= target
    return Leaf(name, value, target, unit, met)


def _on_time(figures: Figures, level: str) -> float | None:
    check = next(c for c in figures.levels.checks if c.name == level)
    return (check.measured - check.missed) / check.measured if check.measured else None


def ctq_tree(current: Figures, previous: Figures) -> tuple[Complaint, ...]:
    """The three complaints of the CTQ tree, measured on `current`; the volume's target is the
    previous period's (no more tickets than before)."""
    types = current.created.by_type
    top = next(iter(types), None)
    volume = Leaf(
        "created",
        current.created.total,
        previous.created.total,
        "number",
        current.created.total <= previous.created.total,
    )
    top_type = Leaf(
        "top_type",
        types[top] if top else None,
        previous.created.by_type.get(top, 0) if top else None,
        "number",
        types[top] <= previous.created.by_type.get(top, 0) if top else None,
        {"type": top} if top else None,
    )
    return (
        Complaint(
            "unsolved",
            (
                Driver(
                    "solved_first_time",
                    (
                        _leaf("not_solved", current.not_solved_share, "percent"),
                        _leaf("first_contact", current.first_contact_share, "percent"),
                    ),
                ),
            ),
        ),
        Complaint(
            "too_long",
            (
                Driver(
                    "quick_answer",
                    (_leaf("first_response", _on_time(current, "first_response"), "percent"),),
                ),
                Driver(
                    "quick_fix",
                    (
                        _leaf("resolution", _on_time(current, "resolution"), "percent"),
                        _leaf("close_median", current.close_calendar.median_hours, "hours"),
                        _leaf("interactions", current.kpis.mean_interactions, "number"),
                    ),
                ),
            ),
        ),
        Complaint(
            "too_many", (Driver("fewer_incidents", (volume, top_type) if top else (volume,)),)
        ),
    )
