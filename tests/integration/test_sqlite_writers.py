"""On SQLite the process's transactions take the one write lock in turn, in the order they began."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.db import Database


async def test_transactions_that_meet_take_the_write_lock_in_order(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/writers.db")

    async def write(number: int) -> None:
        async with database.transaction() as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
            await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": number})
            await asyncio.sleep(0.01)  # holds the write lock while the others arrive

    try:
        tasks = []
        for number in range(12):
            tasks.append(asyncio.create_task(write(number)))
            await asyncio.sleep(0.001)  # each asks for the lock after the one before
        await asyncio.gather(*tasks)
        async with database.transaction() as session:
            stored = (await session.execute(text("SELECT n FROM t ORDER BY rowid"))).scalars()
            rows = list(stored)
    finally:
        await database.close()

    # Left to SQLite's busy handler, waiting writers wake in no order and seconds can pass.
    assert rows == list(range(12))
