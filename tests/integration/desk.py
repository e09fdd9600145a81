"""A service desk over real HTTP for the command and button tests: channels bound, tickets open.

Import `desk_fixture` into a test module to have the `desk` fixture there. Time stands still at T0 unless a test
moves `desk.clock`, so deadlines read the same on every run.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text

from bot.app import DISPATCHER, TEMPLATES, compiled_templates, create_app
from bot.db import Database
from bot.demo.activities import (
    TeamsUser,
    card_submit,
    channel_conversation_id,
    channel_message,
    installation_update,
    personal_conversation_id,
    personal_message,
)
from bot.demo.connector import ConnectorDouble, Recorded
from bot.directory.models import Person
from bot.notify.compose import Notifier
from bot.notify.dispatcher import DeliverySettings
from bot.notify.render import Renderer
from bot.tickets.actions import TicketActions
from bot.tickets.models import Ticket, TicketEvent
from bot.tickets.system import Draft, LocalStore
from tests.conftest import DANIELLE, LEARNER
from tests.integration.settle import settled

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin
SAM = TeamsUser.named("Sam Agent", "sam@esmos.example", time_zone="America/New_York")
AGENTS = channel_conversation_id("agents")
VENDOR = channel_conversation_id("vendor")
MANAGEMENT = channel_conversation_id("management")
LENA_CHAT = personal_conversation_id(LEARNER)
FAST = DeliverySettings(backoff_base=0.05, backoff_cap=0.2, idle_poll=0.05, max_attempts=4)


@dataclass
class Clock:
    """The desk's time: still, until a test moves it on."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **amount: float) -> None:
        self.now += timedelta(**amount)


@dataclass
class Desk:
    client: TestClient
    connector: ConnectorDouble
    database: Database
    actions: TicketActions
    clock: Clock
    wake: Any

    async def say(self, user: TeamsUser, words: str, *, channel: str | None = None) -> str:
        """Types a command (in a channel with the bot's mention, else in the 1:1 chat); the answer."""
        activity = (
            channel_message(user, words, self.connector.url, channel=channel)
            if channel
            else personal_message(user, words, self.connector.url)
        )
        return await self.post(activity)

    async def post(self, activity: dict[str, Any]) -> str:
        """Sends the activity and returns the bot's answer to it (matched by the activity's id)."""
        conversation = activity["conversation"]["id"]
        response = await self.client.post("/api/messages", json=activity)
        assert response.status == 201, await response.text()
        replies = await self.wait(
            lambda: [
                call for call in self.replies(conversation) if call.activity_id == activity["id"]
            ],
            within=5,
        )
        assert replies, f"no answer in {conversation}"
        return replies[0].text

    async def press(
        self, user: TeamsUser, value: Any, *, channel: str | None = "agents", card: str = "card-1"
    ) -> str:
        activity = card_submit(user, value, self.connector.url, reply_to=card, channel=channel)
        return await self.post(activity)

    def updates(self, card: str = "card-1") -> list[dict[str, Any]]:
        """The cards that replaced the pressed one, oldest first."""
        return [
            call.body["attachments"][0]["content"]
            for call in self.connector.calls
            if call.operation == "update" and call.activity_id == card and call.status < 300
        ]

    def replies(self, conversation: str) -> list[Recorded]:
        """The bot's answers to turns (not its proactive posts), oldest first."""
        return [
            call
            for call in self.connector.calls
            if call.operation == "reply" and call.conversation_id == conversation
        ]

    def cards(self, conversation: str) -> list[dict[str, Any]]:
        """The cards posted to a conversation, oldest first."""
        return [
            call.body["attachments"][0]["content"]
            for call in self.connector.sent(conversation)
            if call.body.get("attachments")
        ]

    async def new_cards(self, conversation: str, count: int, *, after: int) -> list[dict]:
        """Waits for `count` cards beyond the first `after` in the conversation."""
        found = await self.wait(
            lambda: (
                self.cards(conversation)[after:]
                if len(self.cards(conversation)) >= after + count
                else []
            ),
        )
        assert len(found) >= count, f"expected {count} new cards in {conversation}"
        return found

    async def ticket_card(self, key: str) -> str:
        """The activity id of the customer's ticket card for `key`, once it was delivered."""
        sql = (
            "SELECT o.sent_activity_id FROM outbox o JOIN tickets t ON t.id = o.ticket_id"
            " WHERE t.key = :key AND o.template = 'customer/ticket_received' AND o.status = 'sent'"
        )
        card = None
        for _ in range(250):
            if card := await self.scalar(sql, key=key):
                break
            await asyncio.sleep(0.02)
        assert card, f"the ticket card of {key} was not delivered"
        return card

    async def redrawn(self, card: str, count: int, *, after: int = 0) -> list[dict]:
        """Waits for `count` redraws of a posted card beyond the first `after`."""
        found = await self.wait(
            lambda: self.updates(card)[after:] if len(self.updates(card)) >= after + count else []
        )
        assert len(found) >= count, f"expected {count} redraws of {card}"
        return found

    async def quiet(self) -> None:
        """Until the dispatcher has sent everything due and Teams has answered every call."""
        await settled(self.database, self.connector, clock=self.clock)

    async def open(self, summary: str = "Checkout fails with an error", **draft: Any) -> str:
        """Lena's ticket, once her acknowledgement and the agents' card have gone out."""
        lena, agents = len(self.cards(LENA_CHAT)), len(self.cards(AGENTS))
        applied = await self.actions.open(
            Draft(summary=summary, **draft), reporter=await self.person(LEARNER)
        )
        await self.new_cards(LENA_CHAT, 1, after=lena)
        await self.new_cards(AGENTS, 1, after=agents)
        return applied.ticket_key

    async def person(self, user: TeamsUser) -> Person:
        async with self.database.transaction() as session:
            person = await session.scalar(select(Person).where(Person.email == user.email))
        assert person is not None, f"{user.name} has not met the bot"
        return person

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.database.transaction() as session:
            return (await session.execute(text(sql), params)).scalar()

    async def ticket(self, key: str, column: str) -> Any:
        """One column of a ticket, typed as the model types it (times are aware UTC)."""
        async with self.database.transaction() as session:
            return await session.scalar(select(getattr(Ticket, column)).where(Ticket.key == key))

    async def events(self, key: str) -> list[TicketEvent]:
        async with self.database.transaction() as session:
            found = await session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_key == key).order_by(TicketEvent.id)
            )
            return list(found)

    @staticmethod
    async def wait(probe: Any, *, within: float = 5.0) -> Any:
        deadline = time.monotonic() + within
        while True:
            answer = probe()
            if answer or time.monotonic() > deadline:
                return answer
            await asyncio.sleep(0.02)


