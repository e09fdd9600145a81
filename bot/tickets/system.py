"""The ticket system of record esmbot writes to when people act in Teams: Jira, or esmbot's own store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.directory.models import Person
from bot.tickets.lifecycle import Status


@dataclass(frozen=True)
class Draft:
    """A ticket as a customer described it in Teams, before any system has a key for it."""

    summary: str
    description: str = ""
    type: str = "incident"
    module: str | None = None
    impact: str | None = None
    steps: str | None = None
    first_occurred_at: datetime | date | None = None  # a day alone when no time was named
    priority: str = "P3"


@dataclass(frozen=True)
class Recorded:
    """What the system of record said it did; `dedupe_key` matches the webhook it will send."""

    key: str | None = None
    external_id: str | None = None
    dedupe_key: str | None = None


class TicketSystem(Protocol):
    """Writes a change to the system of record before esmbot stores it (or refuses, saying why)."""

    name: str

    async def create(self, draft: Draft, *, reporter: Person | None) -> Recorded: ...

    async def comment(self, key: str, body: str, *, internal: bool) -> Recorded: ...

    async def transition(self, key: str, status: Status) -> None: ...

    async def assign(self, key: str, assignee: Person | None) -> None: ...

    async def set_priority(self, key: str, priority: str) -> None: ...

    async def classify(self, key: str, *, type: str | None, module: str | None) -> None: ...

    async def link(self, problem_key: str, ticket_key: str) -> None: ...


class LocalStore:
    """esmbot itself is the system of record: nothing to write elsewhere, keys come from its store."""

    name = "esmbot"

    async def create(self, draft: Draft, *, reporter: Person | None) -> Recorded:
        return Recorded()

    async def comment(self, key: str, body: str, *, internal: bool) -> Recorded:
        return Recorded()

    async def transition(self, key: str, status: Status) -> None:
        return None

    async def assign(self, key: str, assignee: Person | None) -> None:
        return None

    async def set_priority(self, key: str, priority: str) -> None:
        return None

    async def classify(self, key: str, *, type: str | None, module: str | None) -> None:
        return None

    async def link(self, problem_key: str, ticket_key: str) -> None:
        return None
