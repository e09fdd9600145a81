"""What a customer's message asks for, in English or German, read without guessing beyond reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


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


_KEY = r"([a-z][a-z0-9_]{0,15}-\d{1,9})"
_STATUS = re.compile(
    rf"^(?:status|state|stand|wie steht es um|what about|show|zeige?)?\s*(?:of\s+|von\s+)?#?{_KEY}\s*\??$"
)
_PHRASES: dict[Intent, tuple[str, ...]] = {
    Intent.CANCEL: (
        "cancel", "abbrechen", "abbruch", "stop", "stopp", "quit", "exit", "abort",
        "never mind", "nevermind", "vergiss es", "forget it",
    ),
    Intent.HELP: (
        "help", "hilfe", "?", "what can you do", "was kannst du", "how does this work",
        "wie funktioniert das", "menu", "menü",
    ),
    Intent.NEW_TICKET: (
        "new ticket", "neues ticket", "open a ticket", "open ticket", "create a ticket",
        "create ticket", "ticket erstellen", "ticket anlegen", "ticket eröffnen",
        "report a problem", "i have a problem", "ich habe ein problem", "problem melden",
        "new request", "neue anfrage", "i need help", "ich brauche hilfe",
    ),
    Intent.MY_TICKETS: (
        "my tickets", "meine tickets", "my requests", "meine anfragen", "show my tickets",
        "list my tickets", "tickets", "open tickets", "offene tickets", "my open tickets",
        "meine offenen tickets",
    ),
    Intent.CLOSED_TICKETS: (
        "show closed", "closed tickets", "my closed tickets", "geschlossene tickets",
        "meine geschlossenen tickets", "erledigte tickets", "geschlossene anzeigen",
    ),
    Intent.GREETING: (
        "hi", "hello", "hey", "hallo", "moin", "servus", "guten tag", "guten morgen",
        "good morning", "good afternoon", "grüß gott", "hi there", "hello there", "hallo zusammen",
    ),
    Intent.THANKS: (
        "thanks", "thank you", "thx", "ty", "danke", "danke schön", "dankeschön", "vielen dank",
        "great thanks", "ok thanks", "ok danke", "super danke",
    ),
}  # fmt: skip
_LOOKUP = {phrase: intent for intent, phrases in _PHRASES.items() for phrase in phrases}
# A problem is described in words; three of them with letters is the least that says something.
_WORD = re.compile(r"[^\W\d_]{2,}")
MIN_PROBLEM_WORDS = 3


def normalise(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .!?,;:")


def recognise(text: str) -> Recognised:
    words = normalise(text)
    if not words:
        return Recognised(Intent.UNCLEAR)
    if words in _LOOKUP:
        return Recognised(_LOOKUP[words])
    if match := _STATUS.match(words):
        return Recognised(Intent.STATUS, match[1].upper())
    if len(_WORD.findall(words)) >= MIN_PROBLEM_WORDS:
        return Recognised(Intent.PROBLEM)
    return Recognised(Intent.UNCLEAR)
