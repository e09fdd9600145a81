"""On SQLite, through either driver, waiting for another connection's lock leaves the loop free."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot import sqlite_engine
from bot.db import Database, create_engine


@pytest.fixture(params=["sqlite+aiosqlite", "sqlite+inline"])
def scheme(request: pytest.FixtureRequest) -> str:
    return request.param


async def _ticks_while(work: asyncio.Future[object] | asyncio.Task[object]) -> int:
    """How many times a 1 ms ticker ran on the loop while `work` was unfinished."""
    ticks = 0
    while not work.done():
        await asyncio.sleep(0.001)
        ticks += 1
    return ticks


async def _statement_thread(url: str) -> int:
    database = Database(url)
    seen: list[int] = []
    try:
        async with database.transaction() as session:
            connection = await session.connection()
            raw = await connection.get_raw_connection()
            created = raw.driver_connection.create_function(  # type: ignore[union-attr]
                "thread_id", 0, lambda: seen.append(threading.get_ident()) or 1
            )
            if inspect.isawaitable(created):  # aiosqlite's connection is asynchronous
                await created
            await session.execute(text("SELECT thread_id()"))
    finally:
        await database.close()
    return seen[0]


async def test_each_scheme_runs_statements_where_it_says(tmp_path):
    # sqlite+aiosqlite:// is aiosqlite, whose statements run on a thread of its own;
    # sqlite+inline:// runs them on the loop's thread.
    loop_thread = threading.get_ident()
    assert await _statement_thread(f"sqlite+aiosqlite:///{tmp_path}/a.db") != loop_thread
    assert await _statement_thread(f"sqlite+inline:///{tmp_path}/b.db") == loop_thread


async def test_waiting_for_another_connections_lock_leaves_the_loop_free(tmp_path, scheme):
    path = tmp_path / "locked.db"
    database = Database(f"{scheme}:///{path}")
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
    # 300 ms of waiting: a loop blocked in SQLite's busy handler would have ticked about never
    # (aiosqlite waits in it on its own thread, sqlite+inline asleep on the loop).
    assert ticks > 50


async def test_a_new_connection_waits_out_another_processs_exclusive_lock(tmp_path, scheme):
    # Serving processes open connections while another may hold the file exclusively (one
    # opening it after the last connection closed, or a migration): the connection's setup
    # waits, asleep on the loop, rather than fail the request or job that asked for it.
    path = tmp_path / "exclusive.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (n INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES (1)")
    database = Database(f"{scheme}:///{path}")

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


async def test_a_lock_never_released_ends_in_a_clear_error(tmp_path, scheme, monkeypatch):
    monkeypatch.setattr(sqlite_engine, "LOCK_WAIT_SECONDS", 0.2)
    if scheme == "sqlite+inline":
        from bot import sqlite_inline

        monkeypatch.setattr(sqlite_inline, "LOCK_WAIT_SECONDS", 0.2)
    path = tmp_path / "stuck.db"
    database = Database(f"{scheme}:///{path}")
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


async def test_connections_of_one_process_outside_the_queue_wait_for_each_other(tmp_path, scheme):
    # A bare engine has no writer queue: its connections meet at SQLite's lock, in one loop, so
    # one that waited in SQLite's busy handler would stop the holder from ever finishing.
    engine = create_engine(f"{scheme}:///{tmp_path}/bare.db")
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
