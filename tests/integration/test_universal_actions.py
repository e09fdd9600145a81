"""One ticket card, right for each viewer: Universal Actions over real HTTP (adaptiveCard/action)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.demo.activities import TeamsUser, card_execute, group_chat_conversation_id
from bot.tickets.system import Draft
from tests.conftest import ALEX, DANIELLE, KIM, LEARNER
from tests.integration.desk import SAM, Desk, desk_fixture

__all__ = ["desk_fixture"]

CHAT = "admins"
CARD = "card-in-chat-1"


@pytest.fixture
async def tickets(desk: Desk) -> Desk:
    """Lena's SR-1 and Kim's SR-2; Alex, Kim and Danielle have written to esmbot."""
    for user, hello in ((ALEX, "hello"), (KIM, "hallo"), (DANIELLE, "hello")):
        await desk.say(user, hello)
    await desk.open("Checkout fails with an error", module="Checkout")
    await desk.actions.open(Draft(summary="Admin page is blank"), reporter=await desk.person(KIM))
    await desk.quiet()
    return desk


async def execute(
    desk: Desk, user: TeamsUser, verb: str, key: str = "SR-1", **inputs: Any
) -> dict[str, Any]:
    """The viewer's card Teams gets back (HTTP 200 always; the answer's own status inside)."""
    activity = card_execute(
        user,
        desk.connector.url,
        verb,
        {"action": verb, "ticket": key, **inputs},
        card=CARD,
        chat=CHAT,
    )
    response = await desk.client.post("/api/messages", json=activity)
    assert response.status == 200, await response.text()
    return dict(await response.json())


def card_of(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["statusCode"] == 200, answer
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    return dict(answer["value"])


def buttons(card: dict[str, Any]) -> list[str]:
    sets = [item for item in card["body"] if item["type"] == "ActionSet"]
    return [action["title"] for found in sets for action in found["actions"]]


def notice(card: dict[str, Any]) -> str:
    return str(card["body"][1]["text"]) if card["body"][1].get("weight") == "Bolder" else ""


async def test_each_viewer_refreshes_to_the_buttons_their_role_allows(tickets: Desk) -> None:
    desk = tickets
    agent = card_of(await execute(desk, ALEX, "refresh"))
    manager = card_of(await execute(desk, DANIELLE, "refresh"))
    reporter = card_of(await execute(desk, LEARNER, "refresh"))
    stranger = card_of(await execute(desk, KIM, "refresh"))

    assert buttons(agent) == ["Acknowledge", "Assign to me"]
    # Managers neither acknowledge nor own tickets (that is the agents' work), but they
    # escalate and set the priority, which they pick on the card.
    assert buttons(manager) == ["Set priority", "Escalate to the vendor"]
    assert any(item.get("id") == "priority" for item in manager["body"])
    assert buttons(reporter) == ["Add information"]
    assert buttons(stranger) == [] and "Checkout" not in str(stranger)
    assert "Das Ticket SR-1 gibt es" in str(stranger)
    # Universal Actions: Action.Execute (card 1.4 or later), each with an Action.Submit fallback
    # for clients without them, and a refresh for the people who may act, within Teams' 60.
    assert float(agent["version"]) >= 1.4
    for action in next(item for item in agent["body"] if item["type"] == "ActionSet")["actions"]:
        assert action["type"] == "Action.Execute"
        assert action["fallback"]["type"] == "Action.Submit"
        assert action["fallback"]["data"] == action["data"]
    refresh = agent["refresh"]
    assert refresh["action"] == {
        "type": "Action.Execute",
        "verb": "refresh",
        "data": {"action": "refresh", "ticket": "SR-1"},
    }
    assert {LEARNER.id, ALEX.id, DANIELLE.id} <= set(refresh["userIds"])
    assert KIM.id not in refresh["userIds"] and len(refresh["userIds"]) <= 60


async def test_a_press_changes_the_ticket_and_the_card_for_everyone_first_press_wins(
    tickets: Desk,
) -> None:
    desk = tickets
    pressed = card_of(await execute(desk, ALEX, "ack"))

    assert notice(pressed).startswith("SR-1 acknowledged and it is yours now.")
    assert await desk.ticket("SR-1", "status") == "acknowledged"
    assert buttons(pressed) == []  # acknowledged and his: nothing left to press
    # The card in the chat is redrawn in place for everyone, as its reporter would see it.
    redrawn = await desk.redrawn(CARD, 1)
    assert "We're on it" in str(redrawn[-1]) and "refresh" in redrawn[-1]

    # Sam pressed a moment later, on a card that still offered it: told, nothing changed.
    await desk.say(SAM, "hello")
    late = card_of(await execute(desk, SAM, "assign_me"))
    assert notice(late) == "SR-1 is already taken by Alex Agent."
    assert await desk.ticket("SR-1", "assignee_id") == (await desk.person(ALEX)).id


async def test_presses_from_people_without_the_role_change_nothing_and_are_told(
    tickets: Desk,
) -> None:
    desk = tickets
    forged = card_of(await execute(desk, LEARNER, "ack"))
    assert notice(forged).startswith("Sorry, that is for the service desk")
    german = card_of(await execute(desk, KIM, "escalate", "SR-2", reason="weil"))
    assert notice(german).startswith("Das ist leider dem Service Desk vorbehalten")
    assert await desk.ticket("SR-1", "status") == "new"
    assert await desk.ticket("SR-2", "status") == "new"
    # Kim adding information to Lena's ticket: as if it did not exist.
    other = card_of(await execute(desk, KIM, "answer", answer="mehr Details"))
    assert notice(other).startswith("Unter Ihren Tickets finde ich kein SR-1.")
    assert [event.kind for event in await desk.events("SR-1")] == ["created"]


async def test_the_reporter_adds_information_and_a_manager_sets_the_priority(
    tickets: Desk,
) -> None:
    desk = tickets
    added = card_of(await execute(desk, LEARNER, "answer", answer="It fails with Visa only"))
    assert notice(added).startswith("Thanks! I've added your message to SR-1")
    assert [event.kind for event in await desk.events("SR-1")][-1] == "commented"

    raised = card_of(await execute(desk, DANIELLE, "priority", priority="P2"))
    assert await desk.ticket("SR-1", "priority") == "P2"
    assert "P2" in notice(raised)
    unpicked = card_of(await execute(desk, DANIELLE, "priority", priority="P9"))
    assert notice(unpicked) == "Please pick a priority first, then press the button again."


async def test_a_card_opened_days_later_shows_the_ticket_as_it_is_now(tickets: Desk) -> None:
    desk = tickets
    assert (await desk.say(ALEX, "/ack SR-1")).startswith("SR-1 acknowledged")
    desk.clock.advance(days=3)
    now = card_of(await execute(desk, LEARNER, "refresh"))
    assert "We're on it" in str(now) and "Alex Agent" in str(now)


async def test_a_press_naming_no_ticket_or_no_known_one_is_answered_politely(tickets: Desk) -> None:
    desk = tickets
    activity = card_execute(LEARNER, desk.connector.url, "ack", {"action": "ack"}, chat=CHAT)
    response = await desk.client.post("/api/messages", json=activity)
    answer = await response.json()
    assert response.status == 200 and answer["statusCode"] == 400
    assert answer["type"] == "application/vnd.microsoft.error"
    missing = await execute(desk, ALEX, "refresh", "SR-404")
    assert missing["statusCode"] == 404 and "SR-404" in missing["value"]["message"]
    odd = card_of(await execute(desk, ALEX, "explode"))
    assert notice(odd).startswith("I don't know that button")
    assert group_chat_conversation_id(CHAT) not in {
        call.conversation_id for call in desk.connector.sent()
    }


async def test_clients_without_universal_actions_press_the_action_submit_fallback(
    tickets: Desk,
) -> None:
    desk = tickets
    card = card_of(await execute(desk, LEARNER, "refresh"))
    answer_button = next(item for item in card["body"] if item["type"] == "ActionSet")["actions"][0]
    fallback = answer_button["fallback"]["data"] | {"answer": "Only with Visa"}

    said = await desk.press(LEARNER, fallback, channel="general")

    assert said.startswith("Thanks! I've added your message to SR-1")
    assert [event.kind for event in await desk.events("SR-1")][-1] == "commented"
    agent = card_of(await execute(desk, ALEX, "refresh"))
    ack = next(item for item in agent["body"] if item["type"] == "ActionSet")["actions"][0]
    assert await desk.press(ALEX, ack["fallback"]["data"], channel="general") == (
        "SR-1 acknowledged and it is yours now. The requester hears that someone is on it."
    )
