"""The words of each language, and one reader's phrases, dates, numbers and durations in them."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale

from bot.notify import formats
from bot.notify.filters import Problem
from bot.notify.template_error import TemplateError

# The language every phrase is written in first: a phrase another language lacks is said in it.
BASE_LANGUAGE = "en"
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
        if formats.cldr_locale(language) is None:
            message = f"{language!r} is not a language code CLDR knows"
            raise TemplateError(message, template=f"i18n/{path.name}")
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
    """The words, dates, numbers and durations of one reader, for a render or a chat reply."""

    words: Mapping[str, object]
    # Where a phrase missing in the reader's language is taken from, in turn: English, and
    # the organisation's default language when the renderer is not strict.
    fallbacks: tuple[Mapping[str, object], ...]
    language: str
    zone: ZoneInfo
    locale: Locale
    # Instants already written out in these words and zone, shared by the renderer's Phrases
    # of the same language and zone: a status card writes the same few on every render.
    written: dict[datetime, str] = field(default_factory=dict, compare=False, repr=False)

    def t(self, key: str, /, **params: object) -> str:
        phrase = self.words.get(key)
        for fallback in self.fallbacks:
            if phrase is not None:
                break
            phrase = fallback.get(key)
        if not isinstance(phrase, str):
            raise Problem(f"no phrase {key!r} in {self.language}.toml", key=key)
        return fill(phrase, params, key)

    def plural(self, key: str, n: int, /, **params: object) -> str:
        """The phrase `key.<form>` for CLDR's plural form of n in this language ("one",
        "few", ...), or `key.other` where the language says n the same way; {n} is filled."""
        form = f"{key}.{self.locale.plural_form(abs(n))}"
        if form not in self.words and not any(form in words for words in self.fallbacks):
            form = f"{key}.other"
        return self.t(form, **params, n=self.number(n))

    def number(self, value: float | int | None, digits: int | None = None) -> str:
        if value is None:
            return self.t("common.not_set")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Problem(f"number() needs a number, got {value!r}")
        return formats.number(value, digits, self.locale)

    def when(self, value: datetime | date | None) -> str:
        if value is None:
            return self.t("common.not_set")
        if not isinstance(value, datetime):
            return self.day(value)  # a day that nobody gave a time: no time is made up
        written = self.written.get(value)
        if written is None:
            _check_instant(value, "when")
            written = formats.instant(value, self._pattern("date.when", 1), self.zone, self.locale)
            if len(self.written) >= _WRITTEN_KEPT:
                self.written.clear()
            self.written[value] = written
        return written

    def moment(self, value: datetime, key: str) -> str:
        """An instant in a pattern of this language's words (`key`, say "commands.date.due"),
        for a reply that names its zone once rather than beside every time."""
        _check_instant(value, "moment")
        pattern = self.t(key)
        return formats.instant(value, pattern, self.zone, self.locale)

    def day(self, value: datetime | date | None) -> str:
        """The local date of an instant, without the time (for spans of whole days), or a
        calendar day, which is the same day in every zone."""
        if value is None:
            return self.t("common.not_set")
        pattern = self._pattern("date.day", 0)
        if isinstance(value, date) and not isinstance(value, datetime):
            return formats.day(value, pattern, self.locale)
        _check_instant(value, "day")
        return formats.instant(value, pattern, self.zone, self.locale)

    def _pattern(self, key: str, standard: int) -> str:
        """The language's own CLDR pattern if its words name one, else CLDR's standard: never
        another language's, which would put a foreign order around these names."""
        pattern = self.words.get(key)
        if isinstance(pattern, str):
            return pattern
        return formats.standard_patterns(self.locale)[standard]

    def duration(self, value: timedelta | None, *, days: bool = True) -> str:
        """A span in its two largest units; working time in hours at most (`days=False`)."""
        if value is None:
            return self.t("common.not_set")
        if not isinstance(value, timedelta):
            raise Problem(f"duration() needs a timedelta, got {value!r}")
        told = formats.duration(value, self.locale, days=days)
        return told or self.t("duration.under_a_minute")

    def listing(self, items: list[str], *, style: str = "standard") -> str:
        """Items joined in this language: "agents and managers"; `style="or"` for a choice."""
        return formats.listing(items, style, self.locale)


def _check_instant(value: object, caller: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise Problem(f"{caller}() needs a timezone-aware datetime, got {value!r}")
