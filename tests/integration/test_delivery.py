"""Messages out over real HTTP: the right cards in the right chats, and nothing lost when Teams fails."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.db import utcnow
from bot.demo.activities import (
    channel_conversation_id,
    channel_message,
    installation_update,
    personal_conversation_id,
)
from bot.notify import outbox
from bot.notify.dispatcher import DeliverySettings
from bot.notify.models import OutboxMessage
from tests import jira_payloads as jp
from tests.conftest import DANIELLE, KIM, LEARNER
from tests.integration.desk import Clock
from tests.integration.replicas import personal_chat, replicas, seed
from tests.integration.settle import settled

__all__ = ["replicas"]  # the fixture

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
AGENTS = channel_conversation_id("agents")
LENA_CHAT = personal_conversation_id(LEARNER)
LENA_JIRA = jp.user("Lena Learner", account_id="acc-lena", email=LEARNER.email)
FAST = DeliverySettings(backoff_base=0.05, backoff_cap=0.2, idle_poll=0.05, max_attempts=6)


@pytest.fixture
async def desk(connector, database, aiohttp_client, settings, organisation):
    """The running bot with fast retries, Lena's 1:1 chat known and the agents' channel bound."""
    client = await aiohttp_client(create_app(settings, organisation, delivery=FAST))

    async def post(activity):
        assert (await client.post("/api/messages", json=activity)).status == 201

    await post(installation_update(LEARNER, connector.url))
    await post(channel_message(DANIELLE, "/subscribe agents", connector.url, channel="agents"))
    await connector.wait_for(1, LENA_CHAT)
    await connector.wait_for(1, AGENTS)

    async def webhook(payload):
        response = await client.post("/api/events/jira", json=payload)
        assert response.status == 200, await response.text()
        return await response.json()

    return webhook


def cards(calls):
    return [
        call.body["attachments"][0]["content"] for call in calls if call.body.get("attachments")
    ]


def text_of(card) -> str:
    return card["fallbackText"]


async def outbox_status(database, status: str) -> int:
    async with database.transaction() as session:
        return await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)
        )


async def test_a_new_ticket_reaches_the_customer_and_the_agents_and_nobody_else(
    desk, connector, database
):
    issue = jp.issue("SR-2", reporter=LENA_JIRA)

    await desk(jp.created(issue, at=T0))

    customer = cards((await connector.wait_for(2, LENA_CHAT))[1:])
    agents = cards((await connector.wait_for(2, AGENTS))[1:])
    assert "SR-2" in text_of(customer[0]) and customer[0]["type"] == "AdaptiveCard"
    assert "SR-2" in text_of(agents[0])
    assert {action["data"]["action"] for action in agents[0]["actions"] if "data" in action} >= {
        "ack",
        "assign_me",
    }
    await settled(database, connector)
    assert len(connector.sent()) == 4  # two set-up replies, one card each


async def test_an_internal_comment_reaches_the_agents_but_never_the_customer(
    desk, connector, database
):
    issue = jp.issue("SR-3", reporter=LENA_JIRA)
    await desk(jp.created(issue, at=T0))
    await connector.wait_for(2, LENA_CHAT)

    await desk(
        jp.comment(
            issue,
            "Customer runs the 2019 plugin",
            at=T0 + timedelta(minutes=5),
            author=jp.user("Alex", account_id="acc-alex"),
            public=False,
        )
    )

    agents = await connector.wait_for(3, AGENTS)
    assert "Customer runs the 2019 plugin" in text_of(cards(agents)[-1])
    await settled(database, connector)
    assert all("2019 plugin" not in str(call.body) for call in connector.sent(LENA_CHAT))


async def test_a_public_comment_reaches_the_customer(desk, connector):
    issue = jp.issue("SR-4", reporter=LENA_JIRA)
    await desk(jp.created(issue, at=T0))

    await desk(
        jp.comment(
            issue,
            "Which browser do you use?",
            at=T0 + timedelta(minutes=5),
            author=jp.user("Alex", account_id="acc-alex"),
        )
    )

    lena = await connector.wait_for(3, LENA_CHAT)
    assert "Which browser do you use?" in text_of(cards(lena)[-1])


async def test_a_replayed_event_messages_nobody_twice(desk, connector, database):
    payload = jp.created(jp.issue("SR-5", reporter=LENA_JIRA), at=T0)
    await desk(payload)
    await connector.wait_for(2, LENA_CHAT)

    assert (await desk(payload))["outcome"] == "duplicate"

    await settled(database, connector)
    assert len(connector.sent(LENA_CHAT)) == 2


async def test_a_429_with_retry_after_is_waited_out(desk, connector, database):
    """On the wall clock, once: the one test that spends a Retry-After rather than a clock's."""
    connector.fail(429, retry_after=1, conversation_id=LENA_CHAT)

    await desk(jp.created(jp.issue("SR-6", reporter=LENA_JIRA), at=T0))

    await connector.wait_for(2, LENA_CHAT, within=8)
    calls = [call for call in connector.calls if call.conversation_id == LENA_CHAT]
    assert [call.status for call in calls[-2:]] == [429, 200]
    assert calls[-1].at - calls[-2].at >= 1.0


