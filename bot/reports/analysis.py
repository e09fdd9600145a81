"""The short analysis of a report, written from its figures by plain rules as phrase keys."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from bot.reports.trends import Report

# How many falling weeks in a row make a trend worth saying.
FALLING_WEEKS = 3


@dataclass(frozen=True)
class Finding:
    """One sentence: the phrase report.analysis.<key> and its parameters (names, not words,
    where the reader's language names them: a level, a stage, a figure)."""

    key: str
    params: dict[str, object]


def analyse(report: Report) -> list[Finding]:
    current = report.current
    levels = current.levels
    found = [
        Finding("levels", {"met": levels.met, "judged": levels.judged})
        if levels.judged
        else Finding("levels_none", {})
    ]
    causes = Counter(breach.level for breach in current.breaches)
    if causes:
        level, n = sorted(causes.items(), key=lambda item: (-item[1], item[0]))[0]
        found.append(
            Finding("breach_cause", {"level": level, "n": n, "total": len(current.breaches)})
        )
    else:
        found.append(Finding("no_breaches", {}))
    modules = {name: n for name, n in current.created.by_module.items() if name}
    if modules:
        module, n = next(iter(modules.items()))
        found.append(
            Finding("busiest_module", {"module": module, "n": n, "total": current.created.total})
        )
    stages = {stage: hours for stage, hours in current.stage_hours.items() if hours is not None}
    if stages:
        stage = max(stages, key=lambda name: stages[name])
        found.append(Finding("slowest_stage", {"stage": stage, "hours": stages[stage]}))
    worse = [change.name for change in report.changes if change.better is False]
    found.append(Finding("worse", {"figures": worse}) if worse else Finding("nothing_worse", {}))
    shares = [week.within_sla for week in report.weeks[-(FALLING_WEEKS + 1) :]]
    if len(shares) == FALLING_WEEKS + 1 and all(
        a is not None and b is not None and b < a for a, b in itertools.pairwise(shares)
    ):
        found.append(Finding("trend_down", {}))
    return found
