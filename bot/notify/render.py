"""Renders a message template, sandboxed, into an Adaptive Card, plain text and a summary."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import BytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.notify.card_size import (
    MAX_CARD_BYTES,
    NOTIFICATION_LIMIT,
    SHORT_LIMIT,
    SHRINK_STEPS,
    TEXT_LIMIT,
    clip_extra,
    clip_ticket,
    fits,
)
from bot.notify.filters import Problem, clip, md, plain, to_json
from bot.notify.formats import cldr_locale
from bot.notify.labels import label
from bot.notify.links import chat_link, link
from bot.notify.template_check import TemplateChecker, missing_phrases
from bot.notify.template_error import TemplateError
from bot.notify.views import Reader, TicketView
from bot.notify.words import BASE_LANGUAGE, Phrases, load_words, zone_named

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# The comma a template's loop leaves before a closing bracket. Text comes in through the json
# filter, which writes its brackets as escapes, so every bracket here is structure; scanning
# for the strings instead took a tenth of a render.
_TRAILING_COMMA = re.compile(r",\s*(?=[\]}])")


@dataclass(frozen=True)
class RenderedMessage:
    """What goes to Teams: the card, a few lines of plain text, and the notification summary."""

    card: dict[str, Any]
    text: str
    summary: str


# The reader's words while a message renders. Macros reach them through the globals below, so
# that "_macros.j2.inc" is imported without the template's context: Jinja then builds its macros
# once, instead of a dozen closures on every render, each a reference cycle left for the garbage
# collector.
_READING: ContextVar[Phrases] = ContextVar("reading")


def _t(key: str, /, **params: object) -> str:
    return _READING.get().t(key, **params)


def _when(value: datetime | None) -> str:
    return _READING.get().when(value)


def _day(value: datetime | None) -> str:
    return _READING.get().day(value)


def _duration(value: timedelta | None) -> str:
    return _READING.get().duration(value)


def _plural(key: str, n: int, /, **params: object) -> str:
    return _READING.get().plural(key, n, **params)


def _number(value: float | int | None, digits: int | None = None) -> str:
    return _READING.get().number(value, digits)


def _label(kind: str, value: str) -> str:
    return label(_READING.get(), kind, value)


class Renderer:
    """Renders messages from one templates directory; safe to share between tasks.

    `<audience>/<message>.json.j2` renders `{"summary": "...", "text": ["line", ...], "body":
    [...], "actions": [...]}`, and the renderer wraps body and actions into the card. Every
    `{{ }}` must end in `| json` or be a macro call (checked when the template is first loaded),
    so values are data, never structure. Lists and objects may end in a comma, because optional
    items make exact commas fragile.
    """

    def __init__(
        self,
        templates_dir: str | Path,
        default_locale: str,
        default_time_zone: ZoneInfo | str,
        *,
        strict: bool = True,
        compiled: BytecodeCache | None = None,
    ) -> None:
        """The languages are the words files in `<templates_dir>/i18n`. A phrase missing in
        the reader's language is said in English (and the gap logged once, here); with
        strict=False it is first looked for in the organisation's default language. `compiled`
        keeps the templates compiled between starts (Jinja's bytecode cache)."""
        self.templates_dir = Path(templates_dir)
        self._words = load_words(self.templates_dir / "i18n")
        self.missing_phrases = missing_phrases(self._words)
        for language, keys in self.missing_phrases.items():
            log.warning(
                "%s.toml lacks %d phrases, said in English instead: %s",
                language,
                len(keys),
                ", ".join(keys[:10]) + (" …" if len(keys) > 10 else ""),
            )
        if default_locale not in self._words:
            raise TemplateError(
                f"no words for the default locale {default_locale!r}", template="i18n"
            )
        zone = zone_named(str(default_time_zone))
        if zone is None:
            raise TemplateError(f"{default_time_zone!r} is not a time zone", template="i18n")
        self.default_locale, self.default_time_zone, self.strict = default_locale, zone, strict
        # Jinja's own sandbox, as it comes: the templates are files an organisation may edit,
        # and this is what keeps a bad edit from reading or changing what it should not.
        self._env = ImmutableSandboxedEnvironment(
            loader=FileSystemLoader(self.templates_dir),
            undefined=StrictUndefined,
            autoescape=False,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
            bytecode_cache=compiled,
        )
        self._env.filters.update(json=to_json, md=md, plain=plain, clip=clip)
        self._env.globals.update(
            chat_link=chat_link,
            link=link,
            t=_t,
            plural=_plural,
            number=_number,
            label=_label,
            when=_when,
            day=_day,
            duration=_duration,
        )
        self._checker = TemplateChecker(self._env)
        self._written: dict[tuple[str, str], dict[datetime, str]] = {}

    @property
    def languages(self) -> Mapping[str, Mapping[str, object]]:
        """The words of every language, by language code."""
        return MappingProxyType(self._words)

    def language_for(self, reader: Reader) -> str:
        """The language part of the reader's Teams locale if there are words for it."""
        if reader.locale:
            language = reader.locale.replace("_", "-").split("-")[0].lower()
            if language in self._words:
                return language
        return self.default_locale

    def time_zone_for(self, reader: Reader) -> ZoneInfo:
        zone = zone_named(reader.time_zone) if reader.time_zone else None
        return zone or self.default_time_zone

    def phrases(self, reader: Reader) -> Phrases:
        """The reader's words; a missing phrase raises TemplateError naming the key."""
        language = self.language_for(reader)
        fallbacks = [] if self.strict else [self.default_locale]
        fallbacks.append(BASE_LANGUAGE)
        words = tuple(
            self._words[other]
            for other in dict.fromkeys(fallbacks)
            if other != language and other in self._words
        )
        zone = self.time_zone_for(reader)
        written = self._written.setdefault((language, zone.key), {})
        locale = cldr_locale(language)
        assert locale is not None  # load_words keeps only languages CLDR knows
        return Phrases(self._words[language], words, language, zone, locale, written)

    def render(
        self,
        audience: str,
        message: str,
        *,
        ticket: TicketView | None,
        reader: Reader,
        extras: Mapping[str, object],
    ) -> RenderedMessage:
        """Renders `<audience>/<message>.json.j2`; any failure raises TemplateError."""
        name = f"{audience}/{message}.json.j2"
        if not (_NAME.match(audience) and _NAME.match(message)):
            raise TemplateError("audience and message are lower-case names", template=name)
        self._checker.check(name)
        reading = self.phrases(reader)
        token = _READING.set(reading)
        try:
            return self._render(name, reading.language, ticket=ticket, reader=reader, extras=extras)
        finally:
            _READING.reset(token)

    def _render(
        self,
        name: str,
        language: str,
        *,
        ticket: TicketView | None,
        reader: Reader,
        extras: Mapping[str, object],
    ) -> RenderedMessage:
        # The reader's words (t, when, day, duration, label) are the environment's globals, which
        # answer from _READING: one way in, for templates and the shared macros alike.
        for scale in SHRINK_STEPS:
            try:
                source = self._env.get_template(name).render(
                    ticket=clip_ticket(ticket, scale),
                    reader=replace(reader, name=clip(reader.name, SHORT_LIMIT) or None),
                    extras={key: clip_extra(value, scale) for key, value in extras.items()},
                    language=language,
                )
            except Problem as problem:
                raise TemplateError(str(problem), template=name, key=problem.key) from None
            except Exception as error:  # undefined names, sandbox refusals, bad arguments
                raise TemplateError(f"{type(error).__name__}: {error}", template=name) from error
            source = _TRAILING_COMMA.sub("", source)
            envelope, has_float = _parsed(name, source)
            rendered = _assemble(name, envelope)
            if fits(source, has_float, rendered.card):
                return rendered
        raise TemplateError(f"the card stays over {MAX_CARD_BYTES} bytes", template=name)


def _parsed(name: str, source: str) -> tuple[Any, bool]:
    """The template's output read as JSON, and whether it holds a float."""
    floats: list[str] = []

    def read_float(text: str) -> float:
        floats.append(text)
        return float(text)

    try:
        return json.loads(source, parse_float=read_float), bool(floats)
    except json.JSONDecodeError as error:
        raise TemplateError(f"did not render valid JSON ({error})", template=name) from None


def _assemble(name: str, envelope: Any) -> RenderedMessage:
    shape = {"summary": str, "text": list, "body": list, "actions": list}
    # A card that asks Teams for each viewer's version (Universal Actions) says how in "refresh".
    refresh = envelope.get("refresh") if isinstance(envelope, dict) else None
    if not (
        isinstance(envelope, dict)
        and set(envelope) - {"refresh"} == set(shape)
        and isinstance(refresh, dict | None)
        and all(isinstance(envelope[key], kind) for key, kind in shape.items())
        and all(isinstance(line, str) for line in envelope["text"])
        and envelope["body"]
        and plain(envelope["summary"])
    ):
        shapes = ", ".join(f"{key}: {kind.__name__}" for key, kind in shape.items())
        raise TemplateError(f"must render {{{shapes}}} with a body", template=name)
    card: dict[str, Any] = {"type": "AdaptiveCard", "version": "1.5", "msteams": {"width": "Full"}}
    card["body"] = envelope["body"]
    if envelope["actions"]:  # an empty list is valid, but some clients draw an empty bar
        card["actions"] = envelope["actions"]
    if refresh:
        card["refresh"] = refresh
    text = "\n".join(line for line in map(plain, envelope["text"]) if line)
    summary = plain(envelope["summary"], NOTIFICATION_LIMIT)
    return RenderedMessage(card=card, text=clip(text, TEXT_LIMIT), summary=summary)
