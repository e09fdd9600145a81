"""SQLite runs on the loop's thread, yet the loop goes on while another connection holds the lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot import sqlite_inline
from bot.db import Database, create_engine


async def _ticks_while(work: asyncio.Future[object] | asyncio.Task[object]) -> int:
    """How many times a 1 ms ticker ran on the loop while `work` was unfinished."""
    ticks = 0
    while not work.done():
        await asyncio.sleep(0.001)
        ticks += 1
    return ticks


async def test_statements_run_on_the_loops_own_thread(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/thread.db")
    seen: list[int] = []
    try:
        async with database.transaction() as session:
            connection = await session.connection()
            raw = await connection.get_raw_connection()
            raw.driver_connection.create_function(  # type: ignore[union-attr]
                "thread_id", 0, lambda: seen.append(threading.get_ident()) or 1
            )
            await session.execute(text("SELECT thread_id()"))
    finally:
        await database.close()

    assert seen == [threading.get_ident()]


async def test_waiting_for_another_connections_lock_leaves_the_loop_free(tmp_path):
    path = tmp_path / "locked.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    # Another process, as far as SQLite can tell: a connection of its own holding the write lock.
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (n INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")

    async def write() -> list[int]:
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO t VALUES (2)"))
        async with database.transaction() as session:
            return list((await session.execute(text("SELECT n FROM t ORDER BY n"))).scalars())

    try:
        writing = asyncio.create_task(write())
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, holder.execute, "COMMIT")
        ticks = await _ticks_while(writing)
        rows = await writing
    finally:
        holder.close()
        await database.close()

    assert rows == [1, 2]
    # 300 ms of waiting: a loop blocked in SQLite's busy handler would have ticked about never.
    assert ticks > 50


async def test_a_new_connection_waits_out_another_processs_exclusive_lock(tmp_path):
    # Serving processes open connections while another may hold the file exclusively (one
    # opening it after the last connection closed, or a migration): the connection's setup
    # waits, asleep on the loop, rather than fail the request or job that asked for it.
    path = tmp_path / "exclusive.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (n INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES (1)")
    database = Database(f"sqlite+aiosqlite:///{path}")

    async def read() -> list[int]:
        async with database.reading() as session:
            return list((await session.execute(text("SELECT n FROM t"))).scalars())

    try:
        reading = asyncio.create_task(read())
        asyncio.get_running_loop().call_later(0.3, holder.execute, "COMMIT")
        ticks = await _ticks_while(reading)
        rows = await reading
    finally:
        holder.close()
        await database.close()

    assert rows == [1]
    assert ticks > 50


async def test_a_lock_never_released_ends_in_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_inline, "LOCK_WAIT_SECONDS", 0.2)
    path = tmp_path / "stuck.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            async with asyncio.timeout(5), database.transaction() as session:
                await session.execute(text("SELECT 1"))
    finally:
        holder.close()
        await database.close()


async def test_a_long_transaction_lets_other_work_run_between_its_statements(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/long.db")

    async def many_statements() -> None:
        async with database.transaction() as session:
            await session.execute(text("CREATE TABLE t (n INTEGER)"))
            for number in range(300):
                await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": number})

    async def one_sync_batch() -> None:
        # One await, many statements: the ORM's flush works like this.
        async with database.transaction() as session:
            await session.run_sync(
                lambda sync: [
                    sync.execute(text("INSERT INTO t VALUES (:n)"), {"n": n}) for n in range(300)
                ]
            )

    try:
        await many_statements()
        turns = await _loop_turns_while(one_sync_batch())
    finally:
        await database.close()

    # With aiosqlite each statement waited for its thread; here each one gives the loop a turn.
    assert turns >= 300


async def _loop_turns_while(work: Awaitable[object]) -> int:
    """How many turns other work got on the loop while `work` ran."""
    turns = 0

    async def other() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    ticker = asyncio.create_task(other())
    await asyncio.sleep(0)
    before = turns
    try:
        await work
    finally:
        ticker.cancel()
    return turns - before


def _plain_read(database: Database, statements: int) -> Awaitable[object]:
    return database.read(
        lambda connection: [connection.execute(text("SELECT 1")) for _ in range(statements)]
    )


async def test_a_plain_read_runs_at_once_but_never_keeps_the_loop_long(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/reads.db")
    try:
        await database.read(lambda connection: connection.execute(text("SELECT 1")))  # connect
        quick = await _loop_turns_while(_plain_read(database, 5))
        long = await _loop_turns_while(_plain_read(database, 3000))
    finally:
        await database.close()

    # A turn's few reads do not hand the loop on after each statement (at most once, should
    # the machine stall for a slice)...
    assert quick <= 1
    # ...and a long one does, about once per LOOP_SLICE_SECONDS rather than per statement.
    assert 1 <= long < 3000 / 5


async def test_connections_of_one_process_outside_the_queue_wait_for_each_other(tmp_path):
    # A bare engine has no writer queue: its connections meet at SQLite's lock, in one loop, so
    # one that waited in SQLite's busy handler would stop the holder from ever finishing.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bare.db")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))

    async def write(number: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": number})
            await asyncio.sleep(0.01)  # holds the lock while the others try

    try:
        async with asyncio.timeout(10):
            await asyncio.gather(*(write(number) for number in range(8)))
        async with engine.connect() as connection:
            stored = sorted((await connection.execute(text("SELECT n FROM t"))).scalars())
    finally:
        await engine.dispose()

    assert stored == list(range(8))