@pytest.fixture(name="desk")
async def desk_fixture(connector, database, aiohttp_client, settings, organisation) -> Desk:
    """Lena has the app; the agents', vendor and management channels are bound; Sam is in the
    team's roster but has never written to the bot."""
    return await build_desk(connector, database, aiohttp_client, settings, organisation)


async def build_desk(
    connector, database, aiohttp_client, settings, organisation, **options
) -> Desk:  # type: ignore[no-untyped-def]
    """The desk of `desk_fixture`, for tests that need other settings (Jira, say) or other
    parts of the app (`options` for create_app)."""
    clock = Clock()
    connector.add_member(SAM.id, name=SAM.name, email=SAM.email, aad_object_id=SAM.aad_object_id)
    # Time moves by hand here: the scheduler's jobs, run on the wall clock's beat against this
    # clock, would post a digest or report whenever they got to it. Tests sweep themselves.
    app = create_app(settings, organisation, clock=clock, delivery=FAST, schedule=False, **options)
    client = await aiohttp_client(app)
    notifier = Notifier(
        Renderer(
            TEMPLATES,
            organisation.default_locale,
            organisation.time_zone,
            compiled=compiled_templates(settings),
        ),
        organisation,
        clock=clock,
    )
    actions = TicketActions(
        database=database,
        system=LocalStore(),
        organisation=organisation,
        clock=clock,
        notifier=notifier,
        on_commit=app[DISPATCHER].wake,
    )
    desk = Desk(client, connector, database, actions, clock, app[DISPATCHER].wake)
    await desk.post(installation_update(LEARNER, connector.url))
    for audience in ("agents", "vendor", "management"):
        await desk.say(DANIELLE, f"/subscribe {audience}", channel=audience)
    return desk


def mention(activity: dict[str, Any], user: TeamsUser) -> dict[str, Any]:
    """Adds the entity Teams sends for an `<at>Name</at>` of `user` in the activity's text."""
    activity["entities"].append(
        {
            "type": "mention",
            "text": f"<at>{user.name}</at>",
            "mentioned": {"id": user.id, "name": user.name},
        }
    )
    return activity


def fallback(card: dict[str, Any]) -> str:
    return card.get("fallbackText", "")
