"""Story 14's last line across replicas: the problem's solution, delivered by two replicas on
one database, replayed to both and with one of them restarted, reaches each person once."""

from __future__ import annotations

import dataclasses

from bot.app import create_app
from bot.demo.activities import installation_update, personal_conversation_id
from bot.tickets.system import Draft
from tests.conftest import ALEX, KIM
from tests.integration.desk import FAST, LENA_CHAT, Desk, build_desk, fallback

TOKEN = "problem-replicas-token"
KIM_CHAT = personal_conversation_id(KIM)
SOLVED = {
    "id": "monitoring-42",
    "type": "resolved",
    "occurred_at": "2026-11-23T10:00:00+01:00",
    "ticket": {"key": "PRB-1", "resolution": "The payment gateway is back"},
}


def _solved(desk: Desk, chat: str) -> list[str]:
    return [fallback(card) for card in desk.cards(chat) if "is solved" in fallback(card)]


def _geloest(desk: Desk, chat: str) -> list[str]:
    return [fallback(card) for card in desk.cards(chat) if "ist gelöst" in fallback(card)]


async def test_two_replicas_a_replay_and_a_restart_tell_each_person_once(
    connector, database, aiohttp_client, settings, organisation
):
    settings = dataclasses.replace(settings, api_token=TOKEN, replica_name="replica-a")
    desk = await build_desk(connector, database, aiohttp_client, settings, organisation)
    await desk.post(installation_update(KIM, connector.url))
    keys = [await desk.open("Checkout fails with an error", module="Checkout")]
    keys.append(await desk.open("Cannot pay, error at the last step", module="Checkout"))
    kims = await desk.actions.open(
        Draft(summary="Bezahlen geht nicht", module="Checkout"), reporter=await desk.person(KIM)
    )
    keys.append(kims.ticket_key)
    await desk.say(ALEX, f"/problem new Checkout down {' '.join(keys)}", channel="agents")
    await desk.quiet()
    other = dataclasses.replace(settings, replica_name="replica-b")
    second = await aiohttp_client(
        create_app(other, organisation, clock=desk.clock, delivery=FAST, schedule=False)
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}

    # The monitoring tool reports the problem solved to one replica, and again to the other.
    first = await desk.client.post("/api/events", json=SOLVED, headers=headers)
    applied = (first.status, (await first.json())["outcome"])
    again = await second.post("/api/events", json=SOLVED, headers=headers)
    replayed = (again.status, (await again.json())["outcome"])
    # The first replica stops while the messages may be on their way, and starts again.
    await desk.client.close()
    third = await aiohttp_client(
        create_app(settings, organisation, clock=desk.clock, delivery=FAST, schedule=False)
    )
    await desk.quiet()

    assert applied == (200, "applied")
    assert replayed == (200, "duplicate")
    assert third.server is not None
    assert len(_solved(desk, LENA_CHAT)) == 1, "Lena, with two tickets, hears it once"
    assert len(_geloest(desk, KIM_CHAT)) == 1
    assert (
        await desk.scalar(
            "SELECT count(*) FROM outbox WHERE template = 'customer/problem_resolved'"
        )
        == 2
    )
    assert (
        await desk.scalar(
            "SELECT count(*) FROM outbox WHERE template = 'customer/problem_resolved'"
            " AND status = 'sent'"
        )
        == 2
    )
