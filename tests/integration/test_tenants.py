"""Only the tenants esmbot serves talk to the desk: anyone else hears one line and is forgotten."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.app import create_app
from bot.demo.activities import (
    TENANT_ID,
    TeamsUser,
    card_execute,
    channel_message,
    conversation_update,
    installation_update,
    message_action,
    message_payload,
    pasted_link,
    personal_conversation_id,
    personal_message,
    ticket_search,
)
from tests.conftest import DANIELLE, LEARNER, Bot

THEIRS = "0a0b0c0d-0000-4000-8000-000000000001"
# Someone in another organisation's directory whose address matches a manager's here.
STRANGER = TeamsUser.named("Danielle Elsewhere", "danielle@esmos.example")
TABLES = ("people", "conversations", "bot_state", "tickets", "audit_log")


@pytest.fixture
async def served(aiohttp_client, settings, organisation, connector, database) -> Bot:
    ours = dataclasses.replace(organisation, tenants=frozenset({TENANT_ID}))
    client = await aiohttp_client(create_app(settings, ours, schedule=False))
    return Bot(client=client, connector=connector, database=database)


def _from(tenant: str, activity: dict[str, Any]) -> dict[str, Any]:
    activity["channelData"]["tenant"]["id"] = tenant
    activity["conversation"]["tenantId"] = tenant
    return activity


async def _nothing_stored(bot: Bot) -> None:
    for table in TABLES:
        assert await bot.scalar(f"SELECT count(*) FROM {table}") == 0, table


async def _refused(bot: Bot) -> float:
    body = await (await bot.client.get("/metrics")).text()
    line = 'esmbot_activities_refused_total{reason="tenant"} '
    found = [row for row in body.splitlines() if row.startswith(line)]
    return float(found[0].removeprefix(line)) if found else 0.0


@pytest.mark.parametrize(
    ("locale", "says"),
    [("en-US", "can only help people of ESMOS"), ("de-DE", "kann nur Personen von ESMOS helfen")],
)
async def test_a_message_from_another_tenant_gets_one_polite_line_and_nothing_is_kept(
    served, connector, locale, says
):
    stranger = dataclasses.replace(STRANGER, locale=locale)
    activity = _from(THEIRS, personal_message(stranger, "new ticket: VPN down", connector.url))

    response = await served.post(activity)

    assert response.status == 201
    [reply] = await connector.wait_for(1, personal_conversation_id(stranger))
    assert says in reply.text
    await _nothing_stored(served)
    assert await _refused(served) == 1


async def test_installing_from_another_tenant_is_answered_and_forgotten(served, connector):
    response = await served.post(_from(THEIRS, installation_update(STRANGER, connector.url)))

    assert response.status == 201
    [reply] = await connector.wait_for(1, personal_conversation_id(STRANGER))
    assert "can only help people of ESMOS" in reply.text
    await _nothing_stored(served)


async def test_a_team_of_another_tenant_is_counted_and_nothing_is_kept(served, connector):
    added = _from(THEIRS, conversation_update(STRANGER, connector.url, bot_added=True))
    mention = _from(THEIRS, channel_message(STRANGER, "/subscribe management", connector.url))

    # Each answer comes after its turn has run to the end.
    assert (await served.post(added)).status == 201
    assert (await served.post(mention)).status == 201

    await _nothing_stored(served)
    assert await _refused(served) == 2
    # The mention was a message: its one line; the bot being added gets none.
    assert [r.text for r in connector.sent()] == [connector.sent()[0].text]
    assert "can only help people of ESMOS" in connector.sent()[0].text


async def test_an_activity_without_a_tenant_is_refused_when_tenants_are_served(served, connector):
    activity = personal_message(LEARNER, "hello", connector.url)
    del activity["channelData"]["tenant"], activity["conversation"]["tenantId"]

    assert (await served.post(activity)).status == 201

    await _nothing_stored(served)
    assert await _refused(served) == 1


async def test_the_served_tenant_is_learned_and_its_manager_holds_the_role(served, connector):
    response = await served.post(personal_message(DANIELLE, "/help", connector.url))

    assert response.status == 201
    await connector.wait_for(1, personal_conversation_id(DANIELLE))
    assert await served.scalar("SELECT roles FROM people") in ('["managers"]', ["managers"])
    assert await _refused(served) == 0


async def test_the_apps_tenant_is_served_when_esmbot_toml_names_none(
    aiohttp_client, settings, organisation, connector, database
):
    own = dataclasses.replace(settings, app_tenant_id=THEIRS)
    client = await aiohttp_client(create_app(own, organisation, schedule=False))
    bot = Bot(client=client, connector=connector, database=database)

    response = await bot.post(personal_message(LEARNER, "hello", connector.url))

    assert response.status == 201
    [reply] = await connector.wait_for(1, personal_conversation_id(LEARNER))
    assert "can only help people of ESMOS" in reply.text
    await _nothing_stored(bot)


async def test_a_message_extension_or_card_press_from_another_tenant_is_told_and_changes_nothing(
    served, connector
):
    german = dataclasses.replace(STRANGER, locale="de-DE")
    message = message_payload(STRANGER, "<p>VPN down</p>", conversation_id="19:x@thread.v2")
    invokes = [
        message_action(STRANGER, connector.url, message=message, chat="x"),
        message_action(
            german, connector.url, message=message, chat="x", submit={"summary": "VPN is down"}
        ),
        ticket_search(STRANGER, connector.url, "SR-1"),
        pasted_link(STRANGER, connector.url, "https://bot.example.com/tickets/SR-1"),
        card_execute(STRANGER, connector.url, "ack", {"action": "ack", "ticket": "SR-1"}),
    ]
    answers = []
    for activity in invokes:
        response = await served.post(_from(THEIRS, activity))
        assert response.status == 200, await response.text()
        answers.append(await response.json())

    fetched, submitted, searched, unfolded, pressed = answers
    assert "can only help people of ESMOS" in fetched["task"]["value"]
    assert (
        submitted["task"]["type"] == "message"
        and "nur Personen von ESMOS" in submitted["task"]["value"]
    )
    assert searched["composeExtension"]["type"] == "message"
    assert unfolded["composeExtension"]["type"] == "message"
    assert pressed["type"] == "application/vnd.microsoft.error"
    await _nothing_stored(served)
    assert await _refused(served) == len(invokes)
