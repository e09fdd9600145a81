"""Replicas of the bot on one database with a clock moved by hand, for the management reports.

Import `boot_fixture` into a test module to have the `boot` fixture there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import DISPATCHER, SCHEDULER, create_app
from bot.db import Database
from bot.demo.activities import channel_conversation_id, channel_message, installation_update
from bot.notify.dispatcher import DeliverySettings
from bot.notify.models import OutboxMessage
from tests.conftest import DANIELLE, LEARNER

TOKEN = "reports-token"
MANAGEMENT = channel_conversation_id("management")
QUICK = DeliverySettings(idle_poll=0.05, backoff_base=0.05, backoff_cap=0.2)


class Clock:
    """Wall time the test moves by hand, shared by every replica."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment of 2026 in UTC (Berlin is an hour ahead in November)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(name="boot")
def boot_fixture(aiohttp_client, settings, organisation):  # type: ignore[no-untyped-def]
    """Starts a replica of the bot on the test's database, with the given clock."""
    secured = dataclasses.replace(settings, api_token=TOKEN)

    started = itertools.count(1)

    async def start(clock: Clock, **options: Any) -> tuple[Any, Any]:
        # Each a replica of its own, as if on another host (they share this process).
        replica = dataclasses.replace(secured, replica_name=f"replica-{next(started)}")
        app = create_app(replica, organisation, clock=clock, delivery=QUICK, **options)
        client = await aiohttp_client(app)
        if options.get("dispatch", True):
            # Announced before the next replica starts: two that announce themselves at once
            # each find the other and both wait out a newcomer's settling time (6 s) first.
            sharing = app[DISPATCHER].replicas
            async with asyncio.timeout(5):
                while True:
                    if sharing.fresh(time.monotonic()):
                        break
                    await asyncio.sleep(0.01)
        return app, client

    return start


async def post(client: Any, path: str, body: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if path == "/api/events" else {}
    response = await client.post(path, json=body, headers=headers)
    assert response.status in (200, 201), await response.text()


async def set_up_desk(client: Any, connector: Any) -> None:
    """Lena has installed the bot; Danielle bound the agents' and the management channel."""
    await post(client, "/api/messages", installation_update(LEARNER, connector.url))
    for audience in ("agents", "management"):
        subscribe = channel_message(
            DANIELLE, f"/subscribe {audience}", connector.url, channel=audience
        )
        await post(client, "/api/messages", subscribe)


async def event(client: Any, event_id: str, kind: str, when: datetime, **ticket: Any) -> None:
    """A ticket event through the generic event API, as it happened at `when`."""
    body = {"id": event_id, "type": kind, "occurred_at": when.isoformat(), "ticket": ticket}
    await post(client, "/api/events", body)


async def open_ticket(client: Any, key: str, priority: str, when: datetime, **fields: Any) -> None:
    ticket = {"key": key, "summary": f"Checkout fails ({key})", "priority": priority,
              "reporter": {"email": LEARNER.email}, **fields}  # fmt: skip
    await event(client, f"open-{key}", "created", when, **ticket)


def database_of(app: Any) -> Database:
    return app[SCHEDULER]._database


async def outbox(app: Any) -> list[OutboxMessage]:
    async with database_of(app).transaction() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def dedupe_keys(app: Any, prefix: str) -> list[str]:
    """The outbox rows' keys that start with `prefix` (digest:, weekly:), oldest first."""
    return [row.dedupe_key for row in await outbox(app) if row.dedupe_key.startswith(prefix)]


async def settled(apps: list[Any], within: float = 20.0) -> list[OutboxMessage]:
    """Waits until no outbox row is left to deliver (each sent, or failed for a reason the desk
    is told of, such as nobody to reach); returns them all."""
    async with asyncio.timeout(within):
        while True:
            rows = await outbox(apps[0])
            if all(row.status in ("sent", "failed") for row in rows):
                return rows
            await asyncio.sleep(0.05)


def walk(node: Any) -> list[dict[str, Any]]:
    """Every object in a card, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for item in node:
            found += walk(item)
    return found
