"""A batch of ticket events applied as a batch ends exactly where one by one would, in few statements."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from bot.app import TEMPLATES
from bot.db import Base, Database
from bot.directory.models import AudienceBinding, Conversation, Person
from bot.events.jira_webhook import parse_webhook
from bot.events.writer import EventWriter
from bot.notify.compose import Notifier
from bot.notify.render import Renderer
from bot.tickets.batch import apply_batch
from bot.tickets.events import EventKind, TicketEvent
from bot.tickets.flows import apply_event
from bot.tickets.lifecycle import IllegalTransition, Status
from tests import jira_payloads as jp

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# Columns the database fills from the wall clock: they differ between any two runs.
WALL_CLOCK = {"updated_at", "created_at", "bound_at"}
KEEP_CREATED_AT = {"tickets"}  # a ticket's creation time comes from the event
# One by one, a duplicate is found by its failing insert, and PostgreSQL spends a number of
# the audit lines' sequence on it; nothing refers to those ids.
NUMBERED_APART = {"ticket_events"}

LENA = jp.user("Lena Learner", account_id="acc-lena", email="lena.learner@esmos.example")
LENA_HIDDEN = jp.user("Lena Learner", account_id="acc-lena")  # her e-mail hidden by Jira
ALEX = jp.user("Alex Agent", account_id="acc-alex")
OLD_SAM = jp.user("Sam Agent", account_id="acc-sam", email="sam@esmos.example", legacy=True)


def _at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def _assigned(issue: dict[str, Any], person: dict[str, Any], *, at: datetime) -> dict[str, Any]:
    data = {**issue, "fields": {**issue["fields"], "assignee": person}}
    item = {
        "field": "assignee",
        "fieldtype": "jira",
        "fieldId": "assignee",
        "from": None,
        "fromString": None,
        "to": person["accountId"],
        "toString": person["displayName"],
    }
    return jp.updated(data, at=at, items=[item], by=ALEX)


def _prioritised(issue: dict[str, Any], name: str, *, at: datetime) -> dict[str, Any]:
    data = {**issue, "fields": {**issue["fields"], "priority": {"name": name, "id": "1"}}}
    item = {"field": "priority", "fieldtype": "jira", "fromString": "Medium", "toString": name}
    return jp.updated(data, at=at, items=[item], by=ALEX)


def _deleted(issue: dict[str, Any], *, at: datetime) -> dict[str, Any]:
    return {
        "timestamp": int(at.timestamp() * 1000),
        "webhookEvent": "jira:issue_deleted",
        "issue": issue,
    }


def story() -> list[dict[str, Any]]:
    """Webhooks as Jira sends them, retries, reorderings and strangers included."""
    one = jp.issue("SR-1", reporter=LENA)
    two = jp.issue("SR-2", reporter=LENA_HIDDEN, summary="Invoices print blank")
    three = jp.issue("SR-3", reporter=OLD_SAM)
    four = jp.issue("SR-4", reporter=jp.user("Nobody Known", account_id="acc-x"))
    moved = jp.moved(one, "To Do", "In Progress", at=_at(10), by=ALEX)
    return [
        jp.created(one, at=_at(0)),
        moved,
        jp.comment(one, "On it", at=_at(11), author=ALEX, comment_id="9001"),
        jp.comment(one, "Looks like the gateway", at=_at(12), author=ALEX, public=False,
                   comment_id="9002"),
        # SR-2's comment overtook its creation; the reporter is known by account only, which
        # SR-1's creation taught esmbot a moment ago.
        jp.comment(two, "Also on page 2", at=_at(21), author=LENA_HIDDEN, comment_id="9003"),
        jp.created(two, at=_at(20)),
        moved,  # Jira retried a delivery
        jp.moved(one, "In Progress", "To Do", at=_at(5), by=ALEX),  # an old one, late
        _deleted(three, at=_at(30)),  # a ticket esmbot never saw
        jp.created(three, at=_at(31)),
        jp.created(four, at=_at(32)),
        _assigned(one, ALEX, at=_at(40)),
        _prioritised(one, "Highest", at=_at(41)),
        jp.moved(one, "In Progress", "Waiting for customer", at=_at(42), by=ALEX),
        jp.comment(one, "It works again", at=_at(43), author=LENA, comment_id="9004"),
        jp.moved(one, "Waiting for customer", "Resolved", at=_at(50), by=ALEX),
        _deleted(four, at=_at(51)),
    ]  # fmt: skip


def events_of(organisation: Any, bodies: list[dict[str, Any]]) -> list[TicketEvent]:
    parsed = [
        parse_webhook(json.loads(json.dumps(body)), mapping=organisation.jira, delivery_id=None,
                      now=NOW)
        for body in bodies
    ]  # fmt: skip
    assert all(len(events) == 1 for events in parsed)
    return [event for events in parsed for event in events]


def notifier_for(organisation: Any) -> Notifier:
    renderer = Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone)
    return Notifier(renderer, organisation, jira_base_url="", clock=lambda: NOW)


async def seed(database: Database) -> None:
    async with database.transaction() as session:
        lena = Person(name="Lena Learner", email="lena.learner@esmos.example", locale="de-DE",
                      time_zone="Europe/Berlin")  # fmt: skip
        alex = Person(name="Alex Agent", jira_account_id="acc-alex", email="alex@esmos.example")
        sam = Person(name="Sam Agent", email="sam@esmos.example")
        session.add_all([lena, alex, sam])
        await session.flush()
        for number, person in enumerate((lena, alex), start=1):
            session.add(
                Conversation(
                    conversation_id=f"a:{number}",
                    scope="personal",
                    service_url="x",
                    reference={},
                    person_id=person.id,
                )
            )
        for audience in ("agents", "management"):
            channel = Conversation(
                conversation_id=f"19:{audience}", scope="channel", service_url="x", reference={}
            )
            session.add(channel)
            await session.flush()
            session.add(AudienceBinding(audience=audience, conversation_id=channel.id))


async def clear(database: Database) -> None:
    tables = [table.name for table in Base.metadata.sorted_tables]
    async with database.transaction() as session:
        if database.url.startswith("sqlite"):
            for name in reversed(tables):
                await session.execute(text(f'DELETE FROM "{name}"'))
            # No table is AUTOINCREMENT: an emptied table numbers its rows from 1 again.
        else:
            names = ", ".join(f'"{name}"' for name in tables)
            await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


async def dump(database: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ids included, without the columns the wall clock fills."""
    result = {}
    async with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            skip = WALL_CLOCK - ({"created_at"} if table.name in KEEP_CREATED_AT else set())
            skip |= {"id"} if table.name in NUMBERED_APART else set()
            columns = [column for column in table.columns if column.name not in skip]
            rows = await session.execute(table.select().with_only_columns(*columns)
                                         .order_by(*table.primary_key.columns))  # fmt: skip
            result[table.name] = [dict(row._mapping) for row in rows]
    return result


