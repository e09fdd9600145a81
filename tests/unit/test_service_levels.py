"""Each service level against the contract: met when no ticket missed it, unjudged when none had it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.config import parse_organisation
from bot.reports.kpis import summarise
from bot.reports.service_levels import service_levels
from tests.unit.test_kpis import BASE, NOW, T0

ORGANISATION = parse_organisation(
    {"sla": {"default": {"first_response": "8h", "resolution": "3 working days"}},
     "csat": {"target": 3.5}}
)  # fmt: skip


def test_the_targets_come_from_the_organisation_and_one_miss_misses_the_level():
    on_time = replace(BASE, status="in_progress", first_response_at=T0 + timedelta(hours=1))
    kpis = summarise([on_time, BASE], now=NOW, csat_scores=[4, 3], csat_target=3.5)

    levels = service_levels(kpis, ORGANISATION)

    first, resolution, vendor = levels.checks
    assert (first.name, str(first.target), first.measured, first.missed) == (
        "first_response",
        "8 hours",
        2,
        1,
    )
    assert (first.met, first.percent_on_time, first.mean) == (False, 50, timedelta(hours=1))
    assert (str(resolution.target), resolution.met) == ("3 working days", True)
    assert (vendor.measured, vendor.met, vendor.percent_on_time) == (0, None, None)
    assert (levels.csat_target, levels.csat_met) == (3.5, True)  # 3.5 is on the target
    assert (levels.met, levels.judged) == (2, 3)


def test_nothing_to_judge_is_neither_met_nor_missed():
    levels = service_levels(summarise([], now=NOW, csat_target=3.0), ORGANISATION)

    assert levels.verdicts == (None, None, None, None)
    assert (levels.met, levels.judged) == (0, 0)


def test_a_level_missed_by_one_in_a_thousand_never_reads_100_percent():
    # BASE is due 48 h after it came in; the deadline on each ticket decides, not the target.
    late = replace(BASE, status="in_progress", first_response_at=T0 + timedelta(hours=49))
    fine = replace(late, first_response_at=T0)
    kpis = summarise([late, *[fine] * 999], now=NOW, csat_target=3.0)

    assert service_levels(kpis, ORGANISATION).checks[0].percent_on_time == 99
