"""With an app id configured, only activities carrying a valid Bot Framework token get in."""

from __future__ import annotations

import dataclasses

import pytest

from bot.app import create_app
from bot.demo.activities import personal_message
from tests.conftest import LEARNER


@pytest.fixture
async def secured(aiohttp_client, settings, organisation, connector, database):
    secured_settings = dataclasses.replace(
        settings, app_id="00000000-0000-0000-0000-00000000beef", app_password="secret"
    )
    return await aiohttp_client(create_app(secured_settings, organisation))


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0."],
    ids=["missing", "garbage", "basic", "unsigned"],
)
async def test_without_a_valid_token_the_answer_is_401_and_nothing_is_stored(
    secured, connector, database, authorization
):
    headers = {"Authorization": authorization} if authorization else {}

    response = await secured.post(
        "/api/messages", json=personal_message(LEARNER, "hello", connector.url), headers=headers
    )

    assert response.status == 401
    assert (await response.json())["error"] == "missing or invalid Bearer token"
    async with database.transaction() as session:
        from sqlalchemy import text

        assert (await session.execute(text("SELECT count(*) FROM people"))).scalar() == 0
        assert (await session.execute(text("SELECT count(*) FROM conversations"))).scalar() == 0
    assert connector.calls == []
