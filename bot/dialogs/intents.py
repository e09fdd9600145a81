"""What a customer's message asks for, in any language esmbot has words for, without guessing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.notify.template_error import TemplateError


class Intent(StrEnum):
    CANCEL = "cancel"
    HELP = "help"
    NEW_TICKET = "new_ticket"
    MY_TICKETS = "my_tickets"
    CLOSED_TICKETS = "closed_tickets"
    STATUS = "status"
    GREETING = "greeting"
    THANKS = "thanks"
    PROBLEM = "problem"  # a description of a problem: reason enough to open a ticket
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Recognised:
    intent: Intent
    key: str | None = None  # the ticket key for STATUS


# The intents said in set phrases (`intent.<name>` in the words files); the others are read
# from the message's shape.
PHRASED = (
    Intent.CANCEL,
    Intent.HELP,
    Intent.NEW_TICKET,
    Intent.MY_TICKETS,
    Intent.CLOSED_TICKETS,
    Intent.GREETING,
    Intent.THANKS,
)
_KEY = r"([a-z][a-z0-9_]{0,15}-\d{1,9})"
# A problem is described in words; three of them with letters is the least that says something.
_WORD = re.compile(r"[^\W\d_]{2,}")
MIN_PROBLEM_WORDS = 3


def normalise(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .!?,;:")


class Recogniser:
    """Reads a message against the phrases of every language at once: a customer may write in
    another language than their Teams is set to."""

    def __init__(self, languages: Iterable[Mapping[str, object]]) -> None:
        self._lookup: dict[str, Intent] = {}
        leads: set[str] = set()
        links: set[str] = set()
        for words in languages:
            for intent in PHRASED:
                for phrase in _phrases(words, f"intent.{intent}"):
                    self._lookup.setdefault(normalise(phrase) or phrase, intent)
            leads |= {normalise(phrase) for phrase in _phrases(words, "intent.status")}
            links |= {normalise(phrase) for phrase in _phrases(words, "intent.status_of")}
        # Longest first, so that "zeige" is tried before "zeig".
        lead = "|".join(map(re.escape, sorted(leads - {""}, key=len, reverse=True)))
        link = "|".join(map(re.escape, sorted(links - {""}, key=len, reverse=True)))
        self._status = re.compile(
            rf"^(?:{lead or '(?!)'})?\s*(?:(?:{link or '(?!)'})\s+)?#?{_KEY}\s*\??$"
        )

    def recognise(self, text: str) -> Recognised:
        words = normalise(text)
        if not words:
            return Recognised(Intent.UNCLEAR)
        if words in self._lookup:
            return Recognised(self._lookup[words])
        if match := self._status.match(words):
            return Recognised(Intent.STATUS, match[1].upper())
        if len(_WORD.findall(words)) >= MIN_PROBLEM_WORDS:
            return Recognised(Intent.PROBLEM)
        return Recognised(Intent.UNCLEAR)


def _phrases(words: Mapping[str, object], key: str) -> list[str]:
    phrases = words.get(key, [])
    if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
        raise TemplateError(f"{key} must be a list of phrases", template="i18n", key=key)
    return [phrase.lower() for phrase in phrases]
