"""Keeps a card within what Teams takes: the limits on its texts, its size, and a cheap bound on it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.notify.filters import clip
from bot.notify.views import Outage, TicketView

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
SHRINK_STEPS = (1.0, 0.5, 0.25, 0.1)
# What the card adds to the body and actions of the template's output: its type, version and
# width, with room to spare.
_CARD_FRAME_BYTES = 128


def clip_ticket(ticket: TicketView | None, scale: float) -> TicketView | None:
    """The ticket with each free text cut to its limit, the limits scaled down by `scale`."""
    if ticket is None:
        return None
    short, long = _scaled(SHORT_LIMIT, scale), _scaled(LONG_LIMIT, scale)
    return replace(
        ticket,
        summary=clip(ticket.summary, _scaled(SUMMARY_LIMIT, scale)),
        type=clip(ticket.type, short),
        priority=clip(ticket.priority, short),
        reporter_name=clip(ticket.reporter_name, short),
        module=_clip_optional(ticket.module, short),
        assignee_name=_clip_optional(ticket.assignee_name, short),
        impact=_clip_optional(ticket.impact, long),
        steps=_clip_optional(ticket.steps, long),
        description=_clip_optional(ticket.description, long),
        resolution=_clip_optional(ticket.resolution, long),
    )


def _scaled(limit: int, scale: float) -> int:
    return max(40, int(limit * scale))


def _clip_optional(value: str | None, limit: int) -> str | None:
    return None if value is None else clip(value, limit)


def clip_extra(value: object, scale: float) -> object:
    if isinstance(value, str):
        return clip(value, _scaled(LONG_LIMIT, scale))
    if isinstance(value, Outage):
        limit = _scaled(LONG_LIMIT, scale)
        return replace(
            value, service=clip(value.service, SHORT_LIMIT), text=clip(value.text, limit)
        )
    return value


def card_size(card: Mapping[str, Any]) -> int:
    """The card's size in bytes as JSON with every non-ASCII character escaped (the worst case)."""
    return len(json.dumps(card, ensure_ascii=True))


def card_size_bound(source: str) -> int:
    """At least `card_size` of the card assembled from this template output if it holds no
    float, at a fraction of its cost: the card holds a part of the output, written out again
    with a space after each separator (here at most every ',' and ':'), each non-ASCII
    character as an escape of at most 12 characters (a surrogate pair), in a frame of its
    own. (A float may be written out longer than it was read: 1e5 as 100000.0.)"""
    non_ascii = 0 if source.isascii() else len(source) - len(source.encode("ascii", "ignore"))
    separators = source.count(",") + source.count(":")
    return len(source) + separators + 11 * non_ascii + _CARD_FRAME_BYTES


def fits(source: str, has_float: bool, card: Mapping[str, Any]) -> bool:
    """Whether the card is within MAX_CARD_BYTES, measured only when the bound is not enough."""
    if not has_float and card_size_bound(source) <= MAX_CARD_BYTES:
        return True
    return card_size(card) <= MAX_CARD_BYTES
