"""On SQLite a reading transaction waits for no writer, in this process or another, and cannot write."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.db import Database


@pytest.fixture(params=["aiosqlite", "inline"])
async def url(request, tmp_path):
    url = f"sqlite+{request.param}:///{tmp_path}/readers.db"
    database = Database(url)
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE t (n INTEGER)"))
        await session.execute(text("INSERT INTO t VALUES (1)"))
    await database.close()
    return url


async def _count(database: Database) -> int:
    async with database.reading() as session:
        return (await session.execute(text("SELECT count(*) FROM t"))).scalar_one()


async def test_a_read_goes_ahead_while_another_process_holds_the_write_lock(url):
    writer, reader = Database(url), Database(url)  # two engines: as two processes would be
    holding, read = asyncio.Event(), asyncio.Event()

    async def write() -> None:
        async with writer.transaction() as session:
            await session.execute(text("INSERT INTO t VALUES (2)"))
            holding.set()
            async with asyncio.timeout(5):  # a read that waited for this lock never comes
                await read.wait()

    try:
        writing = asyncio.create_task(write())
        await holding.wait()
        seen_during = await _count(reader)
        read.set()
        await writing
        seen_after = await _count(reader)
    finally:
        await writer.close()
        await reader.close()

    assert (seen_during, seen_after) == (1, 2)  # the open write was not seen, the commit is


async def test_a_read_does_not_queue_behind_this_processs_writer(url):
    database = Database(url)
    holding, read = asyncio.Event(), asyncio.Event()

    async def write() -> None:
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO t VALUES (2)"))
            holding.set()
            async with asyncio.timeout(5):
                await read.wait()

    try:
        writing = asyncio.create_task(write())
        await holding.wait()
        seen = await _count(database)
        read.set()
        await writing
    finally:
        await database.close()

    assert seen == 1


async def test_a_write_inside_a_read_fails_and_the_next_transaction_writes(url):
    database = Database(url)
    try:
        with pytest.raises(OperationalError, match="readonly"):
            async with database.reading() as session:
                await session.execute(text("INSERT INTO t VALUES (2)"))
        assert await _count(database) == 1
        async with database.transaction() as session:  # the same pooled connection
            await session.execute(text("INSERT INTO t VALUES (3)"))
        assert await _count(database) == 2
    finally:
        await database.close()


async def test_one_connection_turns_from_reading_to_writing_and_back(url):
    database = Database(url, pool_size=1, max_overflow=0)  # every transaction on one connection
    try:
        for n in (2, 3):
            with pytest.raises(OperationalError, match="readonly"):
                async with database.reading() as session:
                    await session.execute(text("INSERT INTO t VALUES (0)"))
            async with database.transaction() as session:
                await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            assert await _count(database) == n
    finally:
        await database.close()


async def test_requests_in_flight_reuse_the_connections_they_opened(url):
    database = Database(url)
    opened: list[object] = []
    event.listen(database.engine.sync_engine, "connect", lambda *_: opened.append(1))
    release = asyncio.Event()

    async def read() -> None:
        async with database.reading() as session:
            await session.execute(text("SELECT n FROM t"))
            await release.wait()  # as a turn holds its read while others arrive

    async def burst() -> None:
        release.clear()
        readers = [asyncio.create_task(read()) for _ in range(24)]
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(*readers)

    try:
        await burst()
        first = len(opened)
        await burst()
    finally:
        await database.close()

    assert first == 24
    assert len(opened) == first  # none opened again: past a small pool's size, each would be


async def test_a_write_inside_a_read_fails_on_either_database(database_url):
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            await session.execute(text("CREATE TABLE readers_probe (n INTEGER)"))
        with pytest.raises(DBAPIError, match=r"(?i)read-?only"):
            async with database.reading() as session:
                await session.execute(text("INSERT INTO readers_probe VALUES (1)"))
        async with database.transaction() as session:  # the connection writes again
            await session.execute(text("INSERT INTO readers_probe VALUES (2)"))
        async with database.reading() as session:
            seen = (await session.execute(text("SELECT n FROM readers_probe"))).scalars().all()
        assert seen == [2]
    finally:
        async with database.transaction() as session:
            await session.execute(text("DROP TABLE IF EXISTS readers_probe"))
        await database.close()


async def test_in_memory_reads_take_their_turn_beside_a_write():
    # One connection serves every session there: a read beside an open write would land
    # inside the writer's transaction.
    database = Database("sqlite+aiosqlite://")
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE t (n INTEGER)"))
    writing = asyncio.Event()

    async def write() -> None:
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO t VALUES (1)"))
            writing.set()
            await asyncio.sleep(0.05)
            await session.execute(text("INSERT INTO t VALUES (2)"))

    try:
        writer = asyncio.create_task(write())
        await writing.wait()
        seen = await _count(database)
        await writer
    finally:
        await database.close()

    assert seen == 2  # after the write, whole
