"""The catalogue in the reader's words: ticket types and areas are stored canonical, shown labelled."""

from __future__ import annotations

from dataclasses import replace

from bot.notify.views import TicketView
from bot.notify.words import Phrases

# The i18n tables that name the catalogue's entries: catalogue.type."service request" = "…".
TYPE, MODULE = "type", "module"


def label(phrases: Phrases, kind: str, value: str) -> str:
    """The reader's word for a catalogue entry; an entry nobody named is shown as it is stored."""
    key = f"catalogue.{kind}.{value}"
    for words in (phrases.words, *phrases.fallbacks):
        word = words.get(key)
        if isinstance(word, str):
            return word
    return value


def labelled(view: TicketView | None, phrases: Phrases) -> TicketView | None:
    """The ticket as this reader's cards show it: its type and area in the reader's words."""
    if view is None:
        return None
    module = label(phrases, MODULE, view.module) if view.module else view.module
    return replace(view, type=label(phrases, TYPE, view.type), module=module)
