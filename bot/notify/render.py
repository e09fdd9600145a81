"""Renders a message template, sandboxed, into an Adaptive Card, plain text and a summary."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import (
    Callable,
    Iterator,
    Mapping,
    MutableMapping,
    MutableSequence,
    MutableSet,
)
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from types import FunctionType
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import FileSystemLoader, StrictUndefined, nodes
from jinja2.runtime import Context, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.errors import EsmbotError
from bot.notify.filters import Problem, clean, clip, md, plain, to_json
from bot.notify.views import Outage, Reader, TicketView

# Teams takes about 80 KB per message; a card this size leaves room for the activity around it
# and for the fallback text, even when Teams counts every non-ASCII character as a \u escape.
MAX_CARD_BYTES = 28 * 1024
SHORT_LIMIT = 100  # names, types, modules
SUMMARY_LIMIT = 200  # a ticket's summary
LONG_LIMIT = 1500  # descriptions, steps, comments, questions and every other free text
NOTIFICATION_LIMIT = 150  # the one-line summary a phone shows
TEXT_LIMIT = 2000  # the whole plain-text fallback
# When a card is still too big (emoji and escapes take more bytes than letters), the free texts
# are cut further, step by step, rather than failing the message.
_SHRINK_STEPS = (1.0, 0.5, 0.25, 0.1)
# Instants kept written out per language and zone (`Phrases.when`), before starting afresh.
_WRITTEN_KEPT = 4096
_TICKET_LIMITS = {
    **dict.fromkeys(("type", "priority", "module", "assignee_name", "reporter_name"), SHORT_LIMIT),
    **dict.fromkeys(("impact", "steps", "description", "resolution"), LONG_LIMIT),
    "summary": SUMMARY_LIMIT,
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_EMAIL = re.compile(r"^[^@\s\"<>&?#/]+@[^@\s\"<>&?#/]+\.[^@\s\"<>&?#/]+$")
# The comma a template's loop leaves before a closing bracket. Text comes in through the json
# filter, which writes its brackets as escapes, so every bracket here is structure; scanning
# for the strings instead took a tenth of a render.
_TRAILING_COMMA = re.compile(r",\s*(?=[\]}])")
TEAMS_CHAT = "https://teams.microsoft.com/l/chat/0/0?users="
_SPACE = re.compile(r"\s")


class TemplateError(EsmbotError):
    """A message could not be rendered; names the template and, where one is at fault, the key."""

    def __init__(self, message: str, *, template: str, key: str | None = None) -> None:
        self.template = template
        self.key = key
        super().__init__(f"{template}: {message}")


@dataclass(frozen=True)
class RenderedMessage:
    """What goes to Teams: the card, a few lines of plain text, and the notification summary."""

    card: dict[str, Any]
    text: str
    summary: str


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
def _zone(name: str) -> ZoneInfo | None:
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

    def when(self, value: datetime | date | None) -> str:
        if value is None:
            return self.t("common.not_set")
        if not isinstance(value, datetime) and isinstance(value, date):
            return self.day(value)  # a day that nobody gave a time: no time is made up
        written = self.written.get(value) if isinstance(value, datetime) else None
        if written is None:
            parts = self._date_parts(value, "when")
            local = value.astimezone(self.zone)
            written = self.t("date.format", **parts, time=f"{local:%H:%M}", zone=self.zone.key)
            if len(self.written) >= _WRITTEN_KEPT:
                self.written.clear()
            self.written[value] = written
        return written

    def day(self, value: datetime | date | None) -> str:
        """The local date of an instant (or a calendar day), without the time."""
        if value is None:
            return self.t("common.not_set")
        return self.t("date.day_format", **self._date_parts(value, "day"))

    def _date_parts(self, value: object, caller: str) -> dict[str, object]:
        if isinstance(value, datetime) and value.utcoffset() is not None:
            local: date = value.astimezone(self.zone)
        elif isinstance(value, date) and not isinstance(value, datetime):
            local = value  # a calendar day is the same day in every zone
        else:
            raise Problem(f"{caller}() needs a timezone-aware datetime or a date, got {value!r}")
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


def chat_link(email: str | None) -> str | None:
    """A Teams deep link that opens a 1:1 chat with this address, or None for no usable address."""
    if not email or not _EMAIL.match(email.strip()):
        return None
    return TEAMS_CHAT + quote(email.strip(), safe="@")


def link(url: str | None) -> str | None:
    """The URL if it is a plain http(s) address, else None, so no button opens anything else."""
    if not url or clean(url) != url or _SPACE.search(url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _clip_ticket(ticket: TicketView | None, scale: float) -> TicketView | None:
    if ticket is None:
        return None
    cut = {
        name: clip(getattr(ticket, name), max(40, int(limit * scale)))
        for name, limit in _TICKET_LIMITS.items()
        if getattr(ticket, name) is not None
    }
    return replace(ticket, **cut)


def _clip_extra(value: object, scale: float) -> object:
    if isinstance(value, str):
        return clip(value, max(40, int(LONG_LIMIT * scale)))
    if isinstance(value, Outage):
        limit = max(40, int(LONG_LIMIT * scale))
        return replace(
            value, service=clip(value.service, SHORT_LIMIT), text=clip(value.text, limit)
        )
    return value


def card_size(card: Mapping[str, Any]) -> int:
    """The card's size in bytes as JSON with every non-ASCII character escaped (the worst case)."""
    return len(json.dumps(card, ensure_ascii=True))


