"""What a row learnt on its way (its chat was opened anew, pacing held it back) outlasts its errors."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import create_app
from bot.demo.activities import installation_update, personal_conversation_id
from bot.notify.models import OutboxMessage
from bot.notify.pacing import Window
from tests import jira_payloads as jp
from tests.conftest import LEARNER
from tests.integration.replicas import replicas, seed, statuses
from tests.integration.test_delivery import FAST, eventually

__all__ = ["replicas"]  # the fixture

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LENA_CHAT = personal_conversation_id(LEARNER)
LENA_JIRA = jp.user("Lena Learner", account_id="acc-lena", email=LEARNER.email)


async def the_row(database, template: str) -> OutboxMessage:
    async with database.transaction() as session:
        return await session.scalar(select(OutboxMessage).where(OutboxMessage.template == template))


async def test_a_chat_is_opened_anew_once_even_when_another_error_came_between(
    connector, database, aiohttp_client, settings, organisation
):
    client = await aiohttp_client(create_app(settings, organisation, delivery=FAST))
    await client.post("/api/messages", json=installation_update(LEARNER, connector.url))
    await connector.wait_for(1, LENA_CHAT)  # the welcome
    # Lena deleted the chat; the new one first fails with a 500, then is gone too.
    connector.fail(404, conversation_id=LENA_CHAT, code="ConversationNotFound")
    connector.fail(500, operation="send")
    connector.fail(404, operation="send", code="ConversationNotFound")

    await client.post(
        "/api/events/jira", json=jp.created(jp.issue("SR-30", reporter=LENA_JIRA), at=T0)
    )

    async def failed():
        row = await the_row(database, "customer/ticket_received")
        return row if row is not None and row.status == "failed" else None

    row = await eventually(failed, within=10)
    assert row, "the message should have been given up on"
    created = [call for call in connector.calls if call.operation == "create_conversation"]
    assert len(created) == 1
    assert row.chat_reopened and row.last_error.startswith("404")
    assert [call.status for call in connector.calls if call.operation == "send"][-3:] == [
        404,
        500,
        404,
    ]


async def test_a_row_pacing_held_back_keeps_its_tries(replicas, database, connector):
    # One message a minute per chat: the second of Lena's two waits far longer than a round.
    replica = replicas("replica-1", conversation=(Window(60, 1),))
    await seed(database, 1, connector.url, per_chat=2)

    assert await replica.dispatcher.run_once() == 2

    assert await statuses(database) == {"sent": 1, "pending": 1}
    async with database.transaction() as session:
        first, second = (await session.scalars(select(OutboxMessage).order_by("id"))).all()
    assert (first.attempts, first.held_back, first.tries) == (1, 0, 1)
    # Claimed once and handed back untried: no try spent, and the row says why it waits.
    assert (second.attempts, second.held_back, second.tries) == (1, 1, 0)
    assert second.status == "pending" and second.last_error is None
