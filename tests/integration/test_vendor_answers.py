"""Story 16 over the real app: the vendor's respond-by, its reminder, its answer, and what it may see."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Organisation
from bot.config.organisation import VendorTerms
from bot.demo.activities import (
    TeamsUser,
    channel_conversation_id,
    channel_message,
    installation_update,
    personal_conversation_id,
)
from bot.tickets.durations import parse_duration
from bot.tickets.models import Ticket
from tests.conftest import ALEX, DANIELLE
from tests.integration.management import (
    Clock,
    boot_fixture,  # noqa: F401 - the fixture
    database_of,
    open_ticket,
    post,
    set_up_desk,
    settled,
)
from tests.integration.test_vendor_clock import summaries, sweep_to

AGENTS = channel_conversation_id("agents")
VENDOR_CHANNEL = channel_conversation_id("vendor")
# Named in esmbot.example.toml under [roles] vendor.
SUPPORT = TeamsUser.named("OpenCart Support", "support@opencart-vendor.example")
# Monday 23 November 2026, 09:00 in Berlin.
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
BY_ALEX = {"email": ALEX.email, "name": ALEX.name}


@pytest.fixture
def organisation(organisation: Organisation) -> Organisation:
    """The example organisation, whose vendor promises to answer within 8 hours."""
    return dataclasses.replace(organisation, vendor=VendorTerms(response=parse_duration("8h")))


async def escalated_desk(boot: Any, connector: Any, clock: Clock) -> tuple[Any, Any]:
    """OPS-1, owned by Alex, escalated to the vendor at T0; OPS-2 never escalated."""
    app, client = await boot(clock, schedule=False)
    await set_up_desk(client, connector)
    connector.add_member(
        SUPPORT.id, name=SUPPORT.name, email=SUPPORT.email, aad_object_id=SUPPORT.aad_object_id
    )
    await post(client, "/api/messages", installation_update(ALEX, connector.url))
    subscribe = channel_message(DANIELLE, "/subscribe vendor", connector.url, channel="vendor")
    await post(client, "/api/messages", subscribe)
    await open_ticket(client, "OPS-1", "P3", T0, type="incident", assignee=BY_ALEX)
    await open_ticket(client, "OPS-2", "P3", T0, type="incident", assignee=BY_ALEX)
    escalate = "/escalate OPS-1 vendor Payment module throws 500 on 4.0.2.3"
    await post(
        client, "/api/messages", channel_message(ALEX, escalate, connector.url, channel="agents")
    )
    await settled([app])
    return app, client


async def vendor_says(client: Any, connector: Any, text: str) -> str:
    before = len(connector.sent(VENDOR_CHANNEL))
    await post(
        client, "/api/messages", channel_message(SUPPORT, text, connector.url, channel="vendor")
    )
    [answer] = connector.sent(VENDOR_CHANNEL)[before:]
    return str(answer.body.get("text", ""))


async def test_the_vendor_is_asked_by_8h_reminded_and_its_answer_reaches_the_owner(boot, connector):
    clock = Clock(T0)
    app, client = await escalated_desk(boot, connector, clock)

    [card] = [c.body for c in connector.sent(VENDOR_CHANNEL) if "Escalation OPS-1" in str(c.body)]
    # 8 hours on the vendor's calendar (wall-clock hours): Monday 17:00 in Berlin.
    assert "Please respond by Mon 23 Nov 2026, 17:00 (Europe/Berlin)." in str(card)

    # 75 % of 8 h: Monday 14:00 UTC, seen by the 14:00 sweep; one reminder.
    await sweep_to(app, clock, T0 + timedelta(hours=7))
    reminders = summaries(connector, VENDOR_CHANNEL, "Reminder OPS-1")
    assert len(reminders) == 1, reminders

    answer = await vendor_says(client, connector, "/update OPS-1 Patch 4.0.2.4 fixes it")
    assert answer == "Thank you: the service desk has your answer on OPS-1."
    await settled([app])
    alex = personal_conversation_id(ALEX)
    [told] = [
        c.body
        for c in connector.sent(alex)
        if c.body.get("summary") == "OPS-1: the vendor answered"
    ]
    assert "Patch 4.0.2.4 fixes it" in str(told)
    async with database_of(app).transaction() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.key == "OPS-1"))
        assert ticket is not None and ticket.vendor_responded_at == T0 + timedelta(hours=7)

    # It answered: the agents do not hear that the respond-by passed.
    await sweep_to(app, clock, T0 + timedelta(hours=10))
    assert summaries(connector, AGENTS, "OPS-1: the vendor's answer is overdue") == []


async def test_the_agents_hear_when_the_vendors_respond_by_passes(boot, connector):
    clock = Clock(T0)
    app, _ = await escalated_desk(boot, connector, clock)

    await sweep_to(app, clock, T0 + timedelta(hours=7))
    assert summaries(connector, AGENTS, "OPS-1: the vendor's answer is overdue") == []
    await sweep_to(app, clock, T0 + timedelta(hours=12))
    assert summaries(connector, AGENTS, "OPS-1: the vendor's answer is overdue") == [
        "OPS-1: the vendor's answer is overdue"
    ]


async def test_the_vendor_cannot_reach_a_ticket_not_escalated_to_it(boot, connector):
    clock = Clock(T0)
    app, client = await escalated_desk(boot, connector, clock)

    unknown = await vendor_says(client, connector, "/update OPS-2 Here is what we found")
    missing = await vendor_says(client, connector, "/update OPS-99 Here is what we found")

    assert unknown == "I can't find a ticket OPS-2."
    assert missing == "I can't find a ticket OPS-99."  # the same answer: nothing is given away
    # And it holds no desk command that reads tickets.
    refused = await vendor_says(client, connector, "/sla OPS-2")
    assert refused.startswith("Sorry, that is for the service desk"), refused
    await settled([app])
    assert not [
        c
        for c in connector.sent(personal_conversation_id(ALEX))
        if "vendor answered" in str(c.body)
    ]
