"""A ticket from any message: Teams' message action over real HTTP, on both databases (story 15)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.config.organisation import RoleMembers
from bot.demo.activities import (
    TeamsUser,
    group_chat_conversation_id,
    message_action,
    message_payload,
)
from tests.conftest import ALEX, KIM, LEARNER
from tests.integration.desk import LENA_CHAT, SAM, Desk, build_desk, desk_fixture

__all__ = ["desk_fixture"]

CHAT = "admins"
GROUP = group_chat_conversation_id(CHAT)
JONAS = TeamsUser.named("Jonas Kunde", "jonas@esmos.example", locale="de-DE")
BLANK = "<div><p>The admin page is blank</p><p>since this morning, for all of us &amp; the shop</p></div>"


@pytest.fixture
async def keyed(connector, database, aiohttp_client, settings, organisation) -> Desk:
    """The desk where only Kim, a key user, may open tickets."""
    roles = {**organisation.roles, "key_users": RoleMembers(emails=frozenset({KIM.email}))}
    return await build_desk(
        connector, database, aiohttp_client, settings, replace(organisation, roles=roles)
    )


async def invoke(desk: Desk, activity: dict[str, Any]) -> tuple[int, Any]:
    response = await desk.client.post("/api/messages", json=activity)
    body = await response.text()
    return response.status, (await response.json() if body else None)


def dialog_card(answer: Any) -> dict[str, Any]:
    """The Adaptive Card of a fetchTask or submitAction answer that opens a dialog."""
    assert answer["task"]["type"] == "continue", answer
    card = answer["task"]["value"]["card"]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    return dict(card["content"])


def inputs(card: dict[str, Any]) -> dict[str, Any]:
    """What Teams sends back when the dialog's button is pressed: each input's value and the
    button's data."""
    sent = {item["id"]: item.get("value", "") for item in card["body"] if "id" in item}
    return sent | card["actions"][0]["data"]


def problem(card: dict[str, Any]) -> str:
    return " ".join(item["text"] for item in card["body"] if item.get("color") == "Attention")


async def open_form(desk: Desk, user: TeamsUser, author: TeamsUser, html: str = BLANK) -> Any:
    message = message_payload(author, html, conversation_id=GROUP)
    status, answer = await invoke(
        desk, message_action(user, desk.connector.url, message=message, chat=CHAT)
    )
    assert status == 200
    return answer


async def send_form(
    desk: Desk, user: TeamsUser, author: TeamsUser, answers: dict[str, Any]
) -> tuple[int, Any]:
    message = message_payload(author, BLANK, conversation_id=GROUP)
    activity = message_action(user, desk.connector.url, message=message, submit=answers, chat=CHAT)
    return await invoke(desk, activity)


async def test_kim_makes_a_ticket_of_lenas_message_and_its_card_appears_in_the_chat(
    keyed: Desk,
) -> None:
    desk = keyed
    await desk.say(KIM, "hallo")  # Kim has the app; Lena has it too (the desk's own setup)
    lena_cards = len(desk.cards(LENA_CHAT))

    card = dialog_card(await open_form(desk, KIM, LEARNER))

    # In Kim's language, filled in from the message: its first line, all of it, its area.
    answers = inputs(card)
    assert card["body"][0]["items"][0]["text"] == "Ticket aus dieser Nachricht erstellen"
    assert answers["summary"] == "The admin page is blank"
    assert answers["description"] == (
        "The admin page is blank\nsince this morning, for all of us & the shop"
    )
    assert answers["module"] == "Admin" and answers["type"] == "incident"
    # Lena wrote it, so it is hers; Kim may make it hers, or a colleague's.
    assert answers["reporter"] == "author" and answers["for_email"] == ""
    reporter = next(item for item in card["body"] if item.get("id") == "reporter")
    assert [choice["title"] for choice in reporter["choices"]] == ["Lena Learner", "Meins"]

    status, answer = await send_form(desk, KIM, LEARNER, answers | {"priority": "P2"})

    assert status == 200 and answer is None  # the dialog closes
    assert await desk.ticket("SR-1", "reporter_id") == (await desk.person(LEARNER)).id
    assert await desk.ticket("SR-1", "opened_by_id") == (await desk.person(KIM)).id
    assert await desk.ticket("SR-1", "module") == "Admin"
    assert await desk.ticket("SR-1", "priority") == "P2"
    assert "for all of us & the shop" in await desk.ticket("SR-1", "description")
    # The ticket's card in the group chat, as an answer to Kim's action, in her words.
    posted = [call for call in desk.replies(GROUP) if call.body.get("attachments")]
    assert len(posted) == 1
    shown = posted[0].body["attachments"][0]["content"]
    header = [item["text"] for item in shown["body"][0]["items"]]
    assert header == ["SR-1", "Service-Desk-Ticket", "The admin page is blank"]
    # What its reporter would see: everyone in the chat may read it.
    assert "Status: Eingegangen" in str(shown) and "Administration" in str(shown)
    assert "P2" not in str(shown) and "Lena" not in str(shown)
    # Each viewer may refresh it to their own version: Lena, and the desk (Universal Actions).
    assert (await desk.person(LEARNER)).teams_user_id in shown["refresh"]["userIds"]
    assert shown["refresh"]["action"]["verb"] == "refresh"
    # Lena hears of her ticket in her 1:1 chat, from the outbox, as from the chat's tickets.
    told = await desk.new_cards(LENA_CHAT, 1, after=lena_cards)
    assert "SR-1" in str(told[0])


