"""A turn leaves nothing in a reference cycle: what it made is freed as it ends, not in a
pause of the garbage collector that stops every turn in flight."""

from __future__ import annotations

import gc
from collections import Counter

from tests.conftest import LEARNER
from tests.integration.chat import say
from tests.integration.desk import Desk, desk_fixture

__all__ = ["desk_fixture"]

# What one turn is made of; any of them left in a cycle keeps the whole turn alive.
TURN_OBJECTS = frozenset(
    {"TurnContext", "AcyclicTurnContext", "DialogContext", "DialogStateManager", "Activity"}
)


async def _left_in_cycles(desk: Desk, *messages: str) -> Counter[str]:
    """The turn objects the collector finds unreachable after the chat's turns."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for message in messages:
            await say(desk, LEARNER, message)
        gc.collect()
        return Counter(
            type(found).__name__ for found in gc.garbage if type(found).__name__ in TURN_OBJECTS
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


async def test_a_customers_answers_and_lists_leave_no_turn_in_a_cycle(desk: Desk) -> None:
    await say(desk, LEARNER, "checkout fails with an error")  # SR-1 exists after this
    await say(desk, LEARNER, "cancel")
    # The turns a customer takes most. (A turn inside a dialog still leaves one cycle of
    # botbuilder's: a component dialog's inner dialog context and its state manager.)
    left = await _left_in_cycles(desk, "status SR-1", "my tickets", "help", "hello", "SR-1")
    assert left == Counter()
