"""/reply, /note, /ask and /help over /api/messages: who hears what, and nobody else."""

from __future__ import annotations

from tests.conftest import ALEX, DANIELLE, LEARNER
from tests.integration.desk import (
    AGENTS,
    LENA_CHAT,
    desk_fixture,  # noqa: F401 - the fixture
    fallback,
)


async def test_reply_reaches_the_customer_with_the_agents_words(desk):
    key = await desk.open()
    lena, agents = len(desk.cards(LENA_CHAT)), len(desk.cards(AGENTS))

    answer = await desk.say(
        ALEX, f"/reply {key} We're on it, expect news by noon", channel="agents"
    )

    assert answer == "Sent to the requester of SR-1."
    card = (await desk.new_cards(LENA_CHAT, 1, after=lena))[0]
    assert "We're on it, expect news by noon" in str(card)
    assert "Alex Agent" in str(card)
    await desk.quiet()
    assert len(desk.cards(AGENTS)) == agents


async def test_note_reaches_the_agents_channel_only(desk):
    key = await desk.open()
    lena, agents = len(desk.cards(LENA_CHAT)), len(desk.cards(AGENTS))

    answer = await desk.say(ALEX, f'/note {key} "Customer runs the 2019 plugin"')

    assert answer == "Note added to SR-1. Only the desk sees it."
    card = (await desk.new_cards(AGENTS, 1, after=agents))[0]
    assert "Customer runs the 2019 plugin" in str(card)
    await desk.quiet()
    assert len(desk.cards(LENA_CHAT)) == lena
    assert all("2019 plugin" not in str(call.body) for call in desk.connector.sent(LENA_CHAT))


async def test_a_manager_may_note_but_a_customer_may_not(desk):
    key = await desk.open()

    assert (await desk.say(DANIELLE, f"/note {key} Watch this one")).startswith("Note added")
    refused = await desk.say(LEARNER, f"/note {key} I am an agent now")
    assert refused.startswith("Sorry, that is for the service desk")
    assert await desk.scalar("SELECT count(*) FROM ticket_events WHERE kind = 'commented'") == 1


async def test_ask_sends_one_question_card_and_pauses_the_clock(desk):
    key = await desk.open()
    ticket_card = await desk.ticket_card(key)
    lena = len(desk.cards(LENA_CHAT))
    await desk.say(ALEX, f"/ack {key}")
    await desk.redrawn(ticket_card, 1)  # the ack redraws her ticket card
    await desk.new_cards(LENA_CHAT, 1, after=lena)  # and posts the short news beside it
    lena += 1
    desk.clock.advance(minutes=30)

    answer = await desk.say(
        ALEX, f"/ask {key} Which payment provider were you using?", channel="agents"
    )

    assert answer.startswith("Asked. SR-1 now waits for the requester")
    card = (await desk.new_cards(LENA_CHAT, 1, after=lena))[0]
    assert "Which payment provider were you using?" in str(card)
    assert "Alex Agent asks:" in str(card)
    assert {a.get("data", {}).get("action") for a in card["actions"]} == {"answer"}
    await desk.quiet()
    assert len(desk.cards(LENA_CHAT)) == lena + 1  # the question, not a reply card as well
    assert await desk.ticket(key, "status") == "waiting_for_customer"
    assert await desk.ticket(key, "paused_since") == desk.clock.now
    asked = (await desk.events(key))[-1]
    assert (asked.kind, asked.payload["reason"]) == (
        "status_changed",
        "Which payment provider were you using?",
    )


async def test_a_second_question_while_waiting_goes_out_as_a_message(desk):
    key = await desk.open()
    await desk.say(ALEX, f"/ask {key} Which browser?")
    # Her welcome card, her ticket card and the question.
    lena = len(await desk.new_cards(LENA_CHAT, 3, after=0))

    answer = await desk.say(ALEX, f"/ask {key} And which version?")

    assert answer == "Asked. SR-1 was already waiting for the requester."
    assert "And which version?" in str((await desk.new_cards(LENA_CHAT, 1, after=lena))[0])


async def test_ask_on_a_resolved_ticket_is_refused_by_the_lifecycle(desk):
    key = await desk.open()
    await desk.say(ALEX, f"/resolve {key} Done")

    answer = await desk.say(ALEX, f"/ask {key} Still there?")

    assert answer.startswith("SR-1 cannot go from resolved to waiting_for_customer")


async def test_help_lists_each_persons_commands_with_their_usage(desk):
    agent = await desk.say(ALEX, "/help", channel="agents")
    customer = await desk.say(LEARNER, "/help")
    manager = await desk.say(DANIELLE, "/help")

    for usage in (
        "/ack key",
        "/assign key @person|me",
        "/reply key text [text ...]",
        "/queue [{mine,unassigned,breaching}]",
        "/sla key",
        "/status key status",
    ):
        assert usage in agent
    assert "/report" not in agent and "/subscribe" not in agent
    assert "/resolve" not in customer and "/ack" not in customer
    assert "- /help [command]" in customer
    assert "/report [today|week|month|FROM..TO]" in manager and "/resolve" not in manager
    assert "Example: /escalate SR-1 vendor" in await desk.say(ALEX, "/help escalate")


async def test_an_apostrophe_is_just_a_letter(desk):
    key = await desk.open()
    lena = len(desk.cards(LENA_CHAT))

    await desk.say(ALEX, f"/reply {key} It's fixed, we've tested it")

    assert "It's fixed, we've tested it" in fallback(
        (await desk.new_cards(LENA_CHAT, 1, after=lena))[0]
    )
