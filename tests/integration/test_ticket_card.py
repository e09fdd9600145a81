"""The customer's one card per ticket: redrawn in place as the ticket moves, posted anew if gone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.app import create_app
from bot.db import utcnow
from bot.demo.activities import channel_message, installation_update
from bot.notify import outbox
from bot.notify.claims import Claimant
from bot.notify.models import OutboxMessage
from tests import jira_payloads as jp
from tests.conftest import ALEX, DANIELLE, LEARNER
from tests.integration.desk import (
    FAST,
    LENA_CHAT,
    desk_fixture,  # noqa: F401 - the fixture
    fallback,
)
from tests.integration.settle import settled

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LENA_JIRA = jp.user("Lena Learner", account_id="acc-lena", email=LEARNER.email)


def calls_in(connector, conversation: str, *operations: str):
    return [
        call
        for call in connector.calls
        if call.conversation_id == conversation and call.operation in operations
    ]


async def test_the_ticket_card_follows_the_ticket_and_only_what_needs_lena_is_new(desk):
    key = await desk.open(module="Payment")
    card = await desk.ticket_card(key)
    posted = len(desk.cards(LENA_CHAT))

    await desk.say(ALEX, f"/ack {key}", channel="agents")
    await desk.redrawn(card, 1)
    # Teams notifies of new posts, not of edits: who took it and by when comes as a message.
    taken = (await desk.new_cards(LENA_CHAT, 1, after=posted))[0]
    await desk.say(ALEX, f"/status {key} in_progress", channel="agents")
    await desk.redrawn(card, 2)
    await desk.say(ALEX, f"/escalate {key} vendor Payment module throws 500", channel="agents")
    redraws = await desk.redrawn(card, 3)
    vendor = (await desk.new_cards(LENA_CHAT, 2, after=posted))[1]
    await desk.quiet()

    assert "We're working on it" in fallback(redraws[0]) and "Alex Agent" in str(redraws[0])
    assert "Being worked on" in fallback(redraws[1])
    assert "vendor" in fallback(redraws[2]) and "throws 500" not in str(redraws[2])
    assert "Alex Agent is on it" in fallback(taken) and "Expect a solution by" in fallback(taken)
    assert "asked the makers of" in fallback(vendor) and "throws 500" not in str(vendor)
    # The status change alone posted nothing new.
    assert len(desk.cards(LENA_CHAT)) == posted + 2
    posted += 2

    await desk.say(ALEX, f"/ask {key} Which payment provider do you use?", channel="agents")
    await desk.new_cards(LENA_CHAT, 1, after=posted)
    await desk.say(ALEX, f"/reply {key} We are testing a fix", channel="agents")
    await desk.new_cards(LENA_CHAT, 2, after=posted)
    await desk.say(ALEX, f"/resolve {key} Patched the payment module", channel="agents")
    new = await desk.new_cards(LENA_CHAT, 3, after=posted)
    await desk.quiet()

    assert "Which payment provider do you use?" in str(new[0])
    assert "We are testing a fix" in str(new[1])
    assert "Patched the payment module" in str(new[2])
    assert len(desk.cards(LENA_CHAT)) == posted + 3
    # Every edit in Lena's chat went to her ticket card, and only the three moves redrew it.
    assert {call.activity_id for call in calls_in(desk.connector, LENA_CHAT, "update")} == {card}
    assert len(desk.updates(card)) == 3


@pytest.mark.parametrize("refusal", [404, 400])
async def test_a_card_that_can_no_longer_be_edited_is_posted_anew_and_redrawn_from_then_on(
    desk, refusal
):
    key = await desk.open()
    old = await desk.ticket_card(key)
    posted = len(desk.cards(LENA_CHAT))
    desk.connector.fail(refusal, operation="update", conversation_id=LENA_CHAT)

    await desk.say(ALEX, f"/ack {key}", channel="agents")

    anew, news = await desk.new_cards(LENA_CHAT, 2, after=posted)
    assert "We're working on it" in fallback(anew)
    assert "Alex Agent is on it" in fallback(news)  # after the card it speaks of
    refused = calls_in(desk.connector, LENA_CHAT, "update")
    assert [(call.activity_id, call.status) for call in refused] == [(old, refusal)]
    card = await sent_id(desk, "customer/being_worked_on")
    assert card != old

    await desk.say(ALEX, f"/status {key} in_progress", channel="agents")

    assert "Being worked on" in fallback((await desk.redrawn(card, 1))[0])
    await desk.quiet()
    assert len(desk.cards(LENA_CHAT)) == posted + 2
    assert desk.updates(old) == []
    # A card that is gone is not a chat that is gone: Lena stays reachable where she was.
    assert await desk.scalar(
        "SELECT reachable FROM conversations WHERE conversation_id = :chat", chat=LENA_CHAT
    )
    assert not [call for call in desk.connector.calls if call.operation == "create_conversation"]


async def test_moves_written_before_the_ticket_card_is_out_redraw_it_in_order(
    connector, database, aiohttp_client, settings, organisation
):
    quiet = await aiohttp_client(create_app(settings, organisation, dispatch=False, schedule=False))
    await quiet.post("/api/messages", json=installation_update(LEARNER, connector.url))
    await connector.wait_for(1, LENA_CHAT)
    await bind_vendor(quiet, connector)
    issue = jp.issue("SR-20", reporter=LENA_JIRA)
    for payload in (
        jp.created(issue, at=T0),
        jp.moved(issue, "To Do", "In Progress", at=T0 + timedelta(hours=1)),
        jp.moved(issue, "In Progress", "Waiting for vendor", at=T0 + timedelta(hours=2)),
    ):
        assert (await quiet.post("/api/events/jira", json=payload)).status == 200
    await quiet.close()  # all three wait in the outbox, the ticket card among them
    assert await waiting(database) == [
        "customer/ticket_received",
        "customer/being_worked_on",
        "customer/being_worked_on_news",
        "vendor/escalation",
        "customer/vendor_involved",
        "customer/vendor_involved_news",
    ]

    await aiohttp_client(create_app(settings, organisation, delivery=FAST))

    await connector.wait_for(4, LENA_CHAT, redraws=True)  # the welcome, the card, two redraws
    await settled(database, connector)
    calls = calls_in(connector, LENA_CHAT, "send", "update")
    assert [call.operation for call in calls] == ["send", "update", "send", "update", "send"]
    news = [calls.pop(4), calls.pop(2)]
    assert "Expect a solution" in str(news[1]) and "makers of" in str(news[0])
    async with database.transaction() as session:
        card = await session.scalar(
            select(OutboxMessage.sent_activity_id).where(
                OutboxMessage.template == "customer/ticket_received"
            )
        )
    assert card and [call.activity_id for call in calls[1:]] == [card, card]
    texts = [call.body["attachments"][0]["content"]["fallbackText"] for call in calls]
    assert "SR-20" in texts[0] and "We're working on it" in texts[1] and "vendor" in texts[2]


async def test_a_redraw_is_claimed_only_after_the_card_rows_before_it_are_settled(
    connector, database, aiohttp_client, settings, organisation
):
    quiet = await aiohttp_client(create_app(settings, organisation, dispatch=False, schedule=False))
    await quiet.post("/api/messages", json=installation_update(LEARNER, connector.url))
    await connector.wait_for(1, LENA_CHAT)
    await bind_vendor(quiet, connector)
    issue = jp.issue("SR-21", reporter=LENA_JIRA)
    for payload in (
        jp.created(issue, at=T0),
        jp.moved(issue, "To Do", "In Progress", at=T0 + timedelta(hours=1)),
        jp.moved(issue, "In Progress", "Waiting for vendor", at=T0 + timedelta(hours=2)),
    ):
        assert (await quiet.post("/api/events/jira", json=payload)).status == 200
    async with database.transaction() as session:
        ids = list(
            (
                await session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.audience == "customer")
                    .order_by("id")
                )
            ).all()
        )
    card_row, first, first_news, second, second_news = ids
    later = utcnow() + timedelta(minutes=1)

    async def claim() -> list[int]:
        async with database.transaction() as session:
            rows = await outbox.claim(
                session, now=later, limit=10, lease=timedelta(hours=1), claimant=Claimant("test")
            )
            return [row.id for row in rows if row.id in ids]  # the vendor's row goes its own way

    async def settle(row_id: int, status: str, activity: str | None = None) -> None:
        async with database.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(status=status, sent_activity_id=activity)
            )

    # The card is on its way: both redraws, and the news beside them, wait for it.
    assert await claim() == [card_row]
    assert await claim() == []
    await settle(card_row, outbox.SENT, "activity-card")
    assert await claim() == [first]  # the second waits for the first, or it could overtake it
    async with database.transaction() as session:
        row = await session.get(OutboxMessage, second)
        assert await outbox.ticket_card(session, row) == "activity-card"
    await settle(first, outbox.FAILED)
    assert await claim() == [first_news, second]
    await settle(second, outbox.SENT, "activity-card")
    assert await claim() == [second_news]


async def bind_vendor(client, connector) -> None:
    """The vendor's channel is bound: the customer hears of the vendor only with the vendor."""
    subscribe = channel_message(DANIELLE, "/subscribe vendor", connector.url, channel="vendor")
    assert (await client.post("/api/messages", json=subscribe)).status == 201


async def sent_id(desk, template: str) -> str:
    """The activity id Teams gave the row of `template`, once the dispatcher recorded it."""
    sql = "SELECT sent_activity_id FROM outbox WHERE template = :template AND status = 'sent'"
    found = None
    for _ in range(250):
        if found := await desk.scalar(sql, template=template):
            break
        await asyncio.sleep(0.02)
    assert found, f"no {template} was delivered"
    return found


async def waiting(database) -> list[str]:
    async with database.transaction() as session:
        found = await session.scalars(
            select(OutboxMessage.template)
            .where(OutboxMessage.status == outbox.PENDING)
            .order_by(OutboxMessage.id)
        )
        return list(found)


async def test_rows_fall_due_on_the_apps_clock_even_when_it_runs_behind_the_wall(desk):
    # The dispatcher claims by the app's clock; a row stamped with the wall clock would wait
    # until the app's clock caught up, and a clock behind the wall never does.
    desk.clock.now = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)

    key = await desk.open()  # waits for Lena's card and the agents' card to be delivered

    assert await desk.ticket(key, "created_at") == desk.clock.now
