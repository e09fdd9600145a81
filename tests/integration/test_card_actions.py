"""Card buttons over /api/messages: same roles as the commands, one winner, the card redrawn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.app import SCHEDULER
from bot.directory.models import Person
from bot.events.jira_client import JiraClient
from bot.events.jira_system import JiraSystem
from bot.tickets.actions import AlreadyTaken, TicketActions
from bot.tickets.due_models import DueAction
from bot.tickets.service import ticket_by_key
from bot.tickets.system import Draft
from tests.conftest import ALEX, LEARNER
from tests.doubles.jira import JiraDouble
from tests.integration.desk import (
    AGENTS,
    LENA_CHAT,
    SAM,
    desk_fixture,  # noqa: F401 - the fixture
    fallback,
)


def buttons(card: dict) -> set[str]:
    return {action["data"]["action"] for action in card.get("actions", []) if "data" in action}


async def test_assign_to_me_takes_the_ticket_and_redraws_the_card(desk):
    key = await desk.open()

    answer = await desk.press(ALEX, {"action": "assign_me", "ticket": key})

    assert answer == "SR-1 is yours now."
    card = desk.updates()[-1]
    assert "Alex Agent" in str(card) and "SR-1" in fallback(card)
    assert buttons(card) == {"ack"}  # nobody can take it any more
    assert await desk.ticket(key, "assignee_id") == (await desk.person(ALEX)).id
    update = [call for call in desk.connector.calls if call.operation == "update"][-1]
    assert update.conversation_id == AGENTS


async def test_two_agents_pressing_assign_to_me_at_once_get_one_owner(desk):
    await desk.say(SAM, "/help")  # both agents have met the bot before the race
    await desk.say(ALEX, "/help")
    for round_ in range(3):
        key = await desk.open(f"Race {round_}")
        press = {"action": "assign_me", "ticket": key}

        answers = await asyncio.gather(desk.press(ALEX, press), desk.press(SAM, press))

        winner = ALEX if answers[0] == f"{key} is yours now." else SAM
        loser = 1 if winner is ALEX else 0
        assert f"{key} is yours now." in answers
        assert answers[loser] == f"{key} is already taken by {winner.name}."
        assert await desk.ticket(key, "assignee_id") == (await desk.person(winner)).id
        assigned = [event for event in await desk.events(key) if event.kind == "assigned"]
        assert len(assigned) == 1
        assert assigned[0].actor_id == (await desk.person(winner)).id
        # Both presses redraw the card, and both drawings name the winner.
        assert all(winner.name in str(card) for card in desk.updates()[-2:])


async def test_two_agents_pressing_acknowledge_at_once_acknowledge_once(desk):
    await desk.say(SAM, "/help")
    key = await desk.open()
    lena = len(desk.cards(LENA_CHAT))
    ticket_card = await desk.ticket_card(key)
    press = {"action": "ack", "ticket": key}

    answers = sorted(await asyncio.gather(desk.press(ALEX, press), desk.press(SAM, press)))

    won = [answer for answer in answers if "acknowledged and it is yours now" in answer]
    assert len(won) == 1
    lost = next(answer for answer in answers if answer not in won)
    assert lost.startswith("SR-1 was already acknowledged;") and lost.endswith(" has it.")
    moves = [event for event in await desk.events(key) if event.kind == "status_changed"]
    assert len(moves) == 1
    told = await desk.redrawn(ticket_card, 1)
    await desk.new_cards(LENA_CHAT, 1, after=lena)  # the short news beside it
    await desk.quiet()
    assert len(desk.updates(ticket_card)) == 1 and len(desk.cards(LENA_CHAT)) == lena + 1
    assert "We're working on it" in fallback(told[0])


async def test_acknowledge_in_the_1to1_chat_redraws_the_card_there(desk):
    key = await desk.open()

    answer = await desk.press(ALEX, {"action": "ack", "ticket": key}, channel=None, card="c-9")

    assert answer.startswith("SR-1 acknowledged")
    # The customer's card is redrawn too, by the dispatcher, at a moment of its own.
    alex = f"a:personal-{ALEX.aad_object_id}"
    updates = [call for call in desk.connector.calls if call.operation == "update"]
    assert [call.activity_id for call in updates if call.conversation_id == alex] == ["c-9"]
    assert await desk.ticket(key, "status") == "acknowledged"


async def nudge(desk) -> dict:
    """Lets time run to the first nudge of the ticket's first response; the card it posted."""
    async with desk.database.transaction() as session:
        first = await session.scalar(
            select(func.min(DueAction.due_at)).where(
                DueAction.kind == "nudge", DueAction.sla == "first_response"
            )
        )
    before = len(desk.cards(AGENTS))
    desk.clock.now = first
    await desk.client.app[SCHEDULER].sweep()
    desk.wake()
    return (await desk.new_cards(AGENTS, 1, after=before))[0]


