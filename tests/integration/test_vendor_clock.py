"""The vendor-escalation service level over the real app: it can be missed, and management hears it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.app import SCHEDULER
from bot.demo.activities import channel_conversation_id, channel_message, installation_update
from bot.tickets.models import Ticket
from tests.conftest import ALEX, DANIELLE
from tests.integration.management import (
    MANAGEMENT,
    Clock,
    boot_fixture,  # noqa: F401 - the fixture
    database_of,
    event,
    open_ticket,
    post,
    set_up_desk,
    settled,
)

AGENTS = channel_conversation_id("agents")
# Monday 23 November 2026, 09:00 in Berlin.
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def summaries(connector: Any, conversation: str, start: str) -> list[str]:
    """The summaries of the cards a conversation received that start with `start`."""
    said = [str(call.body.get("summary", "")) for call in connector.sent(conversation)]
    return [summary for summary in said if summary.startswith(start)]


def answers(connector: Any, conversation: str) -> list[str]:
    return [str(call.body.get("text", "")) for call in connector.sent(conversation)]


async def sweep_to(app: Any, clock: Clock, end: datetime) -> None:
    """Sweeps every hour up to `end`, each sweep's messages delivered before the next."""
    while clock.now < end:
        clock.now = min(clock.now + timedelta(hours=1), end)
        await app[SCHEDULER].sweep()
        await settled([app])


async def vendor_times(app: Any, key: str) -> tuple[Any, ...]:
    async with database_of(app).transaction() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.key == key))
        assert ticket is not None
        return ticket.vendor_needed_at, ticket.vendor_escalation_due, ticket.vendor_escalated_at


async def test_an_escalation_30h_after_creation_is_a_breach_in_the_report_and_an_alert(
    boot, connector
):
    clock = Clock(T0 + timedelta(hours=30))  # Tuesday 15:00 in Berlin
    app, client = await boot(clock, schedule=False)
    await set_up_desk(client, connector)
    # The ticket system created it 30 hours ago; nobody marked it as needing the vendor.
    await open_ticket(client, "OPS-1", "P3", T0, type="incident")
    await event(client, "vendor-1", "escalated_to_vendor", clock.now, key="OPS-1")

    assert await vendor_times(app, "OPS-1") == (
        T0,
        T0 + timedelta(hours=24),
        T0 + timedelta(hours=30),
    )
    for _ in range(2):  # a second sweep finds nothing more to say
        clock.now += timedelta(minutes=1)
        await app[SCHEDULER].sweep()
        await settled([app])

    breaches = summaries(connector, MANAGEMENT, "SLA breach OPS-1")
    assert breaches == ["SLA breach OPS-1: Vendor escalation, 6 hr late"]
    [card] = [c.body for c in connector.sent(MANAGEMENT) if c.body.get("summary") == breaches[0]]
    assert 'The "Vendor escalation" deadline of OPS-1 was met 6 hr late.' in str(card)

    report = channel_message(DANIELLE, "/report week", connector.url, channel="management")
    await post(client, "/api/messages", report)
    [answer] = [c.body for c in connector.sent(MANAGEMENT) if "fallbackText" in str(c.body)][-1:]
    lines = answer["attachments"][0]["content"]["fallbackText"].splitlines()
    [vendor_line] = [line for line in lines if line.startswith("Vendor escalation")]
    assert "0 of 1 on time" in vendor_line and "Missed" in vendor_line, vendor_line


async def test_an_escalation_within_24h_of_creation_is_no_breach(boot, connector):
    clock = Clock(T0 + timedelta(hours=23))
    app, client = await boot(clock, schedule=False)
    await set_up_desk(client, connector)
    await open_ticket(client, "OPS-1", "P3", T0, type="incident")
    await event(client, "vendor-1", "escalated_to_vendor", clock.now, key="OPS-1")

    await sweep_to(app, clock, T0 + timedelta(hours=30))

    assert summaries(connector, MANAGEMENT, "SLA breach OPS-1") == []


async def test_a_ticket_needing_the_vendor_from_creation_is_nudged_then_alerted_at_24h(
    boot, connector
):
    clock = Clock(T0)
    app, client = await boot(clock, schedule=False)
    await set_up_desk(client, connector)
    await open_ticket(client, "OPS-1", "P3", T0, type="incident", vendor_needed=True)

    # 50, 75 and 90 % of 24 h: Monday 20:00, Tuesday 02:00 and 05:36 UTC (the 06:00 sweep).
    await sweep_to(app, clock, T0 + timedelta(hours=23))
    nudges = summaries(connector, AGENTS, "OPS-1: Vendor escalation due")
    assert len(nudges) == 3, nudges
    assert summaries(connector, MANAGEMENT, "SLA breach OPS-1") == []

    await sweep_to(app, clock, T0 + timedelta(hours=30))
    assert summaries(connector, MANAGEMENT, "SLA breach OPS-1: Vendor escalation") == [
        "SLA breach OPS-1: Vendor escalation, less than a minute late"
    ]
    assert len(summaries(connector, AGENTS, "OPS-1: Vendor escalation due")) == 3

    # Escalated at last, 30 h in: the breach was told already and is not told again.
    await event(client, "vendor-1", "escalated_to_vendor", clock.now, key="OPS-1")
    await sweep_to(app, clock, T0 + timedelta(hours=32))
    assert len(summaries(connector, MANAGEMENT, "SLA breach OPS-1: Vendor escalation")) == 1


async def test_the_vendor_command_starts_the_clock_when_the_need_is_known(boot, connector):
    clock = Clock(T0)
    app, client = await boot(clock, schedule=False)
    await set_up_desk(client, connector)
    await post(client, "/api/messages", installation_update(ALEX, connector.url))
    await open_ticket(client, "OPS-1", "P3", T0, type="incident")

    clock.now = T0 + timedelta(hours=5)  # Monday 14:00 in Berlin
    mark = "/vendor OPS-1 needed The payment module is the vendor's code"
    before = len(answers(connector, AGENTS))
    await post(
        client, "/api/messages", channel_message(ALEX, mark, connector.url, channel="agents")
    )
    said = answers(connector, AGENTS)[before:]
    assert any(
        text.startswith(
            "OPS-1 needs the vendor: escalate it by Tue 24 Nov 2026, 14:00 (Europe/Berlin)"
        )
        for text in said
    ), said
    assert await vendor_times(app, "OPS-1") == (
        T0 + timedelta(hours=5),
        T0 + timedelta(hours=29),
        None,
    )

    clock.now = T0 + timedelta(hours=6)  # a second mark does not move the clock
    before = len(answers(connector, AGENTS))
    await post(
        client, "/api/messages", channel_message(ALEX, mark, connector.url, channel="agents")
    )
    # The reply, among whatever cards the dispatcher delivers to the channel meanwhile.
    said = answers(connector, AGENTS)[before:]
    assert any(text.startswith("OPS-1 was marked as needing the vendor") for text in said), said
    assert (await vendor_times(app, "OPS-1"))[0] == T0 + timedelta(hours=5)

    # Escalated 28 h after creation but 23 h after the need was known: in time.
    await event(client, "vendor-1", "escalated_to_vendor", T0 + timedelta(hours=28), key="OPS-1")
    await sweep_to(app, clock, T0 + timedelta(hours=31))
    assert summaries(connector, MANAGEMENT, "SLA breach OPS-1: Vendor escalation") == []