async def test_a_429_holds_every_send_back_for_as_long_as_teams_asks(replicas, database, connector):
    await seed(database, 2, connector.url)
    clock = Clock(utcnow())  # after the rows were written: they are due
    dispatcher = replicas("replica-1", clock=clock, delivery=FAST).dispatcher
    first, second = personal_chat(0, "").conversation_id, personal_chat(1, "").conversation_id
    connector.fail(429, retry_after=120, conversation_id=first)
    asked = clock.now + timedelta(seconds=120)

    assert await dispatcher.run_once() == 2
    assert sorted((call.conversation_id, call.status) for call in connector.calls) == [
        (first, 429),
        (second, 200),
    ]
    async with database.transaction() as session:
        held = await session.scalar(select(OutboxMessage).where(OutboxMessage.status == "pending"))
        brake = await outbox.brake_until(session)
    assert held.next_attempt_at == asked and brake == asked

    clock.advance(seconds=119)
    assert await dispatcher.run_once() == 0  # a whole round, and nothing claimed
    assert len(connector.calls) == 2

    clock.advance(seconds=1)
    assert await dispatcher.run_once() == 1
    assert [(call.conversation_id, call.status) for call in connector.calls[2:]] == [(first, 200)]


async def test_five_500s_then_success_is_one_delivery(desk, connector, database):
    connector.fail(500, times=5, conversation_id=LENA_CHAT)

    await desk(jp.created(jp.issue("SR-7", reporter=LENA_JIRA), at=T0))

    await connector.wait_for(2, LENA_CHAT, within=10)
    tries = [
        call.status
        for call in connector.calls
        if call.conversation_id == LENA_CHAT and call.operation == "send"
    ]
    assert tries[-6:] == [500, 500, 500, 500, 500, 200]
    await settled(database, connector)
    assert len(connector.sent(LENA_CHAT)) == 2


async def test_a_403_marks_the_chat_unreachable_and_the_desk_hears_of_it(desk, connector, database):
    connector.fail(403, conversation_id=LENA_CHAT, code="MessageWritesBlocked")

    await desk(jp.created(jp.issue("SR-8", reporter=LENA_JIRA), at=T0))

    agents = await connector.wait_for(3, AGENTS, within=8)
    assert any(
        "delivery" in str(card).lower() or "could not" in text_of(card).lower()
        for card in cards(agents[1:])
    )
    async with database.transaction() as session:
        from bot.directory.models import Conversation

        chat = await session.scalar(
            select(Conversation).where(Conversation.conversation_id == LENA_CHAT)
        )
        assert chat.reachable is False
    assert await outbox_status(database, "failed") == 1


async def test_a_deleted_chat_is_reopened_once_and_the_message_arrives(desk, connector, database):
    connector.fail(404, conversation_id=LENA_CHAT, code="ConversationNotFound")

    await desk(jp.created(jp.issue("SR-9", reporter=LENA_JIRA), at=T0))

    async def delivered_to_a_new_chat():
        return [call for call in connector.sent() if call.conversation_id.startswith("a:created")]

    fresh = await eventually(delivered_to_a_new_chat, within=8)
    created = [call for call in connector.calls if call.operation == "create_conversation"]
    assert len(created) == 1
    assert created[0].body["members"][0]["id"] == LEARNER.id
    assert len(fresh) == 1 and "SR-9" in text_of(cards(fresh)[0])


