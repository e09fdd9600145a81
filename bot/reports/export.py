"""A report as plain data: JSON for machines and the dashboard, CSV for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from bot.reports.figures import Figures
from bot.reports.trends import Report


def as_data(report: Report) -> dict[str, Any]:
    """The whole report as JSON-ready values: times in UTC ISO 8601, shares from 0 to 1."""
    return {
        "period": {"start": _plain(report.current.start), "end": _plain(report.current.end)},
        "current": figures_data(report.current),
        "previous": figures_data(report.previous),
        "changes": [
            {
                "figure": c.name,
                "now": c.now,
                "before": c.before,
                "direction": c.direction,
                "better": c.better,
            }
            for c in report.changes
        ],
        "weeks": [
            {
                "start": _plain(w.start),
                "created": w.created,
                "resolved": w.resolved,
                "within_sla": w.within_sla,
                "csat_average": w.csat_average,
            }
            for w in report.weeks
        ],
    }


def figures_data(figures: Figures) -> dict[str, Any]:
    kpis, levels = figures.kpis, figures.levels
    return {
        "start": _plain(figures.start),
        "end": _plain(figures.end),
        "created": _plain(figures.created),
        "resolved": _plain(figures.resolved),
        "closed": _plain(figures.closed),
        "service_levels": [
            {
                "level": check.name,
                "target": str(check.target),
                "measured": check.measured,
                "missed": check.missed,
                "percent_on_time": check.percent_on_time,
                "met": check.met,
            }
            for check in levels.checks
        ],
        "csat_level": {"target": levels.csat_target, "met": levels.csat_met},
        "within_sla": kpis.within_sla,
        "breaches": [_plain(breach) for breach in figures.breaches],
        "time_to_close_hours": {
            "calendar": _plain(figures.close_calendar),
            "working": _plain(figures.close_working),
        },
        "stage_hours": figures.stage_hours,
        "interactions_per_ticket": kpis.mean_interactions,
        "not_solved": {"count": kpis.not_solved, "share": figures.not_solved_share},
        "first_contact": {"count": kpis.first_contact, "share": figures.first_contact_share},
        "csat": {
            "answers": figures.csat.answers,
            "average": figures.csat.average,
            "distribution": {str(score): n for score, n in figures.csat.distribution.items()},
            "sent": figures.csat.sent,
            "response_rate": figures.csat.response_rate,
        },
        "per_agent": kpis.by_owner,
        "unassigned": kpis.unassigned,
        "per_day": [{"day": _plain(day), "by_type": types} for day, types in figures.daily],
    }


def as_csv(report: Report) -> str:
    """One line per value: where it sits in the JSON (dotted) and the value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["figure", "value"])
    for path, value in _flat(as_data(report)):
        writer.writerow([path, "" if value is None else value])
    return out.getvalue()


def _flat(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flat(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for number, inner in enumerate(value):
            yield from _flat(inner, f"{path}.{number}")
    else:
        yield path, value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(key): _plain(inner) for key, inner in value.items()}
    return value
