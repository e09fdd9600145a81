"""Reporters named only by a Jira account id, looked up in Jira after the webhook was answered."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.app import ACCOUNTS, DATABASE, create_app
from bot.db import Database
from bot.demo.activities import (
    channel_conversation_id,
    channel_message,
    installation_update,
    personal_conversation_id,
)
from bot.events.accounts import AccountLookup, LookupSettings
from bot.events.jira_client import JiraClient
from bot.notify.dispatcher import DeliverySettings
from bot.notify.metrics import Metrics
from bot.tickets.events import PersonRef
from tests import jira_payloads as jp
from tests.conftest import DANIELLE, LEARNER
from tests.doubles.jira import JiraDouble
from tests.integration.chat import said
from tests.integration.settle import settled

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ACCOUNT = "712020:0f1e2d3c-lena"
LENA = jp.user("Lena Learner", account_id=ACCOUNT)  # no e-mail, as modern payloads have it
LENA_CHAT = personal_conversation_id(LEARNER)
RECEIVED = "customer/ticket_received"
FAST = DeliverySettings(backoff_base=0.05, backoff_cap=0.2, idle_poll=0.05, max_attempts=2)
QUICK = LookupSettings(timeout=1.0, attempts=1)


@pytest.fixture
async def jira() -> AsyncIterator[JiraDouble]:
    double = JiraDouble()
    await double.start()
    yield double
    await double.close()


@dataclasses.dataclass
class Desk:
    """The running bot over real HTTP and the Jira it asks."""

    client: TestClient
    jira: JiraDouble

    @property
    def accounts(self) -> AccountLookup:
        return self.client.server.app[ACCOUNTS]

    @property
    def database(self) -> Database:
        return self.client.server.app[DATABASE]

    async def webhook(self, payload: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post("/api/events/jira", json=payload)
        assert response.status == 200, await response.text()
        return await response.json()

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.database.transaction() as session:
            return (await session.execute(text(sql), params)).scalar()

    async def unmatched_total(self) -> float:
        response = await self.client.get("/metrics")
        for family in text_string_to_metric_families(await response.text()):
            for sample in family.samples:
                if sample.name == "esmbot_reporters_unmatched_total":
                    return sample.value
        raise AssertionError("esmbot_reporters_unmatched_total is not exposed")

    def lookups(self) -> int:
        return len(self.jira.calls_to("get_user"))


async def open_desk(
    aiohttp_client, settings, organisation, connector, jira, *, lookups=QUICK, accounts=None
) -> Desk:
    """The bot with Jira credentials, and Lena met in Teams (her chat known, her e-mail too)."""
    configured = dataclasses.replace(
        settings,
        jira_base_url=jira.url,
        jira_user_email=jira.email,
        jira_api_token=jira.api_token,
        jira_project_key=jira.project_key,
    )
    if accounts is not None:
        organisation = dataclasses.replace(
            organisation, jira=dataclasses.replace(organisation.jira, accounts=accounts)
        )
    client = await aiohttp_client(
        create_app(configured, organisation, delivery=FAST, lookups=lookups)
    )
    response = await client.post("/api/messages", json=installation_update(LEARNER, connector.url))
    assert response.status == 201
    await connector.wait_for(1, LENA_CHAT)
    return Desk(client, jira)


def created(key: str, at: datetime = T0) -> dict[str, Any]:
    return jp.created(jp.issue(key, reporter=LENA), at=at)


async def reporter_email(desk: Desk, key: str) -> str | None:
    return await desk.scalar(
        "SELECT p.email FROM tickets t JOIN people p ON p.id = t.reporter_id WHERE t.key = :k",
        k=key,
    )


async def test_an_account_jira_knows_meets_the_person_from_teams_and_hears_of_the_ticket(
    aiohttp_client, settings, organisation, connector, jira
):
    jira.add_user(ACCOUNT, "Lena Learner", email="Lena.Learner@esmos.example")
    desk = await open_desk(aiohttp_client, settings, organisation, connector, jira)

    body = await desk.webhook(created("SR-31"))
    await desk.accounts.settled()

    assert body["outcome"] == "applied"
    assert await reporter_email(desk, "SR-31") == LEARNER.email
    assert await desk.scalar("SELECT reporter_unmatched FROM tickets") is None
    assert (
        await desk.scalar("SELECT jira_account_id FROM people WHERE email = :e", e=LEARNER.email)
        == ACCOUNT
    )
    sent = await connector.wait_for(2, LENA_CHAT)
    assert "SR-31" in said(sent[-1])
    assert await desk.scalar("SELECT count(*) FROM outbox WHERE template = :t", t=RECEIVED) == 1
    # Remembered on the person: the next event matches at once, without asking Jira again.
    await desk.webhook(created("SR-32", at=T0 + timedelta(minutes=1)))
    await desk.accounts.settled()
    assert await reporter_email(desk, "SR-32") == LEARNER.email
    assert desk.lookups() == 1
    assert await desk.unmatched_total() == 0
    await connector.wait_for(3, LENA_CHAT)
    await settled(desk.database, connector)
    assert len(connector.sent(LENA_CHAT)) == 3  # one card per ticket, none twice


async def test_a_hidden_email_is_filled_in_from_the_account_table(
    aiohttp_client, settings, organisation, connector, jira
):
    jira.add_user(ACCOUNT, "Lena Learner")  # privacy settings hide her address
    desk = await open_desk(
        aiohttp_client, settings, organisation, connector, jira, accounts={ACCOUNT: LEARNER.email}
    )

    await desk.webhook(created("SR-33"))
    await desk.accounts.settled()

    assert await reporter_email(desk, "SR-33") == LEARNER.email
    await connector.wait_for(2, LENA_CHAT)
    # esmbot.toml says whose account it is: Jira, which would not say, is not asked.
    assert desk.lookups() == 0
    assert await desk.unmatched_total() == 0


async def test_a_hidden_account_without_a_table_entry_stays_unmatched_and_is_counted(
    aiohttp_client, settings, organisation, connector, jira
):
    jira.add_user(ACCOUNT, "Lena Learner")
    desk = await open_desk(aiohttp_client, settings, organisation, connector, jira)

    first = await desk.webhook(created("SR-34"))
    await desk.accounts.settled()
    second = await desk.webhook(
        jp.moved(
            jp.issue("SR-34", reporter=LENA), "To Do", "In Progress", at=T0 + timedelta(hours=1)
        )
    )
    await desk.accounts.settled()

    assert first["outcome"] == second["outcome"] == "applied"
    assert await desk.scalar("SELECT reporter_id FROM tickets WHERE key = 'SR-34'") is None
    assert await desk.scalar("SELECT reporter_unmatched FROM tickets") == ACCOUNT
    assert await desk.scalar("SELECT status FROM tickets") == "in_progress"
    assert await desk.unmatched_total() == 2
    assert desk.lookups() == 1
    assert await desk.scalar("SELECT jira_account_id FROM people") is None
    await settled(desk.database, connector)
    assert len(connector.sent(LENA_CHAT)) == 1  # only the welcome: nothing reached a stranger


@pytest.mark.parametrize("outage", ["500", "timeout"])
async def test_a_jira_outage_loses_nothing_and_a_later_event_links_the_reporter(
    aiohttp_client, settings, organisation, connector, jira, outage
):
    jira.add_user(ACCOUNT, "Lena Learner", email=LEARNER.email)
    if outage == "500":
        jira.fail(500, operation="get_user")
    else:
        jira.stall(10, operation="get_user")
    # Failures are believed for no time here, so that the next event asks again.
    lookups = dataclasses.replace(QUICK, failed_seconds=0)
    desk = await open_desk(aiohttp_client, settings, organisation, connector, jira, lookups=lookups)

    started = time.monotonic()
    body = await desk.webhook(created("SR-35"))
    answered = time.monotonic() - started
    await desk.accounts.settled()

    assert body["outcome"] == "applied"
    assert answered < QUICK.timeout  # the answer never waited for Jira
    assert await desk.scalar("SELECT count(*) FROM ticket_events WHERE ticket_key = 'SR-35'") == 1
    assert await desk.scalar("SELECT reporter_unmatched FROM tickets") == ACCOUNT
    assert await desk.unmatched_total() == 1

    await desk.webhook(created("SR-36", at=T0 + timedelta(minutes=5)))
    await desk.accounts.settled()

    assert await reporter_email(desk, "SR-35") == LEARNER.email
    assert await reporter_email(desk, "SR-36") == LEARNER.email
    assert await desk.unmatched_total() == 1
    sent = await connector.wait_for(3, LENA_CHAT)
    assert all(any(key in said(call) for call in sent) for key in ("SR-35", "SR-36"))


async def test_fifty_events_for_one_hidden_account_ask_jira_once(
    aiohttp_client, settings, organisation, connector, jira
):
    jira.add_user(ACCOUNT, "Lena Learner")
    desk = await open_desk(aiohttp_client, settings, organisation, connector, jira)

    bodies = []
    for wave in range(2):  # the second wave comes after the first one's answer is in
        bodies += await asyncio.gather(
            *(
                desk.webhook(created(f"SR-{100 + n}", at=T0 + timedelta(seconds=n)))
                for n in range(wave * 25, wave * 25 + 25)
            )
        )
        await desk.accounts.settled()

    assert {body["outcome"] for body in bodies} == {"applied"}
    assert desk.lookups() == 1
    assert (
        await desk.scalar("SELECT count(*) FROM tickets WHERE reporter_unmatched = :a", a=ACCOUNT)
        == 50
    )
    assert await desk.unmatched_total() == 50


async def test_answers_are_kept_for_their_time_and_then_asked_again(database, jira):
    """The cache on its own clock: a hidden account is asked about once per `hidden_seconds`."""
    jira.add_user(ACCOUNT, "Lena Learner")
    now = [1000.0]
    metrics = Metrics()
    lookup = AccountLookup(
        database=database,
        client=JiraClient(jira.url, jira.email, jira.api_token, max_attempts=1),
        metrics=metrics,
        settings=dataclasses.replace(QUICK, hidden_seconds=600),
        monotonic=lambda: now[0],
    )
    reporter = PersonRef(name="Lena Learner", jira_account_id=ACCOUNT)
    try:
        for _ in range(5):
            lookup.unmatched([reporter])
            await lookup.settled()
        now[0] += 599
        lookup.unmatched([reporter])
        await lookup.settled()
        assert len(jira.calls_to("get_user")) == 1

        now[0] += 2
        lookup.unmatched([reporter])
        await lookup.settled()
        assert len(jira.calls_to("get_user")) == 2
    finally:
        await lookup.close()


async def test_an_account_whose_email_nobody_has_met_is_told_of_to_the_desk(
    aiohttp_client, settings, organisation, connector, jira
):
    """Story 12 without Graph on Jira Cloud, whose payloads carry only the account id."""
    frank = "712020:0f1e2d3c-frank"
    jira.add_user(frank, "Frank Forgetful", email="Frank.Forgetful@esmos.example")
    desk = await open_desk(aiohttp_client, settings, organisation, connector, jira)
    agents = channel_message(DANIELLE, "/subscribe agents", connector.url, channel="agents")
    assert (await desk.client.post("/api/messages", json=agents)).status == 201

    await desk.webhook(jp.created(jp.issue("SR-35", reporter=jp.user("Frank", account_id=frank)),
                                  at=T0))  # fmt: skip
    await desk.accounts.settled()
    await settled(desk.database, connector)

    assert await desk.scalar("SELECT reporter_unmatched FROM tickets") == (
        "frank.forgetful@esmos.example"
    )
    assert (
        await desk.scalar(
            "SELECT last_error FROM outbox WHERE template = :t AND address IS NOT NULL", t=RECEIVED
        )
        == "no_graph"
    )
    told = [
        call for call in connector.sent(channel_conversation_id("agents"))
        if "frank.forgetful@esmos.example" in str(call.body)
        and "Someone could not be reached" in str(call.body)
    ]  # fmt: skip
    assert len(told) == 1
