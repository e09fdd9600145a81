"""A status turn reads its sender, her chat and its dialog state in one transaction (story 1)."""

from __future__ import annotations

from tests.conftest import LEARNER
from tests.integration.chat import in_the_turn, say
from tests.integration.desk import Desk, desk_fixture

__all__ = ["desk_fixture"]


async def test_a_status_turn_takes_two_transactions(desk: Desk) -> None:
    key = await desk.open("Checkout fails")
    await say(desk, LEARNER, f"status {key}")  # she and her chat are known from here on
    begun: list[str] = []

    with in_the_turn(desk, "begin", lambda _connection: begun.append("begin")):
        answered = await say(desk, LEARNER, f"status {key}")

    assert key in answered.text
    # Her, her chat and the dialog state in one; the ticket and its story in the other.
    assert len(begun) == 2
