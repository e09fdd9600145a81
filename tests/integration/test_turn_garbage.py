"""The chat's dialog context leaves no reference cycle behind a turn: what it made is freed as the
turn ends, not in a pause of the garbage collector that stops every turn in flight.

(botbuilder's TurnContext chains its send handlers through a closure that refers to itself, so
the context and its activities still wait for the collector; that part is botbuilder's own.)"""

from __future__ import annotations

import gc
from collections import Counter

from tests.conftest import LEARNER
from tests.integration.chat import say
from tests.integration.desk import Desk, desk_fixture

__all__ = ["desk_fixture"]

# What the chat makes of a turn; left in a cycle, its dialogs and their state go with them.
TURN_OBJECTS = frozenset({"DialogContext", "DialogStateManager"})


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
