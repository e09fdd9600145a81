"""What the ticket commands share: key and person arguments, roles, and times for the reader."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.commands.registry import CommandContext, CommandError, argument
from bot.directory.models import Person
from bot.notify.words import Phrases
from bot.tickets.events import PersonRef
from bot.tickets.people import match_person

AGENTS = frozenset({"agents"})
DESK = frozenset({"agents", "managers"})
MANAGERS = frozenset({"managers"})
VENDOR = frozenset({"vendor"})

_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}-[0-9]{1,12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def ticket_key(text: str) -> str:
    """argparse type of a ticket key: SR-12, sr-12 and JIRA_KEY-7 all read as upper case.

    A CommandError passes through argparse untouched, so the answer is said in the asker's words.
    """
    if not _KEY.match(text):
        raise CommandError("commands.error.not_a_key", text=text)
    return text.upper()


# The ticket key every ticket command takes first.
KEY_ARGUMENT = argument("key", type=ticket_key)


def is_ticket_key(value: object) -> bool:
    return isinstance(value, str) and bool(_KEY.match(value))


def joined(words: list[str] | None) -> str:
    return " ".join(words or []).strip()


async def person_named(context: CommandContext, text: str) -> Person:
    """`me`, an @mention (resolved by Teams user id from the activity) or an e-mail address."""
    if text.lower() == "me":
        return context.person
    if text in context.mentions:
        return context.mentions[text]
    if _EMAIL.match(text):
        async with context.database.transaction() as session:
            person = await match_person(session, ref=PersonRef(email=text.lower()), remember=False)
        if person is None:
            raise CommandError("commands.error.person_unknown", text=text)
        return person
    raise CommandError("commands.error.person_unclear", text=text)


def left(words: Phrases, amount: timedelta, *, working: bool = False) -> str:
    """Time left until a deadline, or how late it is; working time is counted in hours, since a
    working day is not 24 of them."""
    length = words.duration(amount, days=not working)
    kind = ("working_" if working else "") + ("overdue" if amount < timedelta(0) else "left")
    return words.t(f"commands.time.{kind}", length=length)
