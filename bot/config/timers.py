"""When esmbot follows up on its own: nudges, reminders, surveys, the daily digest, the weekly report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from bot.errors import ConfigError
from bot.tickets.durations import Duration, parse_duration

# Durations are frozen values, so one instance can be every Timers' default.
_AUTO_RESOLVE = Duration(5, "days", business=True)
_SURVEY_DELAY = Duration(1, "hours")
_SURVEY_REMINDER = Duration(2, "days", business=True)
_SURVEY_EXPIRY = Duration(7, "days")
_REOPEN_WINDOW = Duration(10, "days", business=True)
_DIALOG_EXPIRY = Duration(1, "days")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Timers:
    """The [timers] table of esmbot.toml; every value has a default from the example contract."""

    nudges: tuple[float, ...] = (0.5, 0.75, 0.9)
    customer_reminders: tuple[Duration, ...] = (
        Duration(1, "days", business=True),
        Duration(2, "days", business=True),
    )
    auto_resolve_after: Duration | None = _AUTO_RESOLVE
    survey_delay: Duration = _SURVEY_DELAY
    survey_reminder: Duration = _SURVEY_REMINDER
    survey_expiry: Duration = _SURVEY_EXPIRY
    low_csat: int = 2
    digest_at: time = time(8, 0)
    # The weekly report falls on this weekday (0 = Monday), or on the next working day of the
    # same ISO week when it is a day off; at weekly_report_at, or at digest_at when that is None.
    weekly_report_on: int = 0
    weekly_report_at: time | None = None
    sweep_seconds: int = 30
    # A customer writing about a resolved or closed ticket this soon is asked to reopen it.
    reopen_window: Duration = _REOPEN_WINDOW
    # A ticket draft or question left unanswered this long is dropped on the next message.
    dialog_expiry: Duration = _DIALOG_EXPIRY

    @property
    def weekly_time(self) -> time:
        return self.weekly_report_at or self.digest_at


_KNOWN = {
    "nudges",
    "customer_reminders",
    "auto_resolve_after",
    "survey_delay",
    "survey_reminder",
    "survey_expiry",
    "low_csat",
    "digest_at",
    "weekly_report_on",
    "weekly_report_at",
    "sweep_seconds",
    "reopen_window",
    "dialog_expiry",
}


def parse_timers(data: object, source: str) -> Timers:
    if data is None:
        return Timers()
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: [timers] must be a table")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ConfigError(
            f"{source}: [timers] has unknown key {unknown[0]!r} (known keys: {', '.join(sorted(_KNOWN))})"
        )
    where = f"{source}: [timers]"
    values: dict[str, Any] = {}
    if "nudges" in data:
        nudges = data["nudges"]
        if not isinstance(nudges, list) or not all(
            isinstance(n, int | float) and 0 < n < 1 for n in nudges
        ):
            raise ConfigError(
                f"{where}.nudges must be a list of shares between 0 and 1, e.g. [0.5, 0.75, 0.9]"
            )
        values["nudges"] = tuple(sorted(float(n) for n in nudges))
    if "customer_reminders" in data:
        reminders = data["customer_reminders"]
        if not isinstance(reminders, list):
            raise ConfigError(f"{where}.customer_reminders must be a list of durations")
        values["customer_reminders"] = tuple(
            _duration(where, "customer_reminders", text) for text in reminders
        )
    if "auto_resolve_after" in data:
        text = data["auto_resolve_after"]
        values["auto_resolve_after"] = (
            None if text in ("", "never") else _duration(where, "auto_resolve_after", text)
        )
    for key in (
        "survey_delay",
        "survey_reminder",
        "survey_expiry",
        "reopen_window",
        "dialog_expiry",
    ):
        if key in data:
            values[key] = _duration(where, key, data[key])
    if "low_csat" in data:
        if data["low_csat"] not in (1, 2, 3):
            raise ConfigError(
                f"{where}.low_csat must be 1, 2 or 3 (scores at or below it alert management)"
            )
        values["low_csat"] = data["low_csat"]
    for key in ("digest_at", "weekly_report_at"):
        if key in data:
            values[key] = _time_of_day(where, key, data[key])
    if "weekly_report_on" in data:
        day = data["weekly_report_on"]
        if not isinstance(day, str) or day.lower() not in WEEKDAYS:
            raise ConfigError(
                f"{where}.weekly_report_on: {day!r} is not a weekday (use {', '.join(WEEKDAYS)})"
            )
        values["weekly_report_on"] = WEEKDAYS.index(day.lower())
    if "sweep_seconds" in data:
        if not isinstance(data["sweep_seconds"], int) or not 1 <= data["sweep_seconds"] <= 3600:
            raise ConfigError(
                f"{where}.sweep_seconds must be a whole number of seconds from 1 to 3600"
            )
        values["sweep_seconds"] = data["sweep_seconds"]
    return Timers(**values)


def _time_of_day(where: str, key: str, text: object) -> time:
    try:
        return time.fromisoformat(str(text))
    except ValueError:
        raise ConfigError(f"{where}.{key}: {text!r} is not a time of day (e.g. '08:00')") from None


def _duration(where: str, key: str, text: object) -> Duration:
    if not isinstance(text, str):
        raise ConfigError(f"{where}.{key}: {text!r} is not a duration")
    try:
        return parse_duration(text)
    except ValueError as error:
        raise ConfigError(f"{where}.{key}: {error}") from None
