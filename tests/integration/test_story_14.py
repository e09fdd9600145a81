"""Story 14, end to end over real HTTP in English and German: six customers' checkout tickets in
forty minutes, the alert, the problem declared, a seventh customer added at intake, the problem
solved, and all seven told once, none of them of another's ticket, name or words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import SCHEDULER
from bot.demo.activities import TeamsUser, installation_update, personal_conversation_id
from bot.tickets.system import Draft
from tests.conftest import ALEX, KIM, LEARNER
from tests.integration.chat import no_im_back, press, say
from tests.integration.desk import AGENTS, MANAGEMENT, T0, Desk, desk_fixture, fallback

__all__ = ["desk_fixture", "no_im_back"]
pytestmark = pytest.mark.usefixtures("no_im_back")

OMAR = TeamsUser.named("Omar Shop", "omar@esmos.example")
PIA = TeamsUser.named("Pia Laden", "pia@esmos.example", locale="de-DE")
RON = TeamsUser.named("Ron Store", "ron@esmos.example")
UTE = TeamsUser.named("Ute Markt", "ute@esmos.example", locale="de-DE")
SEVENTH = TeamsUser.named("Vera Late", "vera@esmos.example")
SIX = [
    (LEARNER, "Checkout fails with an error"),
    (KIM, "Bezahlen geht nicht"),
    (OMAR, "Cannot pay, error at the last step"),
    (PIA, "Zahlung schlägt beim Abschluss fehl"),
    (RON, "The payment page shows error 500"),
    (UTE, "Kunden können nicht bezahlen"),
]
GERMAN = {KIM, PIA, UTE}


async def test_the_checkout_breaks_for_everyone(desk: Desk) -> None:
    for user in [user for user, _ in SIX[1:]] + [SEVENTH]:
        if user is not KIM:  # the roster knows Kim already
            desk.connector.add_member(
                user.id, name=user.name, email=user.email, aad_object_id=user.aad_object_id
            )
        await desk.post(installation_update(user, desk.connector.url))
    keys = []
    for minutes, (user, words) in enumerate(SIX):
        desk.clock.now = T0 + timedelta(minutes=7 * minutes)
        applied = await desk.actions.open(
            Draft(summary=words, module="Checkout"), reporter=await desk.person(user)
        )
        keys.append(applied.ticket_key)

    # The leader's detector run: one card to the agents and to Danielle.
    await desk.client.server.app[SCHEDULER].detect()
    await desk.quiet()
    [alert] = [c for c in desk.cards(AGENTS) if "in 40 minutes" in fallback(c)]
    assert fallback(alert).startswith("6 tickets about Checkout in 40 minutes")
    assert [c for c in desk.cards(MANAGEMENT) if "in 40 minutes" in fallback(c)]

    # Alex declares the problem from the card.
    declared = await desk.press(ALEX, {"action": "declare_problem", "alert": 1}, card="a-1")
    assert declared.startswith("PRB-1 declared from the alert")

    # The seventh customer is told at intake that it is known, and is added as affected.
    desk.clock.now += timedelta(minutes=20)
    asked = await say(desk, SEVENTH, "I cannot pay for my order")
    assert "We already know about this: Many tickets about Checkout" in asked.text
    done = await press(desk, SEVENTH, asked.pick("Add me as affected"), card=asked.card_id)
    assert done.text.startswith("Done: you're on the list for PRB-1.")

    # Solved: all seven hear it once, each in their language.
    await desk.say(ALEX, "/resolve PRB-1 The payment gateway is back", channel="agents")
    await desk.quiet()
    everyone = [user for user, _ in SIX] + [SEVENTH]
    for user in everyone:
        chat = personal_conversation_id(user)
        said = "ist gelöst" if user in GERMAN else "is solved"
        told = [fallback(c) for c in desk.cards(chat) if said in fallback(c)]
        assert len(told) == 1, (user.name, told)
        others = [other for other in everyone if other != user]
        assert not any(other.name in told[0] for other in others)
        assert not any(key in told[0] for key in keys)
    assert (
        await desk.scalar(
            "SELECT count(*) FROM outbox WHERE template = 'customer/problem_resolved'"
        )
        == 7
    )
