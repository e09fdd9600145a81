"""sqlite+inline:// runs on the loop's thread, yet gives the loop its turns, on the SQLAlchemy it was written for."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tomllib
from collections.abc import Awaitable
from pathlib import Path

import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from bot import sqlite_inline
from bot.db import Database

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_sqlalchemy_is_one_the_module_was_written_for():
    assert sqlite_inline.supports(sqlalchemy.__version__), sqlalchemy.__version__
    assert [sqlite_inline.supports(v) for v in ("2.1.9", "2.1.12", "2.1.10rc1")] == [True] * 3
    assert not any(sqlite_inline.supports(v) for v in ("2.0.44", "2.1.8", "2.2.0", "3.0.0", "x"))


def test_pyproject_pins_sqlalchemy_to_what_the_module_supports():
    (low, high) = sqlite_inline.SUPPORTED
    pin = f"sqlalchemy[asyncio]>={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert pin in dependencies


def test_under_another_sqlalchemy_the_module_refuses_to_load():
    pretend = "import sqlalchemy; sqlalchemy.__version__ = '2.2.0'; import bot.sqlite_inline"
    run = subprocess.run(
        [sys.executable, "-c", pretend], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode != 0
    assert "sqlite+inline:// is written for SQLAlchemy >=2.1.9,<2.2, not 2.2.0" in run.stderr


async def test_the_bridge_names_it_relies_on_still_behave_as_it_expects(tmp_path):
    # await_ hands an awaitable to the loop from inside a statement's greenlet and returns its
    # result; in_greenlet tells that greenlet from plain code. Neither is public SQLAlchemy.
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/bridge.db")

    def inside(_connection: Connection) -> tuple[bool, object]:
        return sqlite_inline.in_greenlet(), sqlite_inline.await_(asyncio.sleep(0, "slept"))

    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(inside) == (True, "slept")
    finally:
        await engine.dispose()
    assert not sqlite_inline.in_greenlet()


async def test_a_long_transaction_lets_other_work_run_between_its_statements(tmp_path):
    database = Database(f"sqlite+inline:///{tmp_path}/long.db")

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
    database = Database(f"sqlite+inline:///{tmp_path}/reads.db")
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
