"""Nobody is dropped in silence: without Graph, whoever has no chat with esmbot is told of to the
desk once, a channel-less audience reaches its role's holders, and an owner is mentioned."""

from __future__ import annotations

from datetime import timedelta

from bot.app import SCHEDULER
from bot.demo.activities import personal_conversation_id
from bot.notify.links import TEAMS_CHAT
from tests import jira_payloads as jp
from tests.conftest import DANIELLE
from tests.integration.desk import AGENTS, SAM, T0, desk_fixture  # noqa: F401 - the fixture

FRANK = jp.user(
    "Frank Forgetful", account_id="5f1a00000000000000000f0f", email="frank.forgetful@esmos.example"
)


async def test_a_portal_reporter_who_never_chatted_is_told_of_to_the_desk_once(desk):
    """Story 12 without Graph: SR-12 comes from the Jira portal, and is updated three times."""
    sr12 = jp.issue("SR-12", reporter=FRANK)
    events = [
        jp.created(sr12, at=T0),
        jp.moved(sr12, "Open", "In Progress", at=T0 + timedelta(minutes=5)),
        jp.comment(sr12, "Which browser?", at=T0 + timedelta(minutes=6), author=FRANK),
        jp.moved(sr12, "In Progress", "Waiting for customer", at=T0 + timedelta(minutes=7)),
    ]
    for payload in events:
        response = await desk.client.post("/api/events/jira", json=payload)
        assert response.status == 200, await response.text()
    await desk.quiet()

    # What was for him failed, saying why, and names him by his address.
    failed = await desk.scalar(
        "SELECT count(*) FROM outbox WHERE address = :address AND status = 'failed'"
        " AND last_error = 'no_graph' AND conversation_id IS NULL",
        address="frank.forgetful@esmos.example",
    )
    assert failed >= 2
    # The agents' channel heard it once, with his address and a link to chat with him.
    told = [
        card
        for card in desk.cards(AGENTS)
        if card["fallbackText"].startswith("Someone could not be reached")
    ]
    assert len(told) == 1
    card = told[0]
    facts = {fact["title"]: fact["value"] for block in card["body"] if block["type"] == "FactSet"
             for fact in block["facts"]}  # fmt: skip
    assert facts["E-mail"] == "frank.forgetful@esmos.example"
    assert "Microsoft Graph is not set up" in facts["Why"]
    urls = [action.get("url") for action in card["actions"]]
    assert f"{TEAMS_CHAT}frank.forgetful@esmos.example" in urls
    metrics = await (await desk.client.get("/metrics")).text()
    assert f'esmbot_people_unreached_total{{reason="no_graph"}} {float(failed)}' in metrics


async def test_an_owner_who_works_only_in_the_channel_gets_the_nudge_there_mentioned(desk):
    await desk.say(SAM, "/help", channel="agents")  # Sam has met the bot only in the channel
    key = await desk.open()
    await desk.press(SAM, {"action": "assign_me", "ticket": key})
    before = len(desk.cards(AGENTS))

    desk.clock.advance(hours=25)  # past half of the 48 h first response
    await desk.client.server.app[SCHEDULER].sweep()
    desk.wake()
    await desk.quiet()

    nudges = [
        card for card in desk.cards(AGENTS)[before:] if "A deadline is getting close" in str(card)
    ]
    assert len(nudges) == 1
    nudge = nudges[0]
    sam = await desk.person(SAM)
    (entity,) = nudge["msteams"]["entities"]
    assert entity["type"] == "mention"
    assert entity["mentioned"]["id"] in (sam.teams_user_id, sam.aad_object_id)
    assert nudge["body"][0]["text"] == f"<at>{SAM.name}</at>" == entity["text"]


async def test_without_a_management_channel_a_breach_reaches_each_manager_in_1_1(desk):
    await desk.say(DANIELLE, "/help")  # Danielle has her 1:1 chat with the bot
    await desk.say(DANIELLE, "/unsubscribe management", channel="management")
    key = await desk.open()

    desk.clock.advance(hours=49)  # past the 48 h first response
    await desk.client.server.app[SCHEDULER].sweep()
    desk.wake()
    await desk.quiet()

    sent_to = await desk.scalar(
        "SELECT c.conversation_id FROM outbox o JOIN conversations c ON c.id = o.conversation_id"
        " WHERE o.template = 'management/sla_breach' AND o.status = 'sent'"
    )
    assert sent_to == personal_conversation_id(DANIELLE)
    assert any(key in str(card) for card in desk.cards(sent_to))
