"""The [problems] table of esmbot.toml: the spike detector's windows and thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.errors import ConfigError
from bot.tickets.durations import parse_duration


@dataclass(frozen=True)
class ProblemRules:
    """How the detector decides what is unusual; every value has a default."""

    # Run this often, on the leader only; count the tickets opened in the last `window`.
    every: timedelta = timedelta(minutes=5)
    window: timedelta = timedelta(minutes=40)
    # What is usual: the same window at the same weekday and time, over this many past weeks.
    history_weeks: int = 8
    # No alert below this many tickets, however rare they are.
    min_count: int = 5
    # How sure the Poisson bound is: a count above it happens by chance at most this often.
    false_alarm: float = 0.001
    # The rate assumed where the past saw none: a first ticket ever is no reason for alarm.
    floor_rate: float = 0.05
    # How alike two tickets' words must be (0 to 1) to be one group across modules.
    similarity: float = 0.5
    # A dismissed alert keeps its group quiet for this long.
    quiet_after_dismissal: timedelta = timedelta(hours=24)
    # Resolving a problem resolves its linked tickets with it.
    resolve_linked: bool = False


_KNOWN = {
    "every",
    "window",
    "history_weeks",
    "min_count",
    "false_alarm",
    "floor_rate",
    "similarity",
    "quiet_after_dismissal",
    "resolve_linked",
}


def parse_problem_rules(data: object, source: str) -> ProblemRules:
    if data is None:
        return ProblemRules()
    where = f"{source}: [problems]"
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ConfigError(
            f"{where} has unknown key {unknown[0]!r} (known keys: {', '.join(sorted(_KNOWN))})"
        )
    values: dict[str, Any] = {}
    for key in ("every", "window", "quiet_after_dismissal"):
        if key in data:
            values[key] = _wall_time(where, key, data[key])
    for key, low, high in (("history_weeks", 1, 52), ("min_count", 1, 10_000)):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"{where}.{key} must be a whole number from {low} to {high}")
            values[key] = value
    for key, bottom, top in (("false_alarm", 0.0, 0.5), ("floor_rate", 0.0, 100.0)):
        if key in data:
            number = data[key]
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ConfigError(f"{where}.{key} must be a number")
            if not bottom < number <= top:
                raise ConfigError(f"{where}.{key} must be above {bottom:g} and at most {top:g}")
            values[key] = float(number)
    if "similarity" in data:
        value = data["similarity"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise ConfigError(f"{where}.similarity must be a number above 0 and at most 1")
        values["similarity"] = float(value)
    if "resolve_linked" in data:
        if not isinstance(data["resolve_linked"], bool):
            raise ConfigError(f"{where}.resolve_linked must be true or false")
        values["resolve_linked"] = data["resolve_linked"]
    return ProblemRules(**values)


def _wall_time(where: str, key: str, text: object) -> timedelta:
    if not isinstance(text, str):
        raise ConfigError(f"{where}.{key}: {text!r} is not a duration (e.g. '40 minutes')")
    try:
        duration = parse_duration(text)
    except ValueError as error:
        raise ConfigError(f"{where}.{key}: {error}") from None
    if duration.business:
        raise ConfigError(f"{where}.{key}: counted on the wall clock, not in working time")
    return timedelta(**{duration.unit: duration.amount})
