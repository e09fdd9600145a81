"""Outside local mode the Jira webhook takes only signed deliveries or ones with the URL token."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_app
from tests import jira_payloads as jp

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LENA = jp.user("Lena Learner", account_id="5f1a0000000000000000aaaa")
TOKEN = "tok-9f8e7d6c5b4a"
PRODUCTION = {"app_id": "00000000-0000-0000-0000-00000000beef", "app_password": "secret"}


async def _client(aiohttp_client, settings, organisation, **fields) -> TestClient:
    return await aiohttp_client(
        create_app(dataclasses.replace(settings, **fields), organisation, dispatch=False)
    )


async def _count(database, sql: str) -> int:
    from sqlalchemy import text

    async with database.transaction() as session:
        return (await session.execute(text(sql))).scalar()


async def _refused_total(client: TestClient) -> float:
    body = await (await client.get("/metrics")).text()
    line = 'esmbot_webhook_events_total{outcome="refused",source="jira"} '
    found = [row for row in body.splitlines() if row.startswith(line)]
    return float(found[0].removeprefix(line)) if found else 0.0


async def test_in_production_without_secret_or_token_every_delivery_is_refused(
    aiohttp_client, settings, organisation, database, connector
):
    client = await _client(aiohttp_client, settings, organisation, **PRODUCTION)

    response = await client.post(
        "/api/events/jira", json=jp.created(jp.issue("SR-40", reporter=LENA), at=T0)
    )

    assert response.status == 401
    error = (await response.json())["error"]
    assert "JIRA_WEBHOOK_SECRET" in error and "JIRA_WEBHOOK_TOKEN" in error
    assert await _count(database, "SELECT count(*) FROM tickets") == 0
    assert await _refused_total(client) == 1


@pytest.mark.parametrize("query", ["", "?token=", "?token=tok-9f8e7d6c5b4b", "?tok=" + TOKEN])
async def test_a_missing_or_wrong_url_token_is_refused(
    aiohttp_client, settings, organisation, database, connector, caplog, query
):
    client = await _client(
        aiohttp_client, settings, organisation, jira_webhook_token=TOKEN, **PRODUCTION
    )
    caplog.set_level(logging.DEBUG, logger="bot")

    response = await client.post(
        "/api/events/jira" + query, json=jp.created(jp.issue("SR-41", reporter=LENA), at=T0)
    )

    assert response.status == 401
    assert "?token=" in (await response.json())["error"]
    assert await _count(database, "SELECT count(*) FROM tickets") == 0
    assert await _refused_total(client) == 1
    assert any("refused a Jira webhook" in r.getMessage() for r in caplog.records)
    assert TOKEN not in caplog.text and "tok-9f8e7d6c5b4b" not in caplog.text


async def test_the_right_url_token_lets_the_delivery_in_and_is_not_logged(
    aiohttp_client, settings, organisation, database, connector, caplog
):
    client = await _client(
        aiohttp_client, settings, organisation, jira_webhook_token=TOKEN, **PRODUCTION
    )
    caplog.set_level(logging.DEBUG, logger="bot")

    response = await client.post(
        f"/api/events/jira?token={TOKEN}",
        json=jp.created(jp.issue("SR-42", reporter=LENA), at=T0),
    )

    assert response.status == 200, await response.text()
    assert (await response.json())["outcome"] == "applied"
    assert TOKEN not in caplog.text
    assert all(TOKEN not in json.dumps(r.__dict__, default=str) for r in caplog.records)


async def test_with_both_set_a_signature_alone_is_enough(
    aiohttp_client, settings, organisation, database, connector
):
    import hashlib
    import hmac

    client = await _client(
        aiohttp_client,
        settings,
        organisation,
        jira_webhook_token=TOKEN,
        jira_webhook_secret="s3cret",
        **PRODUCTION,
    )
    raw = json.dumps(jp.created(jp.issue("SR-43", reporter=LENA), at=T0)).encode()
    signature = "sha256=" + hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()

    response = await client.post(
        "/api/events/jira",
        data=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature": signature},
    )

    assert response.status == 200, await response.text()


async def test_local_mode_without_secret_or_token_stays_open(
    aiohttp_client, settings, organisation, database, connector
):
    client = await _client(aiohttp_client, settings, organisation)

    response = await client.post(
        "/api/events/jira", json=jp.created(jp.issue("SR-44", reporter=LENA), at=T0)
    )

    assert response.status == 200, await response.text()
