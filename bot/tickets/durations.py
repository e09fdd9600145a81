"""Parses the service-level durations written in esmbot.toml ("48h", "5 working days")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Unit = Literal["minutes", "hours", "days"]

_UNITS: dict[str, Unit] = {
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
}
_BUSINESS_WORDS = {"working", "business"}
_PATTERN = re.compile(r"^\s*(\d+)\s*(?:(working|business)\s+)?([a-z]+)\s*$")


@dataclass(frozen=True)
class Duration:
    """An amount of time, either on the wall clock or counted only in business time."""

    amount: int
    unit: Unit
    business: bool = False

    def __str__(self) -> str:
        kind = "working " if self.business else ""
        return f"{self.amount} {kind}{self.unit}"


def parse_duration(text: str) -> Duration:
    """Reads "48h", "30 minutes", "5 working days" or "16 business hours".

    Raises ValueError with a message that says what a valid duration looks like.
    """
    match = _PATTERN.match(text.lower())
    unit = _UNITS.get(match.group(3)) if match else None
    if match is None or unit is None or match.group(2) not in (None, *_BUSINESS_WORDS):
        raise ValueError(
            f"{text!r} is not a duration (examples: '48h', '30 minutes', '5 working days', "
            "'16 business hours')"
        )
    amount = int(match.group(1))
    if amount <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    business = match.group(2) is not None
    if business and unit == "minutes":
        raise ValueError(f"{text!r}: business time is counted in hours or days, not minutes")
    return Duration(amount=amount, unit=unit, business=business)