@contextmanager
def counted(database: Database) -> Iterator[Callable[[], int]]:
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield lambda: statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)


async def one_by_one(database: Database, organisation: Any, events: list[TicketEvent]) -> list:
    notifier = notifier_for(organisation)
    async with database.transaction() as session:
        return [
            await apply_event(session, item, organisation=organisation, now=NOW,
                              notifier=notifier)
            for item in events
        ]  # fmt: skip


async def together(database: Database, organisation: Any, events: list[TicketEvent]) -> list:
    async with database.transaction() as session:
        return await apply_batch(
            session, events, organisation=organisation, now=NOW,
            notifier=notifier_for(organisation),
        )  # fmt: skip


async def test_a_batch_ends_exactly_where_one_by_one_ends(database, organisation):
    events = events_of(organisation, story())
    await seed(database)
    expected = await one_by_one(database, organisation, events)
    reference = await dump(database)
    await clear(database)
    await seed(database)

    got = await together(database, organisation, events)

    assert got == expected
    assert await dump(database) == reference
    # The story is worth comparing: it wrote messages, plans, and every kind of outcome.
    assert {applied.outcome for applied in got} == {"applied", "duplicate", "stale", "ignored"}
    assert len(reference["outbox"]) >= 8 and len(reference["due_actions"]) >= 10
    assert {row["template"] for row in reference["outbox"]} >= {
        "customer/ticket_received", "agents/new_ticket", "management/major_incident",
        "customer/resolved",
    }  # fmt: skip


