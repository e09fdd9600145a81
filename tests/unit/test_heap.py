"""A serving process freezes what start-up built, so that full collections skip it."""

from __future__ import annotations

import gc
import weakref

from bot.heap import YOUNG_THRESHOLD, freeze_startup_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


async def test_what_lives_at_start_up_is_frozen_and_garbage_is_not():
    gc.disable()  # no collection of its own may free the cycle before the hook does
    garbage = _Node()
    garbage.other = _Node()
    garbage.other.other = garbage  # a cycle only a collection frees
    gone = weakref.ref(garbage)
    del garbage
    kept = [_Node() for _ in range(1000)]
    before, thresholds = gc.get_freeze_count(), gc.get_threshold()
    try:
        await freeze_startup_heap(None)  # type: ignore[arg-type]

        assert gc.get_freeze_count() >= before + len(kept)
        assert gone() is None, "the cycle was frozen for ever instead of collected first"
        # The youngest generation waits for many more allocations; the older ones as before.
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *thresholds[1:])
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        gc.enable()
