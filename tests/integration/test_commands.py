"""Agent commands that move tickets, over /api/messages: in the channel and in the 1:1 chat."""

from __future__ import annotations

import pytest

from bot.demo.activities import channel_message
from tests.conftest import ALEX, DANIELLE, LEARNER
from tests.integration.desk import (
    AGENTS,
    LENA_CHAT,
    MANAGEMENT,
    SAM,
    VENDOR,
    desk_fixture,  # noqa: F401 - the fixture
    fallback,
    mention,
)


async def test_ack_in_the_channel_tells_lena_that_alex_is_on_it(desk):
    key = await desk.open()
    lena_before = len(await desk.new_cards(LENA_CHAT, 1, after=0))
    ticket_card = await desk.ticket_card(key)

    answer = await desk.say(ALEX, f"/ack {key}", channel="agents")

    assert (
        answer
        == "SR-1 acknowledged and it is yours now. The requester hears that someone is on it."
    )
    card = (await desk.redrawn(ticket_card, 1))[0]  # her ticket card, redrawn in place
    assert "We're working on it" in fallback(card)
    assert "Alex Agent" in str(card)
    # And a short new message, since Teams notifies of new posts, not of edits.
    news = (await desk.new_cards(LENA_CHAT, 1, after=lena_before))[0]
    assert "Alex Agent is on it" in fallback(news)
    await desk.quiet()
    assert len(desk.cards(LENA_CHAT)) == lena_before + 1
    assert await desk.ticket(key, "status") == "acknowledged"
    assert await desk.ticket(key, "first_response_at") is not None
    alex = await desk.person(ALEX)
    assert await desk.ticket(key, "assignee_id") == alex.id


async def test_ack_in_the_1to1_chat_needs_neither_slash_nor_capitals(desk):
    await desk.open()
    await desk.say(SAM, "/help")  # Sam owns it first: the ack leaves him the owner
    await desk.actions.assign("SR-1", await desk.person(SAM), actor=await desk.person(SAM))

    answer = await desk.say(ALEX, "ack sr-1")

    assert answer == "SR-1 acknowledged. The requester hears that someone is on it."
    assert await desk.ticket("SR-1", "assignee_id") == (await desk.person(SAM)).id
    assert await desk.say(ALEX, "/ack SR-1") == "SR-1 was already acknowledged; Sam Agent has it."


async def test_a_customer_typing_resolve_is_told_it_is_for_the_desk(desk):
    key = await desk.open()
    events = await desk.scalar("SELECT count(*) FROM ticket_events")

    answer = await desk.say(LEARNER, f"/resolve {key} fixed it myself")

    assert answer.startswith("Sorry, that is for the service desk")
    assert "Nothing was changed." in answer
    assert await desk.ticket(key, "status") == "new"
    assert await desk.scalar("SELECT count(*) FROM ticket_events") == events
    assert await desk.scalar("SELECT outcome FROM audit_log WHERE action = 'resolve'") == "refused"


@pytest.mark.parametrize(
    "words",
    ["/ack SR-1", "/reply SR-1 hello", "/resolve SR-1 done", "/close SR-1", "/ask SR-1 why?"],
)
async def test_a_manager_cannot_do_an_agents_work(desk, words):
    await desk.open()

    answer = await desk.say(DANIELLE, words, channel="agents")

    assert answer.startswith("Sorry, that is for the service desk: only agents can use /")
    assert await desk.ticket("SR-1", "status") == "new"


UNKNOWN = [
    "/ack SR-9",
    "/assign SR-9 me",
    "/status SR-9 closed",
    "/resolve SR-9 done",
    "/close SR-9",
    "/reopen SR-9 back again",
    "/priority SR-9 P2",
    "/escalate SR-9 vendor please look",
    "/reply SR-9 hello",
    "/note SR-9 hello",
    "/ask SR-9 which browser?",
    "/sla SR-9",
]


@pytest.mark.parametrize("channel", ["agents", None], ids=["channel", "1:1"])
async def test_an_unknown_ticket_is_said_plainly_by_every_command(desk, channel):
    await desk.open()

    answers = [await desk.say(ALEX, words, channel=channel) for words in UNKNOWN]

    assert answers == ["I can't find a ticket SR-9."] * len(UNKNOWN)
    assert await desk.scalar("SELECT count(*) FROM tickets") == 1


