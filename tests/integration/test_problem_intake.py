"""Intake that knows: a customer whose words match an open problem is offered to be added as
affected instead of opening a ticket, in their language; the choice is kept and counted."""

from __future__ import annotations

import pytest

from bot.demo.activities import installation_update, personal_conversation_id
from tests.conftest import ALEX, KIM, LEARNER
from tests.integration.chat import no_im_back, press, say
from tests.integration.desk import Desk, desk_fixture, fallback

__all__ = ["desk_fixture", "no_im_back"]
pytestmark = pytest.mark.usefixtures("no_im_back")
KIM_CHAT = personal_conversation_id(KIM)


async def _problem(desk: Desk) -> None:
    await desk.open("Checkout fails with an error", module="Checkout")
    await desk.say(ALEX, "/problem new The checkout fails for everyone SR-1", channel="agents")
    await desk.post(installation_update(KIM, desk.connector.url))
    await desk.quiet()


async def test_a_customer_is_told_of_the_known_problem_and_added_as_affected(desk: Desk):
    await _problem(desk)
    tickets = await desk.scalar("SELECT count(*) FROM tickets")

    asked = await say(desk, KIM, "Zahlung schlägt beim Abschluss fehl")

    assert "Das ist uns schon bekannt: The checkout fails for everyone, seit" in asked.text
    assert "PRB-1 verfolgt es" in asked.text
    assert asked.buttons() == ["Als betroffen eintragen", "Eigenes Ticket eröffnen"]
    # Nothing of Lena's ticket is shown: not its key, her name or her words.
    assert "SR-1" not in asked.text and "Lena" not in asked.text
    done = await press(desk, KIM, asked.pick("Als betroffen eintragen"), card=asked.card_id)

    assert done.text == (
        "Erledigt: Sie stehen auf der Liste für PRB-1. Wir sagen Ihnen hier Bescheid, "
        "sobald es gelöst ist."
    )
    assert await desk.scalar("SELECT count(*) FROM tickets") == tickets
    assert await desk.scalar("SELECT source FROM problem_links WHERE person_id IS NOT NULL") == (
        "intake"
    )
    assert await desk.scalar("SELECT count(*) FROM audit_log WHERE action = 'problem.intake'") == 1

    # When the problem is solved, Kim hears it once, with Lena.
    await desk.say(ALEX, "/resolve PRB-1 Restarted the payment gateway", channel="agents")
    await desk.quiet()
    solved = [fallback(c) for c in desk.cards(KIM_CHAT) if "gelöst" in fallback(c)]
    assert len(solved) == 1 and "Das Problem, das Sie betroffen hat, ist gelöst" in solved[0]


async def test_a_customer_may_open_their_own_ticket_all_the_same(desk: Desk):
    await _problem(desk)

    asked = await say(desk, LEARNER, "cannot pay, error at the last step")
    assert "We already know about this: The checkout fails for everyone, since" in asked.text
    asked = await press(desk, LEARNER, asked.pick("Open my own ticket"), card=asked.card_id)

    assert "What kind of request" in asked.text
    assert await desk.scalar("SELECT count(*) FROM problem_links WHERE person_id IS NOT NULL") == 0
    assert await desk.scalar("SELECT count(*) FROM audit_log WHERE action = 'problem.intake'") == 1


async def test_words_unlike_any_open_problem_go_straight_on(desk: Desk):
    await _problem(desk)

    asked = await say(desk, LEARNER, "The printer on floor 2 is out of toner")

    assert "What kind of request" in asked.text
