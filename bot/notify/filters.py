"""The filters every template value goes through: cleaned, clipped, on one line, markdown-escaped, JSON."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from functools import lru_cache

from jinja2 import Undefined

# Control characters, bidi overrides and isolates (which can make "SR-1" read as something
# else) and the byte-order mark never belong in a message.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
# Teams markdown (and the Adaptive Card {{DATE()}} functions): every character that can start
# or end a construct gets a backslash, which CommonMark allows before any ASCII punctuation.
_MD_ANYWHERE = re.compile(r"([\\`*_~\[\]()#<>|{}])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_LINE_START = re.compile(r"^([-+=])|^(\d+)\.")
_WHITESPACE = re.compile(r"\s+")


class Problem(Exception):
    """Raised inside a render, and turned into a TemplateError that names the template."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def clean(value: object) -> str:
    """The text without control or direction-override characters, with \\n line ends, trimmed."""
    if type(value) is str:
        return _clean_text(value) if len(value) <= _LONGEST_KEPT else _clean(value)
    _raise_if_undefined(value)
    if isinstance(value, datetime | timedelta):
        raise Problem("dates and durations are shown with when() and duration()")
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise Problem(f"{type(value).__name__} is not text")
    return _clean(str(value))


def clip(value: object, limit: int) -> str:
    """The text cut to `limit` characters, the cut marked with an ellipsis."""
    if type(value) is str and type(limit) is int and len(value) <= _LONGEST_KEPT:
        return _clip_text(value, limit)
    return _cut(clean(value), limit)


def plain(value: object, limit: int | None = None) -> str:
    """One line of plain text, for titles, button labels and the text fallback."""
    if _kept(value, limit):
        return _plain_text(value, limit)
    text = _WHITESPACE.sub(" ", clean(value))
    return text if limit is None else clip(text, limit)


def md(value: object, limit: int | None = None) -> str:
    """Text shown as itself in a TextBlock or fact: no link, emphasis, list or mention survives."""
    if _kept(value, limit):
        return _md_text(value, limit)
    return _escape_md(clean(value) if limit is None else clip(value, limit))


# A card repeats the same labels and ticket texts on every render, and these are pure functions
# of a str (and an int): each distinct text is worked out once. Only exact str and int arguments
# are kept, so that 1, 1.0 and True, which are equal keys, never share an answer.
# Labels, titles and names repeat; a long description seldom does, and would fill the memory
# the answers are kept in (at most 2,048 of 256 characters each, per function: a few MB).
_TEXTS_KEPT = 2048
_LONGEST_KEPT = 256


def _kept(value: object, limit: object) -> bool:
    """Whether the answer for these arguments is looked up among those kept."""
    return (
        type(value) is str and len(value) <= _LONGEST_KEPT and (limit is None or type(limit) is int)
    )


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _INVISIBLE.sub("", text).strip()


_clean_text = lru_cache(maxsize=_TEXTS_KEPT)(_clean)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


@lru_cache(maxsize=_TEXTS_KEPT)
def _clip_text(text: str, limit: int) -> str:
    return _cut(_clean_text(text), limit)


@lru_cache(maxsize=_TEXTS_KEPT)
def _plain_text(text: str, limit: int | None) -> str:
    line = _WHITESPACE.sub(" ", _clean_text(text))
    return line if limit is None else _clip_text(line, limit)


@lru_cache(maxsize=_TEXTS_KEPT)
def _md_text(text: str, limit: int | None) -> str:
    return _escape_md(_clean_text(text) if limit is None else _clip_text(text, limit))


def _escape_md(text: str) -> str:
    text = _MD_ENTITY.sub(r"\\&", _MD_ANYWHERE.sub(r"\\\1", text))
    lines = (line.strip() for line in text.split("\n"))
    # A lone newline does not break a line in Teams, so each line becomes its own paragraph.
    return "\n\n".join(
        _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\.", line)
        for line in lines
        if line
    )


def to_json(value: object) -> str:
    """A complete JSON literal (a quoted string, a number, true/false/null) for the template."""
    _raise_if_undefined(value)
    if value is not None and not isinstance(value, str | bool | int | float):
        raise Problem(f"json takes text, a number or none, not {type(value).__name__}")
    try:
        encoded = _JSON.encode(value)
    except ValueError as error:
        raise Problem(str(error)) from None
    if "]" in encoded or "}" in encoded:  # only in a string, where they are kept as escapes
        return encoded.translate(_CLOSING_AS_ESCAPES)
    return encoded


# What json.dumps(value, ensure_ascii=False, allow_nan=False) builds on every call.
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
# A closing bracket or brace in a rendered card is then always structure, never text: the
# renderer drops the templates' trailing commas without working out where strings are.
_CLOSING_AS_ESCAPES = str.maketrans({"]": "\\u005d", "}": "\\u007d"})


def _raise_if_undefined(value: object) -> None:
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises here, with the name (or the sandbox's refusal)
