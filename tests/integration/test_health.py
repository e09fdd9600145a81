"""Liveness and readiness over real HTTP."""

from __future__ import annotations

import dataclasses

from bot.app import create_app
from bot.demo.activities import channel_message
from tests.conftest import DANIELLE


async def test_healthz_answers_ok(bot):
    response = await bot.client.get("/healthz")

    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(bot):
    response = await bot.client.get("/readyz")

    assert response.status == 200
    assert (await response.json())["database"] == "ok"


async def test_readyz_is_503_when_the_database_is_unreachable(
    aiohttp_client, settings, organisation
):
    broken = dataclasses.replace(
        settings, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none"
    )
    client = await aiohttp_client(create_app(broken, organisation))

    response = await client.get("/readyz")

    assert response.status == 503
    assert await response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_an_unknown_path_is_a_json_404(bot):
    response = await bot.client.get("/nowhere")

    assert response.status == 404
    assert (await response.json())["error"] == "Not Found"


async def test_readyz_names_the_audiences_without_a_channel_and_stays_ready(bot):
    response = await bot.client.get("/readyz")

    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["unbound_audiences"] == ["agents", "management", "vendor"]

    await bot.post(
        channel_message(DANIELLE, "/subscribe agents", bot.connector.url, channel="agents")
    )
    body = await (await bot.client.get("/readyz")).json()
    assert body["unbound_audiences"] == ["management", "vendor"]


async def test_start_up_warns_of_each_audience_without_a_channel(
    aiohttp_client, settings, organisation, caplog
):
    caplog.set_level("WARNING", logger="bot.app")

    deployed = dataclasses.replace(settings, app_id="00000000-0000-0000-0000-00000000beef",
                                   app_password="secret")  # fmt: skip
    await aiohttp_client(create_app(deployed, organisation, dispatch=False, schedule=False))

    warned = [r.audience for r in caplog.records if r.getMessage().startswith("no channel")]
    assert warned == ["agents", "management", "vendor"]
