"""Story 7 and 12 with Graph, over real HTTP: a reporter who never chatted is found in Azure AD,
esmbot is installed for him once, his chat is learned and he hears in his own language."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from bot.app import create_app
from bot.graph.reach import ReachSettings
from bot.graph.wiring import GraphParts
from tests import jira_payloads as jp
from tests.doubles.graph import AUTHORITY_HOST, TENANT, GraphDouble, Route
from tests.integration.desk import AGENTS, FAST, T0, build_desk
from tests.integration.settle import settled

FRANK_EMAIL = "frank.forgetful@esmos.example"
FRANK_ID = "0f0f0f0f-0000-4000-8000-00000000f0f0"
FRANK = jp.user("Frank Forgetful", account_id="5f1a00000000000000000f0f", email=FRANK_EMAIL)


class Sleeps:
    """Graph's waits, noted and not slept: no test waits real seconds for a Retry-After."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
async def graph():
    double = GraphDouble()
    await double.start()
    double.add_user(
        "Frank Forgetful",
        FRANK_EMAIL,
        object_id=FRANK_ID,
        language="de-DE",
        time_zone="W. Europe Standard Time",
    )
    yield double
    await double.close()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def with_graph(settings, double: GraphDouble):
    return dataclasses.replace(
        settings,
        graph=True,
        graph_client_id=double.client_id,
        graph_client_secret=double.client_secret,
        graph_tenant_id=TENANT,
        graph_base_url=double.base_url,
        authority_host=AUTHORITY_HOST,
    )


def parts(double: GraphDouble, sleeps: Sleeps) -> GraphParts:
    return GraphParts(http_client=Route(double), sleep=sleeps, reach=ReachSettings(idle_poll=0.05))


@pytest.fixture
async def desk(connector, database, aiohttp_client, settings, organisation, graph, sleeps):
    return await build_desk(
        connector, database, aiohttp_client, with_graph(settings, graph), organisation,
        graph=parts(graph, sleeps),
    )  # fmt: skip


async def post_all(desk, payloads) -> None:
    for payload in payloads:
        response = await desk.client.post("/api/events/jira", json=payload)
        assert response.status == 200, await response.text()


async def frank_cards(desk, graph) -> list[dict]:
    chat = graph.chat_id(FRANK_ID)
    await desk.wait(lambda: desk.cards(chat), within=10)
    await desk.quiet()
    return desk.cards(chat)


async def test_a_portal_reporter_gets_his_card_in_german_after_esmbot_installs_itself(desk, graph):
    await post_all(desk, [jp.created(jp.issue("SR-12", reporter=FRANK), at=T0)])

    cards = await frank_cards(desk, graph)

    assert len(cards) == 1
    assert cards[0]["fallbackText"].startswith("Ihre Anfrage ist bei uns angekommen")
    assert "SR-12" in cards[0]["fallbackText"]
    assert graph.count("install") == 1
    frank = await desk.scalar(
        "SELECT locale || ' ' || time_zone || ' ' || aad_object_id FROM people WHERE email = :e",
        e=FRANK_EMAIL,
    )
    assert frank == f"de-DE Europe/Berlin {FRANK_ID}"
    assert await desk.scalar("SELECT count(*) FROM outbox WHERE status = 'reaching'") == 0


async def test_ten_updates_while_reaching_install_once_and_each_message_arrives_once(desk, graph):
    sr = jp.issue("SR-13", reporter=FRANK)
    at = [T0 + timedelta(minutes=n) for n in range(10)]
    payloads = [jp.created(sr, at=at[0])] + [
        jp.comment(sr, f"Update {n}", at=at[n], author=FRANK, comment_id=f"{30000 + n}")
        for n in range(1, 10)
    ]
    graph.held["install"] = asyncio.Event()  # the install takes its time

    await post_all(desk, payloads)
    # All ten wait for him, and esmbot is installing once.
    await desk.wait(lambda: graph.count("install") == 0 and graph.calls, within=10)
    reaching = "SELECT count(*) FROM outbox WHERE status = 'reaching'"
    assert await desk.scalar(reaching) == 10
    graph.held["install"].set()
    await desk.wait(lambda: len(desk.cards(graph.chat_id(FRANK_ID))) >= 10, within=10)
    await desk.quiet()

    assert graph.count("install") == 1
    sent = await desk.scalar(
        "SELECT count(*) FROM outbox o JOIN people p ON p.id = o.person_id"
        " WHERE p.email = :e AND o.status = 'sent'",
        e=FRANK_EMAIL,
    )
    assert sent == len(desk.cards(graph.chat_id(FRANK_ID)))
    left = await desk.scalar(
        "SELECT min(template || ' ' || status) FROM outbox WHERE status <> 'sent'"
    )
    assert left is None, left


async def test_429_with_retry_after_2_on_install_is_waited_out(desk, graph, sleeps):
    graph.fail("install", 429, retry_after=2)

    await post_all(desk, [jp.created(jp.issue("SR-14", reporter=FRANK), at=T0)])

    assert len(await frank_cards(desk, graph)) == 1
    assert 2.0 in sleeps.seconds
    assert graph.count("install", 429) == 1 and graph.count("install", 201) == 1


async def test_403_on_install_fails_the_row_naming_the_permission_and_tells_the_desk(desk, graph):
    graph.granted.discard("TeamsAppInstallation.ReadWriteSelfForUser.All")
    before = len(desk.cards(AGENTS))

    await post_all(desk, [jp.created(jp.issue("SR-15", reporter=FRANK), at=T0)])
    await desk.wait(
        lambda: [
            c for c in desk.cards(AGENTS)[before:] if "Someone could not" in c["fallbackText"]
        ],
        within=10,
    )
    await desk.quiet()

    error = await desk.scalar(
        "SELECT last_error FROM outbox WHERE template = 'customer/ticket_received'"
    )
    assert error.startswith("forbidden: 403 Forbidden")
    assert "TeamsAppInstallation.ReadWriteSelfForUser.All" in error
    told = [c for c in desk.cards(AGENTS)[before:] if "Someone could not" in c["fallbackText"]]
    assert len(told) == 1
    assert "a permission is missing" in str(told[0])
    assert "TeamsAppInstallation.ReadWriteSelfForUser.All" in str(told[0])
    metrics = await (await desk.client.get("/metrics")).text()
    assert 'esmbot_people_unreached_total{reason="forbidden"} 1.0' in metrics


async def test_two_replicas_reaching_the_same_person_install_once_and_send_once(
    desk, graph, sleeps, aiohttp_client, settings, organisation
):
    second = with_graph(dataclasses.replace(settings, replica_name="replica-b"), graph)
    other = await aiohttp_client(
        create_app(second, organisation, clock=desk.clock, delivery=FAST, schedule=False,
                   graph=parts(graph, sleeps))
    )  # fmt: skip
    sr = jp.issue("SR-16", reporter=FRANK)

    # Each replica takes one of the ticket's events: both have Frank's rows to reach.
    await post_all(desk, [jp.created(sr, at=T0)])
    response = await other.post(
        "/api/events/jira",
        json=jp.comment(sr, "More", at=T0 + timedelta(minutes=1), author=FRANK),
    )
    assert response.status == 200

    await desk.wait(lambda: len(desk.cards(graph.chat_id(FRANK_ID))) >= 2, within=10)
    await settled(desk.database, desk.connector, clock=desk.clock)

    assert graph.count("install") == 1
    cards = desk.cards(graph.chat_id(FRANK_ID))
    assert len(cards) == 2
    assert len({card["fallbackText"] for card in cards}) == 2  # each message once
