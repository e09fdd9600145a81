"""Bot replicas as far as delivery goes, on one database, and the planned-outage rows they deliver."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import TEMPLATES
from bot.config import Organisation, Settings
from bot.db import Database, utcnow
from bot.demo.activities import BOT_ID, BOT_NAME, TENANT_ID
from bot.directory.models import Conversation
from bot.notify.compose import Notifier
from bot.notify.delivery import Send
from bot.notify.dispatcher import DeliverySettings, Dispatcher
from bot.notify.models import OutboxMessage
from bot.notify.pacing import CONVERSATION_WINDOWS, Pacer, Window
from bot.notify.render import Renderer
from bot.notify.replicas import Replicas, ReplicaSettings
from bot.teams.adapter import create_adapter, create_authentication
from bot.teams.sender import TeamsSender

# Far above Teams' 30/s so that a test can measure the dispatchers, not the pacing.
FAST_TENANT = (Window(1, 5_000),)
QUICK = DeliverySettings(in_flight=16, idle_poll=0.05, backoff_base=0.05, backoff_cap=0.2)


@dataclass
class Replica:
    """One bot process as far as delivery goes: its own engine, adapter, sender and pacer."""

    dispatcher: Dispatcher
    database: Database
    delivered: int = 0


def build_replica(
    settings: Settings,
    organisation: Organisation,
    name: str,
    *,
    clock: Callable[[], datetime] = utcnow,
    delivery: DeliverySettings = QUICK,
    send: Callable[[TeamsSender], Send] | None = None,
    tenant: tuple[Window, ...] = FAST_TENANT,
    conversation: tuple[Window, ...] = CONVERSATION_WINDOWS,
    sharing: ReplicaSettings | None = None,
) -> Replica:
    """Put together as bot/app.py does it, with a counter on the way out.

    With `sharing` the replica counts the others on the database and paces to its share of
    the limits, as the app's dispatcher does; without, it paces as if it were alone.
    """
    database = Database(settings.database_url)
    renderer = Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone)
    notifier = Notifier(renderer, organisation)
    sender = TeamsSender(create_adapter(create_authentication(settings), renderer), settings.app_id)
    replica = Replica(dispatcher=None, database=database)  # type: ignore[arg-type]
    outgoing = send(sender) if send else sender.send

    async def counted(reference: dict[str, Any], activity: dict[str, Any], replaces: str | None):
        sent = await outgoing(reference, activity, replaces)
        replica.delivered += 1
        return sent

    pacer = Pacer(conversation_windows=conversation, tenant_windows=tenant)
    replica.dispatcher = Dispatcher(
        database=database,
        send=counted,
        reopen=sender.reopen,
        notifier=notifier,
        clock=clock,
        settings=delivery,
        pacer=pacer,
        name=name,
        replicas=None if sharing is None else Replicas(database, pacer, name, clock, sharing),
    )
    return replica


@pytest.fixture
async def replicas(settings, organisation) -> AsyncIterator[Callable[..., Replica]]:
    built: list[Replica] = []

    def build(name: str, **options: Any) -> Replica:
        built.append(build_replica(settings, organisation, name, **options))
        return built[-1]

    yield build
    for replica in built:
        replica.dispatcher.stop()
        await replica.database.close()


def personal_chat(number: int, service_url: str) -> Conversation:
    conversation_id = f"a:personal-{number:05d}"
    user = {"id": f"29:user-{number:05d}", "name": f"Customer {number}"}
    return Conversation(
        conversation_id=conversation_id,
        scope="personal",
        tenant_id=TENANT_ID,
        service_url=service_url,
        reference={
            "activityId": None,
            "user": user,
            "bot": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {
                "id": conversation_id,
                "conversationType": "personal",
                "tenantId": TENANT_ID,
            },
            "channelId": "msteams",
            "serviceUrl": service_url,
        },
    )


async def seed(
    database: Database, count: int, service_url: str, per_chat: int = 1
) -> dict[str, int]:
    """`count` chats with `per_chat` planned-outage notices each; returns chat id → last row id."""
    async with database.transaction() as session:
        chats = [personal_chat(number, service_url) for number in range(count)]
        session.add_all(chats)
        await session.flush()
        rows = [
            OutboxMessage(
                dedupe_key=f"outage-{notice}:{chat.id}",
                conversation_id=chat.id,
                audience="customer",
                template="customer/planned_outage",
                activity={"type": "message", "text": f"Planned outage {notice}, notice {chat.id}"},
                broadcast_id=f"outage-{notice}",
            )
            for notice in range(7, 7 + per_chat)
            for chat in chats
        ]
        session.add_all(rows)
        await session.flush()
        return {
            chat.conversation_id: row.id for chat, row in zip(chats, rows[-count:], strict=True)
        }


async def statuses(database: Database) -> Counter[str]:
    async with database.transaction() as session:
        found = await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return Counter({status: count for status, count in found.all()})
