"""Alertmanager's webhook over the real app: one incident per alert, once, whatever is replayed."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SCHEDULER
from bot.demo.activities import channel_message, personal_conversation_id
from bot.tickets.models import Ticket
from tests.conftest import DANIELLE, LEARNER
from tests.integration.management import (
    MANAGEMENT,
    TOKEN,
    Clock,
    boot_fixture,  # noqa: F401 - the fixture
    database_of,
    open_ticket,
    post,
    set_up_desk,
    settled,
)
from tests.integration.test_vendor_clock import summaries

# Story 17: the checkout goes down at 02:10 UTC and is back at 02:45; the payment with it.
DOWN = datetime(2026, 11, 24, 2, 10, tzinfo=UTC)
UP = datetime(2026, 11, 24, 2, 45, tzinfo=UTC)
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def alert(service: str, fingerprint: str, *, resolved: bool = False) -> dict[str, Any]:
    return {
        "status": "resolved" if resolved else "firing",
        "labels": {"alertname": "ServiceDown", "service": service, "severity": "critical"},
        "annotations": {"summary": f"{service} is down", "description": "Probe failed"},
        "startsAt": "2026-11-24T02:10:00.123456789Z",
        "endsAt": "2026-11-24T02:45:00Z" if resolved else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fingerprint,
    }


def group(*alerts: dict[str, Any]) -> dict[str, Any]:
    firing = any(item["status"] == "firing" for item in alerts)
    return {
        "version": "4",
        "groupKey": '{}:{alertname="ServiceDown"}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "esmbot",
        "groupLabels": {"alertname": "ServiceDown"},
        "commonLabels": {"alertname": "ServiceDown"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


async def deliver(client: Any, body: dict[str, Any], headers: dict[str, str] = BEARER) -> Any:
    response = await client.post("/api/events/alertmanager", json=body, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def incidents(app: Any) -> list[tuple[str, str | None, str, Any, Any]]:
    async with database_of(app).transaction() as session:
        rows = (await session.scalars(select(Ticket).order_by(Ticket.id))).all()
        return [(t.key, t.module, t.status, t.created_at, t.resolved_at) for t in rows]


async def test_two_alerts_open_two_incidents_resolve_them_and_a_replay_changes_nothing(
    boot, connector
):
    clock = Clock(DOWN)
    app, client = await boot(clock, schedule=False)
    await set_up_desk(client, connector)
    firing = group(alert("Checkout", "c6eadffa33fcdf37"), alert("Payment", "0a1b2c3d4e5f6071"))

    await open_ticket(client, "OPS-1", "P3", DOWN - timedelta(hours=1), module="Payment")
    await deliver(client, firing)
    await deliver(client, firing)  # Alertmanager repeats a group until it is resolved
    # Lena writes in about the checkout while it is down.
    await open_ticket(client, "OPS-2", "P2", DOWN + timedelta(minutes=10), module="Checkout")
    clock.now = UP
    resolved = group(
        alert("Checkout", "c6eadffa33fcdf37", resolved=True),
        alert("Payment", "0a1b2c3d4e5f6071", resolved=True),
    )
    await deliver(client, resolved)
    replay = await deliver(client, copy.deepcopy(firing))  # the first delivery, once more
    await deliver(client, copy.deepcopy(resolved))  # and the resolution
    await settled([app])
    # She hears once that the checkout works again; the payment ticket, older, hears nothing.
    lena = personal_conversation_id(LEARNER)
    back = [c.body["summary"] for c in connector.sent(lena) if "works again" in str(c.body)]
    assert back == ["OPS-2: Checkout works again"]

    assert replay["outcome"] == "duplicate"
    found = [row for row in await incidents(app) if row[0].startswith("SR-")]
    assert found == [
        ("SR-1", "Checkout", "resolved", DOWN.replace(microsecond=123456), UP),
        ("SR-2", "Payment", "resolved", DOWN.replace(microsecond=123456), UP),
    ]
    # Availability over the last 7 days, worked out by hand: each service was down from
    # 02:10:00.123456 to 02:45:00, 2,099.876544 s of 604,800 s: 99.6528 %, shown as 99.653 %.
    clock.now = UP + timedelta(days=1)
    ask = channel_message(DANIELLE, "/report week", connector.url, channel="management")
    await post(client, "/api/messages", ask)
    report = connector.sent(MANAGEMENT)[-1].body  # the answer to /report
    lines = report["attachments"][0]["content"]["fallbackText"].splitlines()
    shown = [line for line in lines if line.startswith("Availability of")]
    assert [line.split(" (")[0] for line in shown] == [
        "Availability of Checkout: 99.653 %",
        "Availability of Payment: 99.653 %",
    ], shown
    notices = summaries(connector, MANAGEMENT, "Major incident")
    assert notices == [
        "Major incident SR-1: Checkout is down",
        "Major incident SR-2: Payment is down",
    ]


async def test_a_group_mixing_firing_and_resolved_alerts_is_taken_alert_by_alert(boot, connector):
    clock = Clock(DOWN)
    app, client = await boot(clock, schedule=False)
    await set_up_desk(client, connector)
    await deliver(client, group(alert("Checkout", "c6eadffa33fcdf37")))

    clock.now = UP
    mixed = group(
        alert("Checkout", "c6eadffa33fcdf37", resolved=True), alert("Payment", "0a1b2c3d4e5f6071")
    )
    await deliver(client, mixed)
    await deliver(client, mixed)

    found = await incidents(app)
    assert [(key, module, status) for key, module, status, _, _ in found] == [
        ("SR-1", "Checkout", "resolved"),
        ("SR-2", "Payment", "new"),
    ]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "Basic " + base64.b64encode(b"am:wrong").decode()}, 401),
        ({"Authorization": "Basic " + base64.b64encode(f"am:{TOKEN}".encode()).decode()}, 200),
    ],
)
async def test_bearer_or_basic_auth_is_required(boot, connector, headers, status):
    _, client = await boot(Clock(DOWN), schedule=False)

    response = await client.post(
        "/api/events/alertmanager", json=group(alert("Checkout", "c6")), headers=headers
    )

    assert response.status == status, await response.text()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"version": "3", "alerts": []}, "version 4"),
        ({"version": "4", "alerts": [{"status": "firing"}]}, "alerts/0/fingerprint"),
        (
            {"version": "4", "alerts": [{**alert("Checkout", "c6"), "startsAt": "yesterday"}]},
            "alerts/0/startsAt",
        ),
    ],
)
async def test_a_body_that_is_not_a_v4_notification_is_a_400_naming_the_problem(
    boot, connector, body, problem
):
    app, client = await boot(Clock(DOWN), schedule=False)

    response = await client.post("/api/events/alertmanager", json=body, headers=BEARER)

    assert response.status == 400
    assert problem in (await response.json())["error"]
    assert await incidents(app) == []


async def test_the_digest_shows_the_last_working_days_availability(boot, connector):
    clock = Clock(DOWN)
    app, client = await boot(clock, schedule=False)
    await set_up_desk(client, connector)
    await deliver(client, group(alert("Checkout", "c6eadffa33fcdf37")))
    clock.now = UP
    await deliver(client, group(alert("Checkout", "c6eadffa33fcdf37", resolved=True)))

    clock.now = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # Wednesday 08:00 in Berlin
    await app[SCHEDULER].daily()
    await settled([app])

    # Tuesday in Berlin is 86,400 s; down 2,099.876544 s of it: 97.5697 %.
    [digest] = [c.body for c in connector.sent(MANAGEMENT) if "Digest:" in str(c.body)]
    lines = digest["attachments"][0]["content"]["fallbackText"].splitlines()
    [line] = [line for line in lines if line.startswith("Availability of")]
    assert line.startswith("Availability of Checkout: 97.57"), line
