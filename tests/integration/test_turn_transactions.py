"""A status turn reads its sender, her chat and its dialog state in one transaction (story 1)."""

from __future__ import annotations

import asyncio

from sqlalchemy import event

from bot.app import DATABASE
from tests.conftest import LEARNER
from tests.integration.chat import say
from tests.integration.desk import Desk, desk_fixture

__all__ = ["desk_fixture"]


async def test_a_status_turn_takes_two_transactions(desk: Desk) -> None:
    key = await desk.open("Checkout fails")
    await say(desk, LEARNER, f"status {key}")  # she and her chat are known from here on
    begun: list[str] = []

    def begin(_connection) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.current_task()
        # The dispatcher works beside the turn, in a task of its own.
        if task is not None and task.get_coro().__qualname__ == "RequestHandler._handle_request":
            begun.append("begin")

    engine = desk.client.app[DATABASE].engine.sync_engine
    event.listen(engine, "begin", begin)
    try:
        answered = await say(desk, LEARNER, f"status {key}")
    finally:
        event.remove(engine, "begin", begin)

    assert key in answered.text
    # Her, her chat and the dialog state in one; the ticket and its story in the other.
    assert len(begun) == 2