BAD = {
    "/ack": "Usage: /ack key",
    "/ack hello": "'hello' is not a ticket key",
    "/assign SR-1": "Usage: /assign key @person|me",
    "/status SR-1 flying": "invalid choice: 'flying'",
    "/resolve SR-1": "Usage: /resolve key resolution [resolution ...]",
    "/close": "Usage: /close key",
    "/reopen SR-1": "Usage: /reopen key reason [reason ...]",
    "/priority SR-1 P7": "invalid choice: 'P7'",
    "/escalate SR-1 lawyer help": "invalid choice: 'lawyer'",
    "/escalate SR-1 vendor": "Usage: /escalate key vendor reason [reason ...]",
    '/reply SR-1 "unclosed': "check your quotes",
}


@pytest.mark.parametrize("channel", ["agents", None], ids=["channel", "1:1"])
async def test_bad_arguments_get_the_usage_line_and_change_nothing(desk, channel):
    await desk.open()
    events = await desk.scalar("SELECT count(*) FROM ticket_events")

    for words, says in BAD.items():
        assert says in await desk.say(ALEX, words, channel=channel), words

    assert await desk.scalar("SELECT count(*) FROM ticket_events") == events


async def test_assign_to_a_mentioned_agent_learns_who_they_are_from_teams(desk):
    key = await desk.open()
    typed = channel_message(
        ALEX, f"/assign {key} <at>Sam Agent</at>", desk.connector.url, channel="agents"
    )

    answer = await desk.post(mention(typed, SAM))

    assert answer == "SR-1 is Sam Agent's now."
    sam = await desk.person(SAM)
    assert await desk.ticket(key, "assignee_id") == sam.id
    # Sam's own settings are not taken from Alex's message.
    assert sam.time_zone is None and sam.roles == ["agents"]


async def test_assign_me_in_the_1to1_chat_and_a_customer_cannot_own_tickets(desk):
    key = await desk.open()

    assert await desk.say(ALEX, f"/assign {key} me") == "SR-1 is yours now."
    assert await desk.say(ALEX, f"/assign {key} me") == "SR-1 is already yours."
    typed = channel_message(
        ALEX, f"/assign {key} <at>Lena Learner</at>", desk.connector.url, channel="agents"
    )
    refused = await desk.post(mention(typed, LEARNER))
    assert refused == "Only agents can own tickets, and Lena Learner is not one."
    unmentioned = await desk.say(ALEX, f"/assign {key} @Sam")
    assert "@mention them" in unmentioned
    assert await desk.ticket(key, "assignee_id") == (await desk.person(ALEX)).id


async def test_status_moves_the_ticket_and_tells_the_customer(desk):
    key = await desk.open()
    ticket_card = await desk.ticket_card(key)
    lena = len(desk.cards(LENA_CHAT))
    await desk.say(ALEX, f"/ack {key}")
    await desk.redrawn(ticket_card, 1)
    await desk.new_cards(LENA_CHAT, 1, after=lena)  # the news that Alex is on it
    lena += 1

    answer = await desk.say(ALEX, f"/status {key} in_progress", channel="agents")

    assert answer == "SR-1 is in_progress now."
    card = (await desk.redrawn(ticket_card, 1, after=1))[0]
    assert "SR-1" in fallback(card) and "Being worked on" in fallback(card)
    assert len(desk.cards(LENA_CHAT)) == lena
    assert "/resolve SR-1" in await desk.say(ALEX, f"/status {key} resolved")
    assert await desk.say(ALEX, f"/status {key} in_progress") == "SR-1 is already in_progress."


