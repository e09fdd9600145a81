"""The SLA clock at work with a controllable clock: nudges, breaches, reminders and surveys, once each."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import SCHEDULER, create_app
from bot.demo.activities import channel_message, installation_update
from bot.notify.compose import Notifier
from bot.notify.models import OutboxMessage
from bot.notify.render import Renderer
from bot.tickets.due import MISSED_BEFORE_SEEN
from bot.tickets.due_models import DueAction
from tests.conftest import DANIELLE, LEARNER

# Monday 23 November 2026, 09:00 in Berlin.
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "messages"
TOKEN = "sweep-token"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def start(connector, database, aiohttp_client, settings, organisation, clock):
    """Starts (or restarts) the bot on the same database; time moves only when the test says."""
    secured = dataclasses.replace(settings, api_token=TOKEN)

    async def boot():
        app = create_app(secured, organisation, clock=clock, dispatch=False, schedule=False)
        client = await aiohttp_client(app)
        return app, client

    return boot


@pytest.fixture
async def desk(start, connector):
    app, client = await start()
    await client.post("/api/messages", json=installation_update(LEARNER, connector.url))
    for audience in ("agents", "management"):
        await client.post(
            "/api/messages",
            json=channel_message(
                DANIELLE, f"/subscribe {audience}", connector.url, channel=audience
            ),
        )
    return app, client


async def open_ticket(client, key="OPS-1", priority="P3"):
    body = {
        "id": f"open-{key}",
        "type": "created",
        "occurred_at": T0.isoformat(),
        "ticket": {
            "key": key,
            "summary": "Checkout fails",
            "priority": priority,
            "reporter": {"email": LEARNER.email},
        },
    }
    response = await client.post(
        "/api/events", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status == 200, await response.text()


async def event(client, clock, event_id, kind, **ticket):
    body = {
        "id": event_id,
        "type": kind,
        "occurred_at": clock().isoformat(),
        "ticket": {"key": "OPS-1", **ticket},
    }
    response = await client.post(
        "/api/events", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status == 200, await response.text()


async def run_until(app, clock, end, *, step=timedelta(hours=1)):
    """Sweeps every `step` up to `end`; returns {template: [sweep times that produced one]}.

    Messages written before the call are not counted; those written by events in between are
    counted at the next sweep.
    """
    produced: dict[str, list[datetime]] = {}
    database = app[SCHEDULER]._database
    async with database.transaction() as session:
        seen = set((await session.scalars(select(OutboxMessage.id))).all())
    while clock.now < end:
        clock.now = min(clock.now + step, end)
        await app[SCHEDULER].sweep()
        async with database.transaction() as session:
            rows = (await session.scalars(select(OutboxMessage))).all()
        for row in rows:
            if row.id not in seen:
                seen.add(row.id)
                produced.setdefault(row.template, []).append(clock.now)
    return produced


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def test_an_ignored_ticket_gets_three_nudges_and_one_breach_per_deadline(desk, clock):
    app, client = desk
    await open_ticket(client)

    produced = await run_until(app, clock, at(30, 12))

    # First response: 48 h from Mon 08:00 UTC is Wed 08:00; 50/75/90 % at Tue 08:00, Tue 20:00,
    # Wed 03:12 (seen by the hourly sweep at 04:00). Resolution: 5 working days, Mon 30 08:00 UTC;
    # Of its 45 open hours, 50 % is used Wed 13:30 Berlin, 75 % Thu 15:45, 90 % Fri 13:30, each
    # seen by the next hourly sweep (12:30 UTC → 13:00, 14:45 → 15:00, 12:30 → 13:00).
    nudges = produced["agents/sla_nudge"]
    assert nudges[:3] == [at(24, 8), at(24, 20), at(25, 4)]
    assert nudges[3:] == [at(25, 13), at(26, 15), at(27, 13)]
    assert produced["management/sla_breach"] == [at(25, 8), at(30, 8)]


async def test_a_ticket_resolved_at_60_percent_gets_no_further_nudge(desk, clock):
    app, client = desk
    await open_ticket(client)
    clock.now = T0 + timedelta(hours=2)
    await event(client, clock, "ack", "status_changed", status="acknowledged")

    produced = await run_until(app, clock, at(26, 10))  # Thu 11:00 Berlin: about 60 % used
    await event(client, clock, "done", "resolved", resolution="Patched")
    after = await run_until(app, clock, at(30, 12))

    # First response was met; only the 50 % resolution nudge (Wed 13:30 Berlin) came before.
    assert produced["agents/sla_nudge"] == [at(25, 13)]
    assert "agents/sla_nudge" not in after and "management/sla_breach" not in after


async def test_a_reopened_ticket_is_not_nudged_again_for_a_share_of_the_same_deadline(desk, clock):
    app, client = desk
    await open_ticket(client)
    clock.now = T0 + timedelta(hours=2)
    await event(client, clock, "ack", "status_changed", status="acknowledged")
    before = await run_until(app, clock, at(25, 14))  # the 50 % resolution nudge came at 13:00
    await event(client, clock, "done", "resolved", resolution="Patched")
    clock.now = at(25, 15)
    await event(client, clock, "again", "reopened")

    after = await run_until(app, clock, at(30, 12))

    # The clock went on where it stopped (the resolved hour paused it): the nudges still to come
    # for this deadline come once each; the one given before the reopening is not given again.
    assert before["agents/sla_nudge"] == [at(25, 13)]
    assert after["agents/sla_nudge"] == [at(26, 16), at(27, 14)]
    assert after["management/sla_breach"] == [at(30, 9)]


async def test_a_restart_in_between_changes_nothing(desk, start, clock):
    app, client = desk
    await open_ticket(client)
    first = await run_until(app, clock, at(24, 21))
    await client.close()

    app, _client = await start()
    second = await run_until(app, clock, at(30, 12))

    nudges = first["agents/sla_nudge"] + second["agents/sla_nudge"]
    assert nudges == [at(24, 8), at(24, 20), at(25, 4), at(25, 13), at(26, 15), at(27, 13)]
    assert len(second["management/sla_breach"]) == 2


async def test_after_a_three_day_outage_the_breach_is_alerted_once_and_stale_nudges_fold(
    desk, clock
):
    app, client = desk
    await open_ticket(client)

    clock.now = T0 + timedelta(days=3, hours=1)  # Thu 09:00 UTC: the bot was down since Monday
    produced = await run_until(
        app, clock, clock.now + timedelta(minutes=1), step=timedelta(minutes=1)
    )

    assert produced["management/sla_breach"] == [clock.now]  # first response, 25 h late
    assert produced["agents/sla_nudge"] == [clock.now]  # only the 50 % resolution nudge, once
    database = app[SCHEDULER]._database
    async with database.transaction() as session:
        outcomes = sorted(
            (
                await session.scalars(
                    select(DueAction.outcome).where(DueAction.status == "skipped")
                )
            ).all()
        )
    assert outcomes == ["skipped: folded into the breach"] * 3


async def test_a_ticket_first_seen_after_its_deadlines_is_recorded_as_breached_without_alerts(
    desk, clock
):
    app, client = desk
    two_years_ago = T0 - timedelta(days=706)
    body = {
        "id": "import-OPS-1",
        "type": "created",
        "occurred_at": two_years_ago.isoformat(),
        "ticket": {"key": "OPS-1", "summary": "Old", "reporter": {"email": LEARNER.email}},
    }
    response = await client.post(
        "/api/events", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status == 200

    produced = await run_until(app, clock, T0 + timedelta(hours=3))

    assert "management/sla_breach" not in produced and "agents/sla_nudge" not in produced
    database = app[SCHEDULER]._database
    async with database.transaction() as session:
        breaches = (
            await session.execute(
                select(DueAction.sla, DueAction.status, DueAction.outcome, DueAction.done_at)
                .where(DueAction.kind == "breach")
                .order_by(DueAction.sla)
            )
        ).all()
    assert [tuple(row) for row in breaches] == [
        ("first_response", "done", MISSED_BEFORE_SEEN, T0),
        ("resolution", "done", MISSED_BEFORE_SEEN, T0),
    ]


async def test_a_forgetful_customer_is_reminded_twice_then_resolved_for_no_response(desk, clock):
    app, client = desk
    await open_ticket(client)
    clock.now = T0 + timedelta(hours=1)
    await event(client, clock, "ask", "status_changed", status="waiting_for_customer")

    produced = await run_until(app, clock, at(30, 12))

    # Asked Mon 10:00 Berlin: reminders after 1 and 2 working days, resolved as "no response"
    # after 5 (the question card itself went out when it was asked, before the sweeps).
    assert produced["customer/question"] == [at(24, 9), at(25, 9)]
    assert produced["customer/resolved"] == [at(30, 9)]
    assert "management/sla_breach" not in produced or produced["management/sla_breach"] == []


async def test_a_survey_follows_a_resolution_with_one_reminder(desk, clock):
    app, client = desk
    await open_ticket(client)
    clock.now = T0 + timedelta(hours=3)
    await event(client, clock, "done", "resolved", resolution="Patched")

    produced = await run_until(app, clock, at(30, 12))

    # Resolved Mon 11:00 UTC: the survey an hour later, its reminder 2 working days after that.
    assert produced["customer/survey"] == [T0 + timedelta(hours=4), at(25, 12)]


async def test_a_first_response_nudge_carries_an_acknowledge_button(desk, clock, organisation):
    app, client = desk
    await open_ticket(client)

    await run_until(app, clock, at(24, 9))

    async with app[SCHEDULER]._database.transaction() as session:
        nudge = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.template == "agents/sla_nudge")
        )
    assert nudge is not None
    renderer = Renderer(TEMPLATES, "en", organisation.time_zone)
    card = Notifier(renderer, organisation).activity_of(nudge)["attachments"][0]["content"]
    pressed = [action["data"] for action in card["actions"] if action["type"] == "Action.Submit"]
    assert {"action": "ack", "ticket": "OPS-1"} in [
        {"action": data["action"], "ticket": data["ticket"]} for data in pressed
    ]
