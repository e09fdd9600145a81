"""`esmbot seed-history --tickets N --weeks W`: writes planned synthetic history into the database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from itertools import islice
from typing import Any, NoReturn

from sqlalchemy import func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation, Settings
from bot.db import Database
from bot.demo.history import PlannedTicket, plan_history
from bot.directory.models import Person
from bot.tickets.models import CsatSurvey, Ticket, TicketEvent

OK, REFUSED, USAGE = 0, 1, 2
PREFIX = "HIST"
BATCH = 2000  # tickets per transaction: big enough to be quick, small enough not to hold long


class UsageError(Exception):
    """The command line is not a seed's: shown with the usage."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().rstrip()}")


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def main(
    settings: Settings,
    organisation: Organisation,
    argv: list[str],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """0 written, 1 the database refused, 2 bad usage."""
    parser = _Parser(prog="esmbot seed-history", description="Synthetic ticket history to look at.")
    parser.add_argument("--tickets", type=_positive, default=2000, help="how many (default 2000)")
    parser.add_argument(
        "--weeks", type=_positive, default=12, help="over how many weeks before now"
    )
    parser.add_argument("--seed", type=int, default=1, help="the same seed plans the same history")
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        print(f"esmbot seed-history: {error}", file=sys.stderr)
        return USAGE
    try:
        written = asyncio.run(
            _seed(settings, organisation, args.tickets, args.weeks, args.seed, clock())
        )
    except (SQLAlchemyError, OSError) as error:
        print(f"esmbot seed-history: the database refused the history: {error}", file=sys.stderr)
        return REFUSED
    print(f"wrote {written} tickets over {args.weeks} weeks ({PREFIX}-…)")
    return OK


async def _seed(
    settings: Settings,
    organisation: Organisation,
    tickets: int,
    weeks: int,
    seed: int,
    now: datetime,
) -> int:
    database = Database(settings.database_url)
    try:
        return await seed_history(
            database, organisation, tickets=tickets, weeks=weeks, now=now, seed=seed
        )
    finally:
        await database.close()


async def seed_history(
    database: Database,
    organisation: Organisation,
    *,
    tickets: int,
    weeks: int,
    now: datetime,
    seed: int = 1,
) -> int:
    """Writes the planned tickets, their audit lines and surveys; numbered after earlier seeds."""
    async with database.transaction() as session:
        offset = await session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.key.like(f"{PREFIX}-%"))
        )
        owners = await _owners(session, organisation)
    planned = plan_history(
        organisation, tickets=tickets, weeks=weeks, now=now, seed=seed + (offset or 0)
    )
    written = 0
    while batch := list(islice(planned, BATCH)):
        async with database.transaction() as session:
            await _write(session, batch, owners, offset=(offset or 0))
        written += len(batch)
    return written


async def _owners(session: AsyncSession, organisation: Organisation) -> dict[str, int]:
    """The agents of esmbot.toml as people, made where esmbot has not met them yet."""
    emails = sorted(organisation.roles["agents"].emails) if "agents" in organisation.roles else []
    found: dict[str | None, int] = dict(
        (email, id)
        for email, id in await session.execute(
            select(Person.email, Person.id).where(Person.email.in_(emails))
        )
    )
    for email in emails:
        if email not in found:
            person = Person(email=email, name=email.split("@")[0].replace(".", " ").title())
            session.add(person)
            await session.flush()
            found[email] = person.id
    return {email: id for email, id in found.items() if email is not None}


async def _write(
    session: AsyncSession, batch: Iterable[PlannedTicket], owners: dict[str, int], *, offset: int
) -> None:
    rows = list(batch)
    keys = {f"{PREFIX}-{offset + t.number}": t for t in rows}
    values = [_ticket_values(key, t, owners) for key, t in keys.items()]
    ids: dict[str, int] = dict(
        (key, id)
        for key, id in await session.execute(
            insert(Ticket).returning(Ticket.key, Ticket.id), values
        )
    )
    events: list[dict[str, Any]] = []
    surveys: list[dict[str, Any]] = []
    for key, ticket in keys.items():
        events.append(_event(key, ids[key], ticket.created_at, 0, {"changes": ["created"]}))
        for number, (at, before, to) in enumerate(ticket.moves, 1):
            events.append(
                _event(
                    key,
                    ids[key],
                    at,
                    number,
                    {"status": {"from": str(before), "to": str(to)}, "changes": ["status"]},
                )
            )
        if ticket.survey is not None:
            sent, answered, score = ticket.survey
            surveys.append({
                "ticket_id": ids[key], "round": 1, "status": "answered" if answered else "sent",
                "due_at": sent, "sent_at": sent, "answered_at": answered, "score": score,
            })  # fmt: skip
    await session.execute(insert(TicketEvent), events)
    if surveys:
        await session.execute(insert(CsatSurvey), surveys)


def _ticket_values(key: str, t: PlannedTicket, owners: dict[str, int]) -> dict[str, Any]:
    return {
        "key": key, "type": t.type, "summary": f"{t.type.capitalize()} in {t.module or 'the shop'}",
        "module": t.module, "priority": t.priority, "status": str(t.status),
        "created_at": t.created_at, "updated_at": t.moves[-1][0] if t.moves else t.created_at,
        "first_response_at": t.first_response_at, "resolved_at": t.resolved_at,
        "closed_at": t.closed_at, "first_response_due": t.first_response_due,
        "resolution_due": t.resolution_due, "vendor_escalation_due": t.vendor_escalation_due,
        "vendor_escalated_at": t.vendor_escalated_at, "paused_since": t.paused_since,
        "reopen_count": t.reopen_count, "interaction_count": t.interactions,
        "assignee_id": owners.get(t.owner) if t.owner else None,
    }  # fmt: skip


def _event(
    key: str, ticket_id: int, at: datetime, number: int, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id, "ticket_key": key, "at": at, "kind": "status_changed" if number else "created",
        "payload": {**payload, "outcome": "applied"}, "source": "esmbot",
        "dedupe_key": f"seed:{key}:{number}", "actor_label": "",
    }  # fmt: skip
