"""Changes made in Teams: written to Jira first when connected, to esmbot's own store otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.db import Database
from bot.directory.models import Person
from bot.events.jira_client import JiraClient, JiraError
from bot.events.jira_system import JiraSystem
from bot.events.jira_webhook import parse_webhook
from bot.tickets.actions import TicketActions, UnknownTicket
from bot.tickets.flows import apply_event
from bot.tickets.lifecycle import IllegalTransition, Status
from bot.tickets.models import Ticket, TicketEvent
from bot.tickets.service import ticket_by_key
from bot.tickets.system import Draft, LocalStore
from tests.doubles.jira import JiraDouble

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DRAFT = Draft(
    summary="Checkout fails with an error",
    description="Error 500 at payment",
    module="Checkout",
    impact="No orders",
    steps="Pay with card",
    priority="P3",
)


async def _people(database: Database) -> tuple[Person, Person]:
    async with database.transaction() as session:
        lena = Person(
            name="Lena Learner", email="lena.learner@esmos.example", jira_account_id="acc-lena"
        )
        alex = Person(
            name="Alex Agent",
            email="alex@esmos.example",
            jira_account_id="acc-alex",
            roles=["agents"],
        )
        session.add_all([lena, alex])
    return lena, alex


async def _count(database: Database, model) -> int:
    async with database.transaction() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def _ticket(database: Database, key: str) -> Ticket:
    async with database.transaction() as session:
        return await ticket_by_key(session, key=key)


@pytest.fixture
def local(database, organisation) -> TicketActions:
    return TicketActions(
        database=database, system=LocalStore(), organisation=organisation, clock=lambda: NOW
    )


async def test_without_jira_tickets_get_keys_of_our_own(local, database):
    lena, _ = await _people(database)

    first = await local.open(DRAFT, reporter=lena)
    second = await local.open(DRAFT, reporter=lena)

    assert (first.ticket_key, second.ticket_key) == ("SR-1", "SR-2")
    assert [str(c) for c in first.changes] == ["created"]
    assert [(i.audience, i.template) for i in first.intents] == [
        ("customer", "customer/ticket_received"),
        ("agents", "agents/new_ticket"),
    ]
    stored = await _ticket(database, "SR-1")
    assert (stored.reporter_id, stored.module, stored.source) == (lena.id, "Checkout", "esmbot")
    assert stored.first_response_due == NOW + timedelta(hours=48)


async def test_the_lifecycle_refuses_an_impossible_move_and_stores_nothing(local, database):
    lena, alex = await _people(database)
    await local.open(DRAFT, reporter=lena)
    await local.move("SR-1", Status.CANCELLED, actor=alex)
    events_before = await _count(database, TicketEvent)

    with pytest.raises(IllegalTransition, match="SR-1 cannot go from cancelled to resolved"):
        await local.move("sr-1", Status.RESOLVED, actor=alex)

    assert await _count(database, TicketEvent) == events_before
    assert (await _ticket(database, "SR-1")).status == "cancelled"


async def test_ack_ask_answer_resolve_record_the_clock(local, database):
    lena, alex = await _people(database)
    await local.open(DRAFT, reporter=lena)

    ack = await local.move("SR-1", Status.ACKNOWLEDGED, actor=alex)
    ask = await local.move("SR-1", Status.WAITING_FOR_CUSTOMER, actor=alex)
    answer = await local.comment("SR-1", "Visa, the usual one", actor=lena, public=True)
    resolved = await local.move(
        "SR-1", Status.RESOLVED, actor=alex, fields={"resolution": "Patched"}
    )

    assert [str(c) for c in ack.changes] == ["acknowledged"]
    assert [str(c) for c in ask.changes] == ["waiting_for_customer"]
    assert [str(c) for c in answer.changes] == ["customer_replied"]
    assert [str(c) for c in resolved.changes] == ["resolved"]
    stored = await _ticket(database, "SR-1")
    assert (stored.status, stored.resolution, stored.first_response_at) == (
        "resolved",
        "Patched",
        NOW,
    )
    assert stored.paused_since is None


async def test_an_unknown_ticket_is_said_plainly(local):
    with pytest.raises(UnknownTicket, match=r"I can.t find a ticket SR-99\."):
        await local.move("sr-99", Status.ACKNOWLEDGED, actor=Person(id=1, name="x"))


@pytest.fixture
async def jira() -> AsyncIterator[JiraDouble]:
    double = JiraDouble()
    await double.start()
    double.add_user("acc-lena", "Lena Learner", email="lena.learner@esmos.example")
    double.add_user("acc-alex", "Alex Agent", email="alex@esmos.example")
    yield double
    await double.close()


@pytest.fixture
async def connected(jira, database, organisation) -> AsyncIterator[TicketActions]:
    async def no_wait(_seconds: float) -> None:
        return None

    client = JiraClient(jira.url, jira.email, jira.api_token, sleep=no_wait)
    system = JiraSystem(client, project_key="SR", mapping=organisation.jira)
    yield TicketActions(
        database=database, system=system, organisation=organisation, clock=lambda: NOW
    )
    await client.close()


async def test_with_jira_the_issue_is_created_there_first(connected, jira, database):
    lena, _ = await _people(database)

    applied = await connected.open(DRAFT, reporter=lena)

    assert applied.ticket_key in jira.issues
    issue = jira.issues[applied.ticket_key]
    assert issue["summary"] == "Checkout fails with an error"
    stored = await _ticket(database, applied.ticket_key)
    assert (stored.source, stored.external_id) == ("jira", issue["id"])


async def test_jiras_own_webhook_for_that_issue_is_then_a_duplicate(
    connected, jira, database, organisation
):
    lena, _ = await _people(database)
    applied = await connected.open(DRAFT, reporter=lena)
    issue = jira.issues[applied.ticket_key]
    webhook = {
        "webhookEvent": "jira:issue_created",
        "timestamp": int(NOW.timestamp() * 1000),
        "issue": {
            "id": issue["id"],
            "key": applied.ticket_key,
            "fields": {"summary": DRAFT.summary},
        },
    }

    [event] = parse_webhook(webhook, mapping=organisation.jira, delivery_id="d-1", now=NOW)
    async with database.transaction() as session:
        outcome = await apply_event(session, event, organisation=organisation, now=NOW)

    assert outcome.outcome == "duplicate"


async def test_a_429_is_waited_out_and_the_issue_created_once(connected, jira, database):
    lena, _ = await _people(database)
    jira.fail(429, retry_after=2, operation="create_issue")

    applied = await connected.open(DRAFT, reporter=lena)

    assert len(jira.issues) == 1
    assert [call.status for call in jira.calls_to("create_issue")] == [429, 201]
    assert await _count(database, Ticket) == 1
    assert applied.outcome == "applied"


async def test_a_500_on_create_leaves_no_half_created_ticket(connected, jira, database):
    lena, _ = await _people(database)
    jira.fail(500, operation="create_issue")

    with pytest.raises(JiraError, match="nothing was stored"):
        await connected.open(DRAFT, reporter=lena)

    assert len(jira.calls_to("create_issue")) == 1
    assert await _count(database, Ticket) == 0
    assert await _count(database, TicketEvent) == 0


async def test_comments_and_moves_are_written_to_jira(connected, jira, database):
    lena, alex = await _people(database)
    key = (await connected.open(DRAFT, reporter=lena)).ticket_key

    await connected.comment(key, "Customer uses the old plugin", actor=alex, public=False)
    await connected.move(key, Status.ACKNOWLEDGED, actor=alex)
    await connected.assign(key, alex, actor=alex)

    issue = jira.issues[key]
    assert issue["status"] == "In Progress"
    assert issue["assignee"] == "acc-alex"
    internal = jira.calls_to("add_comment")[0].body
    assert internal["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]
    assert (await _ticket(database, key)).status == "acknowledged"


async def test_a_jira_refusal_reaches_the_person_and_changes_nothing_here(
    connected, jira, database
):
    lena, alex = await _people(database)
    key = (await connected.open(DRAFT, reporter=lena)).ticket_key
    jira.fail(503, times=10, operation="transition")

    with pytest.raises(JiraError, match="tried 4 times"):
        await connected.move(key, Status.ACKNOWLEDGED, actor=alex)

    assert (await _ticket(database, key)).status == "new"


async def test_the_vendors_answer_is_a_comment_jira_keeps_internal(connected, jira, database):
    lena, alex = await _people(database)
    async with database.transaction() as session:
        vendor = Person(name="OpenCart Support", email="support@opencart-vendor.example")
        session.add(vendor)
    key = (await connected.open(DRAFT, reporter=lena)).ticket_key
    other = (await connected.open(DRAFT, reporter=lena)).ticket_key
    await connected.move(key, Status.WAITING_FOR_VENDOR, actor=alex, reason="Error 500 on 4.0.2.3")

    applied = await connected.vendor_answer(key, "Patch 4.0.2.4 fixes it", actor=vendor)
    with pytest.raises(UnknownTicket):
        await connected.vendor_answer(other, "Not ours to see", actor=vendor)

    [call] = jira.calls_to("add_comment")
    assert call.body["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]
    assert "Patch 4.0.2.4 fixes it" in str(call.body["body"])
    assert [str(change) for change in applied.changes] == ["vendor_answered"]
    assert (await _ticket(database, key)).vendor_responded_at == NOW
    assert (await _ticket(database, other)).vendor_responded_at is None