async def test_pressing_a_button_on_a_nudge_redraws_the_nudge_up_to_date(desk):
    key = await desk.open()
    card = await nudge(desk)
    assert fallback(card).startswith(f"{key}: A deadline is getting close")
    ack = next(action["data"] for action in card["actions"] if action["data"]["action"] == "ack")

    answer = await desk.press(ALEX, ack)

    assert answer.startswith(f"{key} acknowledged and it is yours now")
    redrawn = desk.updates()[-1]
    # Still the nudge, as it was sent (50 % of the first-response time), not the new-ticket card.
    assert fallback(redrawn).startswith(f"{key}: A deadline is getting close")
    assert "New ticket" not in str(redrawn)
    assert "50 % of the time" in fallback(redrawn)
    # Brought up to date: Alex owns it, and there is nothing left to press.
    assert "Alex Agent" in str(redrawn) and "Acknowledged" in str(redrawn)
    assert buttons(redrawn) == set()


async def test_assign_to_me_on_a_nudge_keeps_its_acknowledge(desk):
    key = await desk.open()
    card = await nudge(desk)
    take = next(
        action["data"] for action in card["actions"] if action["data"]["action"] == "assign_me"
    )

    assert await desk.press(ALEX, take) == f"{key} is yours now."

    redrawn = desk.updates()[-1]
    assert fallback(redrawn).startswith(f"{key}: A deadline is getting close")
    assert buttons(redrawn) == {"ack"}


@pytest.mark.parametrize(
    ("named", "drawn"),
    [
        ({}, "New ticket in the queue"),  # cards posted before buttons named their card
        ({"card": "customer/survey"}, "New ticket in the queue"),
        ({"card": "../../../etc/passwd"}, "New ticket in the queue"),
        ({"card": ["agents/sla_nudge"]}, "New ticket in the queue"),
        # A nudge that was never sent, or about no deadline there is: nothing to draw.
        ({"card": "agents/sla_nudge", "sla": "first_response"}, None),
        ({"card": "agents/sla_nudge", "sla": {"$ne": ""}}, None),
        # Cards quoting someone's words once are left as they are.
        ({"card": "agents/reopened"}, None),
        ({"card": "agents/customer_replied"}, None),
    ],
)
async def test_the_card_a_press_names_is_drawn_only_from_a_fixed_list(desk, named, drawn):
    key = await desk.open()

    answer = await desk.press(ALEX, {"action": "assign_me", "ticket": key, **named})

    assert answer == f"{key} is yours now."
    if drawn is None:
        assert desk.updates() == []
    else:
        assert fallback(desk.updates()[-1]).startswith(f"{key}: {drawn}")


async def test_a_taken_ticket_says_who_has_it(desk):
    key = await desk.open()
    await desk.press(ALEX, {"action": "assign_me", "ticket": key})
    await desk.say(SAM, "/help")

    answer = await desk.press(SAM, {"action": "assign_me", "ticket": key})

    assert answer == "SR-1 is already taken by Alex Agent."
    assert (
        await desk.press(ALEX, {"action": "assign_me", "ticket": key}) == "SR-1 is already yours."
    )
    assert len([e for e in await desk.events(key) if e.kind == "assigned"]) == 1


