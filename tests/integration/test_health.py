"""Liveness and readiness over real HTTP."""

from __future__ import annotations

import dataclasses

from bot.app import create_app


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
