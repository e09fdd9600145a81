"""Adaptive Cards as the lines a person reads on them in Teams, for the transcript."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# The templates escape markdown so that Teams shows text as typed; a reader sees it unescaped.
_ESCAPED = re.compile(r"\\(.)")


def card_lines(card: Mapping[str, Any]) -> list[str]:
    """The card's text blocks, facts (as "title: value") and buttons (as [title]), in order."""
    lines = _elements(card.get("body") or [])
    buttons = _buttons(card.get("actions") or [])
    return [line for line in lines if line] + ([buttons] if buttons else [])


def _elements(items: Iterable[Any]) -> list[str]:
    lines: list[str] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "TextBlock":
            lines.extend(_shown(item.get("text")).split("\n\n"))
        elif kind == "FactSet":
            lines.extend(
                f"{_shown(fact.get('title'))}: {_shown(fact.get('value'))}"
                for fact in item.get("facts") or []
            )
        elif kind == "Container":
            # Someone's own words sit in an accent container: set them apart as a quote.
            inner = _elements(item.get("items") or [])
            quote = "> " if item.get("style") == "accent" else ""
            lines.extend(f"{quote}{line}" for line in inner)
        elif kind == "ColumnSet":
            for column in item.get("columns") or []:
                lines.extend(_elements(column.get("items") or []))
        elif kind == "ActionSet":
            lines.append(_buttons(item.get("actions") or []))
        elif isinstance(kind, str) and kind.startswith("Input."):
            label = _shown(item.get("label") or item.get("placeholder") or kind)
            # A choice is only as clear as what it offers, so the options are listed too.
            options = " / ".join(
                _shown(choice.get("title"))
                for choice in item.get("choices") or []
                if isinstance(choice, Mapping)
            )
            lines.append(f"({label}: {options})" if options else f"({label})")
    return [line for line in lines if line]


def _buttons(actions: Iterable[Any]) -> str:
    titles = (a.get("title") for a in actions if isinstance(a, Mapping) and a.get("title"))
    return " ".join(f"[{title}]" for title in titles)


def _shown(text: object) -> str:
    return _ESCAPED.sub(r"\1", str(text or "")).strip()