async def test_pending_messages_survive_a_restart(
    connector, database, aiohttp_client, settings, organisation
):
    quiet = await aiohttp_client(create_app(settings, organisation, dispatch=False))
    await quiet.post("/api/messages", json=installation_update(LEARNER, connector.url))
    await connector.wait_for(1, LENA_CHAT)
    await quiet.post(
        "/api/events/jira", json=jp.created(jp.issue("SR-10", reporter=LENA_JIRA), at=T0)
    )
    await quiet.close()  # the bot goes down with its message still in the outbox
    assert await outbox_status(database, "pending") == 1
    # (Without an agents' channel, the agents' card went to Alex and Sam, who never chatted:
    # those rows failed at once, and are not what waits.)
    (waiting,) = [row for row in await outbox_rows(database) if row.status == "pending"]
    assert waiting.activity is None and waiting.draft["view"]["key"] == "SR-10"

    await aiohttp_client(create_app(settings, organisation, delivery=FAST))

    lena = await connector.wait_for(2, LENA_CHAT)
    assert "SR-10" in text_of(cards(lena)[-1])
    assert await eventually(lambda: outbox_status(database, "sent")) == 1
    # Rendered when it was sent, and kept as sent.
    (sent,) = [row for row in await outbox_rows(database) if row.status == "sent"]
    assert sent.draft is None and sent.activity["attachments"] == lena[-1].body["attachments"]


async def test_a_message_that_cannot_be_written_fails_and_the_desk_hears_why(
    connector, database, aiohttp_client, settings, organisation
):
    quiet = await aiohttp_client(create_app(settings, organisation, dispatch=False))
    await quiet.post("/api/messages", json=installation_update(LEARNER, connector.url))
    await quiet.post(
        "/api/messages",
        json=channel_message(DANIELLE, "/subscribe agents", connector.url, channel="agents"),
    )
    await connector.wait_for(1, AGENTS)
    await quiet.post(
        "/api/events/jira", json=jp.created(jp.issue("SR-13", reporter=LENA_JIRA), at=T0)
    )
    await quiet.close()
    async with database.transaction() as session:
        broken = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.audience == "customer")
        )
        broken.draft = {**broken.draft, "view": {**broken.draft["view"], "status": "exploded"}}

    await aiohttp_client(create_app(settings, organisation, delivery=FAST))

    agents = await connector.wait_for(3, AGENTS, within=8)  # the new ticket and the notice
    (notice,) = [str(card) for card in cards(agents) if "could not be written" in str(card)]
    assert "unreadable draft" in notice and "exploded" in notice  # what, and why
    assert any("SR-13" in text_of(card) for card in cards(agents))
    async with database.transaction() as session:
        failed = await session.get(OutboxMessage, broken.id)
    assert failed.status == "failed" and failed.attempts == 1
    assert failed.last_error.startswith("could not be written: customer/ticket_received")
    assert "exploded" in failed.last_error and failed.draft is not None
    assert len(connector.sent(LENA_CHAT)) == 1  # the welcome only


async def outbox_rows(database) -> list[OutboxMessage]:
    async with database.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_german_customer_reads_german(
    connector, database, aiohttp_client, settings, organisation
):
    client = await aiohttp_client(create_app(settings, organisation, delivery=FAST))
    await client.post("/api/messages", json=installation_update(KIM, connector.url))
    kim = jp.user("Kim Keyuser", account_id="acc-kim", email=KIM.email)

    await client.post("/api/events/jira", json=jp.created(jp.issue("SR-11", reporter=kim), at=T0))

    card = cards(await connector.wait_for(2, personal_conversation_id(KIM)))[-1]
    german = text_of(card)
    assert "SR-11" in german
    assert any(word in german for word in ("Ihre", "Sie", "Anfrage", "Ticket erhalten"))
    # 09:00 in Berlin plus 48 h, in Kim's zone and German format.
    assert "25.11.2026" in str(card)


async def eventually(probe, *, within: float = 5.0):
    """The probe's answer once it is truthy (or the last answer when time runs out)."""
    deadline = time.monotonic() + within
    while True:
        answer = await probe()
        if answer or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.05)


async def test_a_retried_row_that_fails_again_tells_the_desk_only_once(desk, connector, database):
    connector.fail(500, times=100, conversation_id=LENA_CHAT)
    await desk(jp.created(jp.issue("SR-12", reporter=LENA_JIRA), at=T0))
    assert await eventually(lambda: outbox_status(database, "failed"), within=10) == 1

    async with database.transaction() as session:  # what `python -m bot outbox retry` does
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
        row.status, row.attempts, row.next_attempt_at = "pending", 0, datetime.now(UTC)

    async def failed_again():
        async with database.transaction() as session:
            stored = await session.get(OutboxMessage, row.id)
            return stored.status == "failed" and stored.attempts == FAST.max_attempts

    assert await eventually(failed_again, within=10)
    notices = [c for c in cards(connector.sent(AGENTS)) if "SR-12" not in text_of(c)]
    assert len(notices) == 1