async def test_a_customer_pressing_an_agents_button_changes_nothing(desk):
    key = await desk.open()
    events = len(await desk.events(key))

    answer = await desk.press(LEARNER, {"action": "assign_me", "ticket": key}, channel=None)

    assert answer.startswith("Sorry, that is for the service desk")
    assert await desk.ticket(key, "assignee_id") is None
    assert len(await desk.events(key)) == events
    assert desk.updates() == []


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"action": "delete_everything", "ticket": "SR-1"}, "I don't know that button"),
        ({"action": "ack"}, "doesn't say which ticket"),
        (
            {"action": "assign_me", "ticket": "'; DROP TABLE tickets; --"},
            "doesn't say which ticket",
        ),
        ({"action": "ack", "ticket": "SR-99"}, "I can't find a ticket SR-99."),
        ({"ticket": "SR-1"}, "I don't know that button"),
        (["ack", "SR-1"], "I don't know that button"),
        ("ack SR-1", "I don't know that button"),
    ],
)
async def test_forged_or_broken_button_data_gets_an_answer_and_changes_nothing(desk, value, says):
    key = await desk.open()
    events = len(await desk.events(key))

    answer = await desk.press(ALEX, value)

    assert says in answer
    assert len(await desk.events(key)) == events
    assert await desk.ticket(key, "status") == "new"
    assert desk.updates() == []


@pytest.mark.parametrize(
    ("verb", "says"),
    [
        ("solved", "I don't know that button"),
        ("csat", "I don't know that button"),
        # The shared ticket card's customer buttons (their Action.Submit fallback) are answered
        # in a channel too, checked as on the customer's own cards: here there is nothing to do.
        ("still_broken", "isn't marked as solved at the moment"),
        ("answer", "Please type your answer in the box"),
    ],
)
async def test_a_customers_button_pressed_in_a_channel_changes_nothing(desk, verb, says):
    # The customer's own cards live in their 1:1 chat; in a channel only the shared ticket
    # card's buttons are answered.
    key = await desk.open()
    events = len(await desk.events(key))

    answer = await desk.press(LEARNER, {"action": verb, "ticket": key, "score": 4})

    assert says in answer
    assert await desk.ticket(key, "status") == "new"
    assert len(await desk.events(key)) == events


# The same race with Jira as the system of record: Jira must end up naming the same winner.

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
async def jira() -> AsyncIterator[JiraDouble]:
    double = JiraDouble()
    await double.start()
    double.add_user("acc-lena", "Lena Learner", email="lena.learner@esmos.example")
    double.add_user("acc-alex", "Alex Agent", email="alex@esmos.example")
    double.add_user("acc-sam", "Sam Agent", email="sam@esmos.example")
    yield double
    await double.close()


async def test_with_jira_the_loser_of_the_race_gives_the_ticket_back_there(
    jira, database, organisation
):
    async def no_wait(_seconds: float) -> None:
        return None

    client = JiraClient(jira.url, jira.email, jira.api_token, sleep=no_wait)
    actions = TicketActions(
        database=database,
        system=JiraSystem(client, project_key="SR", mapping=organisation.jira),
        organisation=organisation,
        clock=lambda: NOW,
    )
    async with database.transaction() as session:
        lena = Person(name="Lena Learner", email=LEARNER.email, jira_account_id="acc-lena")
        alex = Person(name="Alex Agent", email=ALEX.email, jira_account_id="acc-alex")
        sam = Person(name="Sam Agent", email=SAM.email, jira_account_id="acc-sam")
        session.add_all([lena, alex, sam])
    try:
        key = (await actions.open(Draft(summary="Race"), reporter=lena)).ticket_key
        # The first write to Jira is slow: the other press overtakes it there and here.
        jira.stall(0.3, operation="assign")

        outcomes = await asyncio.gather(
            actions.assign(key, alex, actor=alex, only_if_unassigned=True),
            actions.assign(key, sam, actor=sam, only_if_unassigned=True),
            return_exceptions=True,
        )
    finally:
        await client.close()

    lost = [outcome for outcome in outcomes if isinstance(outcome, AlreadyTaken)]
    assert len(lost) == 1 and lost[0].holder is not None
    winner = lost[0].holder
    assert (winner.name, str(lost[0])) == ("Sam Agent", f"{key} is already taken by Sam Agent.")
    # Sam's write, Alex's late one, and Alex's giving it back to Sam.
    assert [call.body.get("accountId") for call in jira.calls_to("assign")] == [
        "acc-sam",
        "acc-alex",
        "acc-sam",
    ]
    assert jira.issues[key]["assignee"] == "acc-sam"
    async with database.transaction() as session:
        assert (await ticket_by_key(session, key=key)).assignee_id == sam.id