# What the card adds to the body and actions of the template's output: its type, version and
# width, with room to spare.
_CARD_FRAME_BYTES = 128


def card_size_bound(source: str) -> int:
    """At least `card_size` of the card assembled from this template output if it holds no
    float, at a fraction of its cost: the card holds a part of the output, written out again
    with a space after each separator (here at most every ',' and ':'), each non-ASCII
    character as an escape of at most 12 characters (a surrogate pair), in a frame of its
    own. (A float may be written out longer than it was read: 1e5 as 100000.0.)"""
    non_ascii = 0 if source.isascii() else len(source) - len(source.encode("ascii", "ignore"))
    separators = source.count(",") + source.count(":")
    return len(source) + separators + 11 * non_ascii + _CARD_FRAME_BYTES


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
    ) -> None:
        """With strict=False a phrase missing in the reader's language is taken from the
        organisation's default language instead of failing the message."""
        self.templates_dir = Path(templates_dir)
        self._words = load_words(self.templates_dir / "i18n")
        if default_locale not in self._words:
            raise TemplateError(
                f"no words for the default locale {default_locale!r}", template="i18n"
            )
        zone = _zone(str(default_time_zone))
        if zone is None:
            raise TemplateError(f"{default_time_zone!r} is not a time zone", template="i18n")
        self.default_locale, self.default_time_zone, self.strict = default_locale, zone, strict
        self._env = _Sandbox(
            loader=FileSystemLoader(self.templates_dir),
            undefined=StrictUndefined,
            autoescape=False,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(json=to_json, md=md, plain=plain, clip=clip)
        self._env.add_functions(
            chat_link=chat_link, link=link, t=_t, when=_when, day=_day, duration=_duration
        )
        self._checked: set[str] = set()
        self._written: dict[tuple[str, str], dict[datetime, str]] = {}

    def language_for(self, reader: Reader) -> str:
        """The language part of the reader's Teams locale if there are words for it."""
        if reader.locale:
            language = reader.locale.replace("_", "-").split("-")[0].lower()
            if language in self._words:
                return language
        return self.default_locale

    def time_zone_for(self, reader: Reader) -> ZoneInfo:
        zone = _zone(reader.time_zone) if reader.time_zone else None
        return zone or self.default_time_zone

    def phrases(self, reader: Reader) -> Phrases:
        """The reader's words; a missing phrase raises TemplateError naming the key."""
        language = self.language_for(reader)
        fallback = None if self.strict else self._words[self.default_locale]
        zone = self.time_zone_for(reader)
        written = self._written.setdefault((language, zone.key), {})
        return Phrases(self._words[language], fallback, language, zone, written)

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
        self._check(name)
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
        # The reader's words (t, when, day, duration) are the environment's globals, which
        # answer from _READING: one way in, for templates and the shared macros alike.
        for scale in _SHRINK_STEPS:
            try:
                source = self._env.get_template(name).render(
                    ticket=_clip_ticket(ticket, scale),
                    reader=replace(reader, name=clip(reader.name, SHORT_LIMIT) or None),
                    extras={key: _clip_extra(value, scale) for key, value in extras.items()},
                    language=language,
                )
            except Problem as problem:
                raise TemplateError(str(problem), template=name, key=problem.key) from None
            except Exception as error:  # undefined names, sandbox refusals, bad arguments
                raise TemplateError(f"{type(error).__name__}: {error}", template=name) from error
            source = _TRAILING_COMMA.sub("", source)
            envelope, has_float = _parsed(name, source)
            rendered = _assemble(name, envelope)
            if _fits(source, has_float, rendered.card):
                return rendered
        raise TemplateError(f"the card stays over {MAX_CARD_BYTES} bytes", template=name)

    def _check(self, name: str) -> None:
        """Loads a template and the ones it uses, refusing any output not passed to json."""
        if name in self._checked:
            return
        try:
            source, _, _ = self._env.loader.get_source(self._env, name)  # type: ignore[union-attr]
            tree = self._env.parse(source, name)
        except Exception as error:  # not found, or a syntax error with its line
            raise TemplateError(f"{type(error).__name__}: {error}", template=name) from None
        macros = {macro.name for macro in tree.find_all(nodes.Macro)} | {"caller"}
        imports = {node.target for node in tree.find_all(nodes.Import)}
        for node in tree.find_all(nodes.FromImport):
            macros |= {name if isinstance(name, str) else name[1] for name in node.names}
        for output in tree.find_all(nodes.Output):
            for child in output.nodes:
                if not _is_safe_output(child, macros, imports):
                    message = (
                        f"line {child.lineno}: every {{{{ }}}} must end in '| json' or call a macro"
                    )
                    raise TemplateError(message, template=name)
        self._checked.add(name)
        for node in tree.find_all((nodes.Import, nodes.FromImport, nodes.Include, nodes.Extends)):
            if isinstance(node.template, nodes.Const):
                self._check(node.template.value)


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, answering at once for what cards are made of and call.

    For an instance that is no function, method, type, frame, generator or mutable collection,
    the sandbox's checks come down to refusing names that start with an underscore; working
    that out for every attribute a card reads (abstract-class checks included) took a fifth of
    a render's time. esmbot's own functions and the templates' macros take no context and are
    safe to call: Jinja's checks before each call (for the context it might pass, for methods
    that change data or format strings) took another third.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._own_functions: frozenset[Callable[..., Any]] = frozenset()

    def add_functions(self, **functions: Callable[..., Any]) -> None:
        """Makes esmbot's own plain functions (no Jinja context) callable from templates."""
        for name, function in functions.items():
            if not isinstance(function, FunctionType) or hasattr(function, "jinja_pass_arg"):
                raise TypeError(f"{name} must be a plain function")
        self.globals.update(functions)
        self._own_functions |= frozenset(functions.values())

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        # Positional-only: a template may pass any keyword, `obj` and `context` included.
        if type(obj) is Macro or (type(obj) is FunctionType and obj in self._own_functions):
            # What Context.call comes down to for these, checks done.
            kwargs.pop("_loop_vars", None)
            kwargs.pop("_block_vars", None)
            try:
                return obj(*args, **kwargs)
            except StopIteration:
                return self.undefined("a callable raised a StopIteration exception")
        return super().call(context, obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if _plain_data(type(obj)) and not attribute.startswith("_"):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass  # Jinja's answer: an item of that name, or undefined
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if _plain_data(type(obj)):
            return not attr.startswith("_")
        return super().is_safe_attribute(obj, attr, value)


@cache
def _plain_data(kind: type) -> bool:
    params = getattr(kind, "__dataclass_params__", None)
    return (
        params is not None
        and params.frozen
        and not issubclass(kind, type | MutableSet | MutableMapping | MutableSequence)
    )


def _is_safe_output(node: nodes.Node, macros: set[str], imports: set[str]) -> bool:
    if isinstance(node, nodes.TemplateData | nodes.Filter):
        return not isinstance(node, nodes.Filter) or node.name == "json"
    callee = node.node if isinstance(node, nodes.Call) else None
    if isinstance(callee, nodes.Getattr) and isinstance(callee.node, nodes.Name):
        return callee.node.name in imports  # m.header(...) from an imported macro file
    return isinstance(callee, nodes.Name) and callee.name in macros


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


def _fits(source: str, has_float: bool, card: Mapping[str, Any]) -> bool:
    """Whether the card is within MAX_CARD_BYTES, measured only when the bound is not enough."""
    if not has_float and card_size_bound(source) <= MAX_CARD_BYTES:
        return True
    return card_size(card) <= MAX_CARD_BYTES


def _assemble(name: str, envelope: Any) -> RenderedMessage:
    shape = {"summary": str, "text": list, "body": list, "actions": list}
    if not (
        isinstance(envelope, dict)
        and set(envelope) == set(shape)
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
    text = "\n".join(line for line in map(plain, envelope["text"]) if line)
    summary = plain(envelope["summary"], NOTIFICATION_LIMIT)
    return RenderedMessage(card=card, text=clip(text, TEXT_LIMIT), summary=summary)