async def test_the_reader_may_make_it_their_own_and_a_key_user_may_name_a_colleague(
    keyed: Desk,
) -> None:
    desk = keyed
    await desk.say(ALEX, "hello")  # Alex is known to esmbot; Sam is only in the roster
    card = dialog_card(await open_form(desk, KIM, LEARNER))

    status, answer = await send_form(desk, KIM, LEARNER, inputs(card) | {"reporter": "me"})
    assert status == 200 and answer is None
    assert await desk.ticket("SR-1", "reporter_id") == (await desk.person(KIM)).id

    status, answer = await send_form(desk, KIM, LEARNER, inputs(card) | {"for_email": ALEX.email})
    assert status == 200 and answer is None
    assert await desk.ticket("SR-2", "reporter_id") == (await desk.person(ALEX)).id

    # A colleague esmbot has never met cannot be named: the dialog says so, nothing is made.
    status, answer = await send_form(
        desk, KIM, LEARNER, inputs(card) | {"for_email": "nobody@esmos.example"}
    )
    assert "nobody@esmos.example kenne ich noch nicht" in problem(dialog_card(answer))
    assert await desk.scalar("SELECT count(*) FROM tickets") == 2


async def test_an_author_esmbot_has_not_met_is_found_in_the_roster_by_entra_id(
    desk: Desk,
) -> None:
    card = dialog_card(await open_form(desk, LEARNER, SAM, "<p>Shipping labels do not print</p>"))
    answers = inputs(card)
    assert answers["module"] == "Shipping" and answers["reporter"] == "author"

    status, _ = await send_form(desk, LEARNER, SAM, answers)

    assert status == 200
    sam = await desk.person(SAM)
    assert sam.teams_user_id == SAM.id and sam.name == "Sam Agent"
    assert await desk.ticket("SR-1", "reporter_id") == sam.id


async def test_where_only_key_users_open_tickets_others_are_told_whom_to_ask(keyed: Desk) -> None:
    desk = keyed
    answer = await open_form(desk, LEARNER, KIM)
    assert answer["task"]["type"] == "message"
    assert "Only key users can open tickets" in answer["task"]["value"]
    assert KIM.email in answer["task"]["value"]

    german = await open_form(desk, JONAS, LEARNER)
    assert "Tickets eröffnen hier nur Key User" in german["task"]["value"]

    # A submit without the dialog (forged, or a dialog left open since) is refused as well.
    answers = {"summary": "The admin page is blank", "type": "incident", "action": "ticket_form"}
    status, forged = await send_form(desk, LEARNER, LEARNER, answers)
    assert status == 200 and "Only key users" in forged["task"]["value"]
    assert await desk.scalar("SELECT count(*) FROM tickets") == 0


async def test_a_form_that_is_not_right_comes_back_saying_what_is_wrong(desk: Desk) -> None:
    card = dialog_card(await open_form(desk, LEARNER, LEARNER))
    # She wrote it herself: there is no one else to choose, and she may not name a colleague.
    assert "reporter" not in inputs(card) and "for_email" not in inputs(card)

    status, answer = await send_form(
        desk,
        LEARNER,
        LEARNER,
        inputs(card) | {"summary": "?!", "type": "<b>evil</b>", "for_email": ALEX.email},
    )

    assert status == 200
    again = dialog_card(answer)
    said = problem(again)
    assert said.startswith("Something in the form was not right")
    assert "Summary" in said and "Type" in said and "colleague" in said
    assert inputs(again)["summary"] == "?!"  # what she typed is kept, to be corrected
    assert await desk.scalar("SELECT count(*) FROM tickets") == 0

    german = await open_form(desk, JONAS, LEARNER)
    status, answer = await send_form(
        desk, JONAS, LEARNER, inputs(dialog_card(german)) | {"priority": "P9"}
    )
    assert problem(dialog_card(answer)).startswith("Im Formular stimmte etwas nicht: Priorität")


async def test_where_esmbot_may_not_post_the_card_goes_into_the_compose_box(desk: Desk) -> None:
    card = dialog_card(await open_form(desk, LEARNER, LEARNER))
    desk.connector.fail(
        403, operation="reply", conversation_id=GROUP, code="BotNotInConversationRoster"
    )

    status, answer = await send_form(desk, LEARNER, LEARNER, inputs(card))

    assert status == 200
    result = answer["composeExtension"]
    assert result["type"] == "result"
    inserted = result["attachments"][0]
    assert inserted["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert inserted["content"]["body"][0]["items"][0]["text"] == "SR-1"


async def test_an_action_on_no_message_or_an_unknown_command_is_answered_politely(
    desk: Desk,
) -> None:
    status, answer = await invoke(desk, message_action(LEARNER, desk.connector.url, message=None))
    assert status == 200 and "works on a message" in answer["task"]["value"]
    message = message_payload(LEARNER, BLANK, conversation_id=GROUP)
    activity = message_action(
        JONAS, desk.connector.url, message=message, chat=CHAT, command_id="somethingElse"
    )
    status, answer = await invoke(desk, activity)
    assert status == 200 and "arbeitet auf einer Nachricht" in answer["task"]["value"]
    assert await desk.scalar("SELECT count(*) FROM tickets") == 0