async def test_the_story_split_into_batches_ends_where_it_does_in_one(database, organisation):
    events = events_of(organisation, story())
    await seed(database)
    await together(database, organisation, events)
    reference = await dump(database)
    await clear(database)
    await seed(database)

    for start in range(0, len(events), 3):
        await together(database, organisation, events[start : start + 3])

    assert await dump(database) == reference


async def test_a_replayed_batch_is_all_duplicates_and_changes_nothing(database, organisation):
    events = events_of(organisation, story())
    await seed(database)
    await together(database, organisation, events)
    before = await dump(database)

    again = await together(database, organisation, events)

    assert {applied.outcome for applied in again} == {"duplicate"}
    assert await dump(database) == before


async def test_a_batch_costs_a_few_statements_not_a_few_per_event(database, organisation):
    bodies = []
    for number in range(1, 17):
        issue = jp.issue(f"SR-{number}", reporter=LENA)
        bodies += [
            jp.created(issue, at=_at(number)),
            jp.moved(issue, "To Do", "In Progress", at=_at(number + 60), by=ALEX),
            jp.comment(issue, "On it", at=_at(number + 61), author=ALEX,
                       comment_id=str(9100 + number)),
        ]  # fmt: skip
    events = events_of(organisation, bodies)
    await seed(database)
    with counted(database) as one_by_one_statements:
        await one_by_one(database, organisation, events)
    await clear(database)
    await seed(database)

    with counted(database) as batch_statements:
        await together(database, organisation, events)

    assert len(events) == 48
    assert one_by_one_statements() > 8 * len(events)
    # Begin and commit, five reads, and a write per table and kind of change.
    assert batch_statements() <= 16


async def test_an_event_the_batch_cannot_take_fails_alone(database, organisation):
    """A forbidden move sends the batch down the careful path: the others are stored."""
    await seed(database)
    writer = EventWriter(database, organisation, lambda: NOW, notifier=notifier_for(organisation))
    good = events_of(organisation, [jp.created(jp.issue(f"SR-{n}", reporter=LENA), at=_at(n))
                                    for n in (1, 2, 3)])  # fmt: skip
    forbidden = TicketEvent(
        kind=EventKind.CLOSED, source="esmbot", ticket_key="SR-1", dedupe_key="esmbot:close-1",
        occurred_at=_at(5), status=Status.CLOSED,
    )  # fmt: skip
    try:
        outcomes = await asyncio.gather(
            writer.submit(good[0]), writer.submit(good[1]), writer.submit(forbidden),
            writer.submit(good[2]), return_exceptions=True,
        )  # fmt: skip
    finally:
        await writer.close()

    assert [getattr(item, "outcome", None) for item in outcomes] == [
        "applied", "applied", None, "applied"
    ]  # fmt: skip
    assert isinstance(outcomes[2], IllegalTransition)
    async with database.transaction() as session:
        stored = (await session.execute(text("SELECT key, status FROM tickets ORDER BY key"))).all()
        closes = await session.scalar(
            text("SELECT count(*) FROM ticket_events WHERE dedupe_key = 'esmbot:close-1'")
        )
    assert [tuple(row) for row in stored] == [("SR-1", "new"), ("SR-2", "new"), ("SR-3", "new")]
    assert closes == 0


async def test_the_dispatcher_is_woken_only_by_a_commit_that_wrote_messages(database, organisation):
    """With nobody to tell, a batch has nothing to deliver: waking the dispatcher would cost
    it a claim query per batch for nothing."""
    woken = []
    writer = EventWriter(
        database, organisation, lambda: NOW, notifier=notifier_for(organisation),
        on_commit=lambda: woken.append(True),
    )  # fmt: skip
    first, second = (jp.issue(f"SR-{n}", reporter=LENA) for n in (1, 2))
    try:
        unheard = await writer.submit(events_of(organisation, [jp.created(first, at=_at(1))])[0])
        assert (unheard.outcome, unheard.messages, woken) == ("applied", 0, [])
        await seed(database)  # the agents' channel is bound now
        heard = await writer.submit(events_of(organisation, [jp.created(second, at=_at(2))])[0])
    finally:
        await writer.close()

    assert heard.messages >= 1
    assert woken == [True]


@pytest.fixture(autouse=True)
def _quiet_batches(caplog):
    caplog.set_level("WARNING", logger="bot.events.writer")
