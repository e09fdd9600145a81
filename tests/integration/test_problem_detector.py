"""The spike detector over real HTTP: six checkout tickets in forty minutes raise one card to
the agents and management; the card's buttons declare a problem or dismiss the group."""

from __future__ import annotations

from datetime import timedelta

from bot.app import SCHEDULER
from bot.demo.activities import installation_update
from bot.tickets.models import Ticket
from bot.tickets.system import Draft
from tests.conftest import ALEX, DANIELLE, KIM, LEARNER
from tests.integration.desk import (
    AGENTS,
    MANAGEMENT,
    T0,
    Desk,
    desk_fixture,  # noqa: F401 - the fixture
    fallback,
)

WORDS = [
    (LEARNER, "Checkout fails with an error"),
    (KIM, "Bezahlen geht nicht"),
    (LEARNER, "Cannot pay, error at the last step"),
    (KIM, "Zahlung schlägt beim Abschluss fehl"),
    (LEARNER, "The payment page shows error 500"),
    (KIM, "Kunden können nicht bezahlen"),
]


async def _history(desk: Desk, weeks: int = 8) -> None:
    """One checkout ticket in every second week at this hour, a printer one in the others."""
    async with desk.database.transaction() as session:
        for week in range(1, weeks + 1):
            module = "Checkout" if week % 2 else "Workplace"
            session.add(
                Ticket(
                    key=f"OLD-{week}",
                    summary="Older trouble",
                    module=module,
                    type="incident",
                    status="closed",
                    created_at=T0 - timedelta(weeks=week) + timedelta(minutes=10),
                )
            )


async def _spike(
    desk: Desk, words=WORDS, module: str = "Checkout", start=T0, gap: int = 7
) -> list[str]:
    """Six customers' tickets in forty minutes, in English and German; the clock at the last."""
    keys = []
    for minutes, (user, summary) in enumerate(words):
        desk.clock.now = start + timedelta(minutes=gap * minutes)
        applied = await desk.actions.open(
            Draft(summary=summary, module=module), reporter=await desk.person(user)
        )
        keys.append(applied.ticket_key)
    return keys


async def _detect(desk: Desk) -> None:
    await desk.client.server.app[SCHEDULER].detect()
    await desk.quiet()


def _alerts(desk: Desk, conversation: str) -> list[dict]:
    return [card for card in desk.cards(conversation) if "in 40 minutes" in fallback(card)]


async def test_six_checkout_tickets_in_forty_minutes_raise_one_alert_and_a_problem(desk):
    await desk.post(installation_update(KIM, desk.connector.url))
    await _history(desk)
    keys = await _spike(desk)

    await _detect(desk)

    [agents] = _alerts(desk, AGENTS)
    [management] = _alerts(desk, MANAGEMENT)
    text = fallback(agents)
    assert text.splitlines()[0] == "6 tickets about Checkout in 40 minutes"
    assert "(usual: 0.5)" in text  # four checkout tickets in eight past weeks at this hour
    assert all(key in str(agents) for key in keys)
    assert fallback(management) == text
    first_to_alert = await desk.scalar("SELECT first_ticket_at FROM problem_alerts")
    assert first_to_alert is not None

    # A second run finds nothing new: the tickets are counted in the alert.
    await _detect(desk)
    assert len(_alerts(desk, AGENTS)) == 1

    answer = await desk.press(ALEX, {"action": "declare_problem", "alert": 1}, card="alert-1")

    assert answer == (
        "PRB-1 declared from the alert; everyone affected hears from us when it is solved."
    )
    assert await desk.scalar("SELECT count(*) FROM problem_links") == 6
    assert await desk.scalar("SELECT status FROM problem_alerts") == "declared"
    assert await desk.scalar("SELECT summary FROM tickets WHERE key = 'PRB-1'") == (
        "Many tickets about Checkout"
    )
    again = await desk.press(ALEX, {"action": "not_related", "alert": 1}, card="alert-1")
    assert again == "Someone has decided on this alert already."

    # More checkout tickets while the problem is open raise nothing: it has a problem.
    await _spike(desk, start=T0 + timedelta(hours=2))
    await _detect(desk)
    assert len(_alerts(desk, AGENTS)) == 1


async def test_not_related_keeps_the_group_quiet_and_a_customer_cannot_press_it(desk):
    await desk.post(installation_update(KIM, desk.connector.url))
    await _spike(desk)
    await _detect(desk)

    refused = await desk.press(
        LEARNER, {"action": "not_related", "alert": 1}, channel=None, card="alert-1"
    )
    dismissed = await desk.press(DANIELLE, {"action": "not_related", "alert": 1}, card="alert-1")
    await _spike(desk, start=T0 + timedelta(hours=1))
    await _detect(desk)

    assert refused.startswith("Sorry, that is for the service desk")
    assert dismissed == "Marked as not related; this group stays quiet for a while."
    assert await desk.scalar("SELECT count(*) FROM problem_alerts") == 1
    assert len(_alerts(desk, AGENTS)) == 1


async def test_tickets_alike_in_words_across_modules_raise_one_alert(desk):
    await desk.post(installation_update(KIM, desk.connector.url))
    await _spike(desk, WORDS[:3], module="Checkout", gap=5)
    await _spike(desk, WORDS[3:], module="Payment", start=T0 + timedelta(minutes=16), gap=5)
    desk.clock.now = T0 + timedelta(minutes=38)
    printer = await desk.actions.open(
        Draft(summary="Printer out of toner", module="Payment"), reporter=await desk.person(KIM)
    )

    await _detect(desk)

    [card] = _alerts(desk, AGENTS)
    assert fallback(card).splitlines()[0] == "6 tickets about checkout in 40 minutes"
    assert printer.ticket_key not in str(card)


async def test_two_tickets_at_night_raise_nothing(desk):
    await desk.post(installation_update(KIM, desk.connector.url))
    await _spike(desk, WORDS[:2], start=T0 - timedelta(hours=6))

    await _detect(desk)

    assert not _alerts(desk, AGENTS)
    assert await desk.scalar("SELECT count(*) FROM problem_alerts") == 0
