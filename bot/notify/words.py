"""The words of each language, and one reader's phrases, dates and durations in them."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.notify.filters import Problem
from bot.notify.template_error import TemplateError

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Instants kept written out per language and zone (`Phrases.when`), before starting afresh.
_WRITTEN_KEPT = 4096


def fill(phrase: str, params: Mapping[str, object], key: str) -> str:
    """Puts the parameters into a phrase's {name} placeholders; a missing one is an error."""
    if "{" not in phrase:  # most phrases: nothing to fill
        return phrase

    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name not in params or params[name] is None:
            raise Problem(f"{key!r} needs the parameter {name!r}", key=key)
        return str(params[name])

    return _PLACEHOLDER.sub(value, phrase)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, object]]:
    for name, value in table.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def load_words(directory: Path) -> dict[str, dict[str, object]]:
    """Every `<language>.toml` in the directory, flattened to dotted keys ("status.new").

    A language's words may be split over several files (`en.toml`, `en.dialogs.toml`), one per
    part of the product; a key defined twice is an error rather than a silent override.
    """
    languages: dict[str, dict[str, object]] = {}
    for path in sorted(directory.glob("*.toml")):
        language = path.name.split(".", 1)[0]
        try:
            with path.open("rb") as handle:
                words = dict(_flatten(tomllib.load(handle)))
        except tomllib.TOMLDecodeError as error:
            raise TemplateError(f"not valid TOML: {error}", template=f"i18n/{path.name}") from None
        known = languages.setdefault(language, {})
        twice = sorted(set(words) & set(known))
        if twice:
            raise TemplateError(f"{twice[0]!r} is defined twice", template=f"i18n/{path.name}")
        known.update(words)
    return languages


@lru_cache(maxsize=256)
def zone_named(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class Phrases:
    """The words, date and duration formats of one reader, for a render or a chat reply."""

    words: Mapping[str, object]
    fallback: Mapping[str, object] | None  # the default language's words, when not strict
    language: str
    zone: ZoneInfo
    # Instants already written out in these words and zone, shared by the renderer's Phrases
    # of the same language and zone: a status card writes the same few on every render.
    written: dict[datetime, str] = field(default_factory=dict, compare=False, repr=False)

    def t(self, key: str, /, **params: object) -> str:
        phrase = self.words.get(key)
        if phrase is None and self.fallback is not None:
            phrase = self.fallback.get(key)
        if not isinstance(phrase, str):
            raise Problem(f"no phrase {key!r} in {self.language}.toml", key=key)
        return fill(phrase, params, key)

    def when(self, value: datetime | None) -> str:
        if value is None:
            return self.t("common.not_set")
        written = self.written.get(value) if isinstance(value, datetime) else None
        if written is None:
            parts = self._date_parts(value, "when")
            local = value.astimezone(self.zone)
            written = self.t("date.format", **parts, time=f"{local:%H:%M}", zone=self.zone.key)
            if len(self.written) >= _WRITTEN_KEPT:
                self.written.clear()
            self.written[value] = written
        return written

    def day(self, value: datetime | None) -> str:
        """The local date of an instant, without the time: for spans of whole days."""
        if value is None:
            return self.t("common.not_set")
        return self.t("date.day_format", **self._date_parts(value, "day"))

    def _date_parts(self, value: object, caller: str) -> dict[str, object]:
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise Problem(f"{caller}() needs a timezone-aware datetime, got {value!r}")
        local = value.astimezone(self.zone)
        weekdays, months = self.words.get("date.weekdays"), self.words.get("date.months")
        if not (isinstance(weekdays, list) and isinstance(months, list)):
            raise Problem(f"{self.language}.toml needs date.weekdays and date.months", "date")
        return {
            "weekday": weekdays[local.weekday()],
            "day": local.day,
            "dd": f"{local.day:02d}",
            "month": months[local.month - 1],
            "mm": f"{local.month:02d}",
            "year": local.year,
        }

    def duration(self, value: timedelta | None) -> str:
        if value is None:
            return self.t("common.not_set")
        if not isinstance(value, timedelta):
            raise Problem(f"duration() needs a timedelta, got {value!r}")
        days, rest = divmod(int(abs(value).total_seconds()) // 60, 24 * 60)
        hours, minutes = divmod(rest, 60)
        amounts = [(days, "duration.days"), (hours, "duration.hours")]
        amounts.append((minutes, "duration.minutes"))
        while amounts and amounts[0][0] == 0:
            amounts.pop(0)
        if not amounts:
            return self.t("duration.under_a_minute")
        # Two neighbouring units say enough: "2 h 15 min", "3 d 4 h".
        return " ".join(self.t(key, n=amount) for amount, key in amounts[:2] if amount)
