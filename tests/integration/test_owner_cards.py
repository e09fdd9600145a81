"""Cards for a ticket's owner reach only holders of the agent role; the agents' channel has the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from tests import jira_payloads as jp
from tests.conftest import DANIELLE, LEARNER
from tests.integration.desk import AGENTS, desk_fixture  # noqa: F401 - the fixture

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
# Lena reports tickets and has a chat with the bot; esmbot.toml gives her no agent role.
LENA = jp.user("Lena Learner", account_id="5f1a0000000000000000aaaa", email=LEARNER.email)


async def new_ticket_cards(desk) -> list[str]:
    """Where the desk's "new ticket" cards were written to, in order (before any delivery)."""
    sql = (
        "SELECT c.conversation_id FROM outbox o JOIN conversations c ON c.id = o.conversation_id"
        " WHERE o.template = 'agents/new_ticket' ORDER BY o.id"
    )
    async with desk.database.transaction() as session:
        return list((await session.execute(text(sql))).scalars())


async def test_assigning_a_ticket_to_someone_without_the_agent_role_tells_the_channel(desk):
    key = await desk.open()
    lena = await desk.person(LEARNER)

    await desk.actions.assign(key, lena, actor=await desk.person(DANIELLE))

    assert await desk.ticket(key, "assignee_id") == lena.id
    assert await new_ticket_cards(desk) == [AGENTS, AGENTS]


async def test_a_jira_ticket_created_for_such_an_assignee_reaches_the_channel_once(desk):
    created = jp.created(jp.issue("SR-40", reporter=LENA, assignee=LENA), at=T0)

    response = await desk.client.post("/api/events/jira", json=created)

    assert (await response.json())["changes"] == ["created", "assigned"]
    assert await new_ticket_cards(desk) == [AGENTS]


async def test_a_card_the_channel_already_has_is_not_counted_as_unaddressed(desk):
    created = jp.created(jp.issue("SR-41", reporter=LENA, assignee=LENA), at=T0)

    assert (await desk.client.post("/api/events/jira", json=created)).status == 200

    assert await new_ticket_cards(desk) == [AGENTS]
    metrics = await (await desk.client.get("/metrics")).text()
    assert "esmbot_messages_unaddressed_total{" not in metrics
