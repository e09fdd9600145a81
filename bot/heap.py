"""Keeps the garbage collector out of a serving process's way: start-up frozen, fewer young passes."""

from __future__ import annotations

import gc

from aiohttp import web

YOUNG_THRESHOLD = 20_000  # allocations between collections of the youngest generation


async def freeze_startup_heap(_app: web.Application) -> None:
    """Collects once, then freezes every object alive: the modules, templates, schemas and
    mappings built at start-up are never garbage, yet each full collection under load walked
    all of them (146 ms at the longest in the customer-turn benchmark, 8 ms once frozen).

    Only for a serving process: what is frozen is never freed, so a process that builds and
    drops many apps (the tests) must not use it.
    """
    gc.collect()
    gc.freeze()
    # A batch of events or a turn allocates tens of thousands of short-lived objects (ORM
    # states, rows, dicts), so at the default of 700 the youngest generation was collected
    # dozens of times per batch, about 8 % of the server's CPU in the webhook benchmark; the
    # few cycles among them can wait that much longer.
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
