"""What the ticket commands share: key and person arguments, roles, and times for the reader."""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.commands.registry import CommandContext, CommandError, argument
from bot.config import Organisation
from bot.directory.models import Person
from bot.tickets.events import PersonRef
from bot.tickets.people import match_person

AGENTS = frozenset({"agents"})
DESK = frozenset({"agents", "managers"})
MANAGERS = frozenset({"managers"})

_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}-[0-9]{1,12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def ticket_key(text: str) -> str:
    """argparse type of a ticket key: SR-12, sr-12 and JIRA_KEY-7 all read as upper case."""
    if not _KEY.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a ticket key (like SR-12)")
    return text.upper()


# The ticket key every ticket command takes first.
KEY_ARGUMENT = argument("key", type=ticket_key)


def is_ticket_key(value: object) -> bool:
    return isinstance(value, str) and bool(_KEY.match(value))


def joined(words: list[str] | None) -> str:
    return " ".join(words or []).strip()


def roles_of(organisation: Organisation, person: Person) -> frozenset[str]:
    """The roles esmbot.toml gives a person of a served tenant, by object id, e-mail or UPN."""
    return organisation.person_roles(person)


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
            raise CommandError(f"I don't know {text} yet: they need to write to me once.")
        return person
    raise CommandError(
        f"I can't tell who {text!r} is: @mention them so Teams tells me, write their e-mail, "
        "or say me."
    )


def zone_of(context: CommandContext) -> ZoneInfo:
    """The zone times are written in: in a channel the organisation's, so that every message
    there speaks of one clock; in a 1:1 chat the reader's as Teams reported it."""
    if context.conversation.scope == "personal" and context.person.time_zone:
        try:
            return ZoneInfo(context.person.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return context.organisation.time_zone


def when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


def span(amount: timedelta, *, in_days: bool = True) -> str:
    """A duration in its two largest units: "2 d 3 h", "1 h 5 min", "under a minute".

    Working time is counted in hours (`in_days=False`): a working day is not 24 of them.
    """
    minutes = int(abs(amount).total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60) if in_days else (0, minutes)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    while parts and parts[0][0] == 0:
        parts.pop(0)
    if not parts:
        return "under a minute"
    return " ".join(f"{value} {unit}" for value, unit in parts[:2] if value)


def left(amount: timedelta, *, working: bool = False) -> str:
    """Time left until a deadline, or how late it is."""
    kind = " of working time" if working else ""
    length = span(amount, in_days=not working)
    if amount < timedelta(0):
        return f"{length}{kind} overdue"
    return f"{length}{kind} left"