async def test_resolve_sends_the_resolution_and_close_and_reopen_follow_the_lifecycle(desk):
    key = await desk.open()
    refused = await desk.say(ALEX, f"/close {key}", channel="agents")
    assert refused.startswith("SR-1 cannot go from new to closed (allowed:")
    lena = len(desk.cards(LENA_CHAT))

    answer = await desk.say(ALEX, f"/resolve {key} Patched the payment module", channel="agents")

    assert answer.startswith("SR-1 resolved.")
    card = (await desk.new_cards(LENA_CHAT, 1, after=lena))[0]
    assert "Patched the payment module" in str(card)
    assert {a.get("data", {}).get("action") for a in card["actions"]} >= {"solved"}
    assert await desk.ticket(key, "resolution") == "Patched the payment module"
    agents = len(desk.cards(AGENTS))
    assert await desk.say(ALEX, f"/reopen {key} The error is back") == (
        "SR-1 reopened; it is back in the queue."
    )
    assert "reopened" in fallback((await desk.new_cards(AGENTS, 1, after=agents))[0]).lower()
    await desk.say(ALEX, f"/resolve {key} Patched again")
    assert await desk.say(ALEX, f"/close {key}") == "SR-1 is closed now."
    assert await desk.say(ALEX, f"/close {key}") == "SR-1 is already closed."
    assert await desk.ticket(key, "reopen_count") == 1


async def test_priority_p1_alerts_management(desk):
    key = await desk.open()
    management = len(desk.cards(MANAGEMENT))

    answer = await desk.say(
        ALEX, f"/priority {key} p1 Checkout down for everyone", channel="agents"
    )

    assert answer.startswith("SR-1 is P1 now")
    assert "major incident" in answer
    assert "SR-1" in fallback((await desk.new_cards(MANAGEMENT, 1, after=management))[0])
    assert await desk.ticket(key, "priority") == "P1"
    assert await desk.say(DANIELLE, f"/priority {key} P1") == "SR-1 is already P1."


async def test_escalate_briefs_the_vendor_and_tells_the_customer(desk):
    key = await desk.open(module="Payment")
    ticket_card = await desk.ticket_card(key)
    lena = len(desk.cards(LENA_CHAT))

    answer = await desk.say(
        ALEX, f"/escalate {key} vendor Payment module throws 500 on 4.0.2.3", channel="agents"
    )

    assert answer.startswith("SR-1 escalated")
    vendor = (await desk.new_cards(VENDOR, 1, after=0))[0]
    assert "Payment module throws 500 on 4.0.2.3" in str(vendor)
    redrawn = (await desk.redrawn(ticket_card, 1))[0]
    assert "SR-1" in fallback(redrawn) and "OpenCart" in fallback(redrawn)
    assert "4.0.2.3" not in str(redrawn)  # the vendor's brief is not the customer's business
    assert len(desk.cards(LENA_CHAT)) == lena
    assert await desk.ticket(key, "status") == "waiting_for_vendor"


async def test_escalate_without_a_vendor_channel_says_how_to_bind_one(desk):
    key = await desk.open()
    await desk.say(DANIELLE, "/unsubscribe vendor", channel="vendor")

    answer = await desk.say(ALEX, f"/escalate {key} vendor Please look")

    assert "no channel receives vendor messages yet" in answer
    assert "/subscribe vendor" in answer


async def test_escalate_without_a_vendor_channel_does_not_tell_the_customer_it_was_passed_on(
    desk,
):
    key = await desk.open()
    await desk.say(DANIELLE, "/unsubscribe vendor", channel="vendor")

    answer = await desk.say(ALEX, f"/escalate {key} vendor Please look")

    # The messages are written with the change, before the answer: none of them says so.
    assert "the requester has not been told" in answer
    assert await desk.ticket(key, "status") == "waiting_for_vendor"
    assert (
        await desk.scalar(
            "SELECT count(*) FROM outbox WHERE template IN "
            "('customer/vendor_involved', 'customer/vendor_involved_news')"
        )
        == 0
    )
    # The vendor's role holder in esmbot.toml never chatted: the escalation fails, naming why,
    # and the desk hears whom it could not reach.
    failed = await desk.scalar(
        "SELECT status || ' ' || last_error || ' ' || address FROM outbox"
        " WHERE template = 'vendor/escalation'"
    )
    assert failed == "failed no_graph support@opencart-vendor.example"
    assert (
        await desk.scalar("SELECT count(*) FROM outbox WHERE template = 'agents/could_not_reach'")
        == 1
    )
    metrics = await (await desk.client.get("/metrics")).text()
    line = (
        'esmbot_messages_unaddressed_total{audience="customer",template="customer/vendor_involved"}'
        " 1.0"
    )
    assert line in metrics
    assert 'esmbot_people_unreached_total{reason="no_graph"} 1.0' in metrics
