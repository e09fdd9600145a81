"""On SQLite the process's transactions take the one write lock in turn, in the order they began."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.db import Database, WriterQueue


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


async def test_a_transaction_inside_the_tasks_own_goes_ahead(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/nested.db")
    try:
        async with asyncio.timeout(5):  # a queue that waited on itself would hang here
            async with database.transaction() as outer:
                async with database.transaction() as inner:
                    await inner.execute(text("CREATE TABLE t (n INTEGER)"))
                await outer.execute(text("INSERT INTO t VALUES (1)"))
        async with database.transaction() as session:
            assert (await session.execute(text("SELECT n FROM t"))).scalar() == 1
    finally:
        await database.close()


async def test_a_task_waiting_on_the_holder_is_let_through_after_a_while(
    tmp_path, monkeypatch, writer_waits
):
    monkeypatch.setattr(WriterQueue, "WAIT_SECONDS", 0.2)
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/waiting.db")

    async def other() -> int:
        async with database.transaction() as session:
            return (await session.execute(text("SELECT 41 + 1"))).scalar_one()

    try:
        async with asyncio.timeout(5):
            async with database.transaction():  # holds the queue, has not begun in SQLite yet
                answer = await asyncio.create_task(other())
    finally:
        await database.close()

    assert answer == 42
    assert writer_waits == ["a transaction waited 0.2 s for the SQLite writer"]
    writer_waits.clear()  # seen: the autouse check must not fail this test
