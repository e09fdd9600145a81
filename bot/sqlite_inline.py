"""SQLite for SQLAlchemy's asyncio engine, run on the event loop's own thread instead of a driver's.

Chosen by its own scheme, `sqlite+inline:///path.db`. aiosqlite sends every cursor call to a
thread of its own and waits for the answer: four round trips per statement, each costing a
thread switch and, while the loop is busy, a wait for the GIL. A statement on a WAL database
with `synchronous=NORMAL` is work in memory and the page cache (no fsync at commit), shorter
than one such round trip, so here it runs where it is asked for. Two things keep the loop free
as before: the loop gets a turn after every statement (or, within one step of quick reads,
every millisecond), and the one wait SQLite knows, another connection holding the write lock,
is spent asleep on the loop rather than in SQLite's busy handler (`retry_while_locked`).

Written for SQLAlchemy 2.1 (SUPPORTED below, pinned in pyproject.toml): giving the loop a turn
from inside a statement needs the asyncio bridge's own `sqlalchemy.util.await_` and
`in_greenlet`, which SQLAlchemy does not promise to keep. Importing this module under another
release fails at once, and tests/integration/test_sqlite_inline.py checks those names' behaviour.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy
from greenlet import getcurrent
from sqlalchemy import event, pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

from bot import sqlite_engine

# The SQLAlchemy releases this module was written for and tested with: >= 2.1.9, < 2.2.
SUPPORTED = ((2, 1, 9), (2, 2))


def supports(version: str) -> bool:
    """Whether SQLAlchemy `version` ("2.1.9", "2.2.0b1") is one this module was written for."""
    found = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    if found is None:
        return False
    numbers = tuple(int(number) for number in found.groups())
    low, high = SUPPORTED
    return low <= numbers and numbers[:2] < high


if not supports(sqlalchemy.__version__):
    raise ImportError(
        f"sqlite+inline:// is written for SQLAlchemy >=2.1.9,<2.2, not {sqlalchemy.__version__}: "
        "use sqlite+aiosqlite:// or the SQLAlchemy release pyproject.toml pins"
    )

DRIVER = "inline"
T = TypeVar("T")

# SQLite's own busy handler blocks the thread that runs it, here the loop, and with it the
# holder of the lock when that is another connection of this process: it must not wait at all.
# retry_while_locked does the waiting, asleep. (With the lock taken up front, the statements of
# a WAL transaction meet no other lock.)
BUSY_TIMEOUT_SECONDS = 0.0
LOCK_WAIT_SECONDS = sqlite_engine.LOCK_WAIT_SECONDS


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite, declared asynchronous so that AsyncEngine runs it inside its greenlets."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        if sqlite_engine.in_memory(url):
            return pool.StaticPool
        return pool.AsyncAdaptedQueuePool

    def do_begin(self, dbapi_connection: Any) -> None:
        """Begins as `choose_begin` decided, on the driver's connection itself: through
        SQLAlchemy's execution a BEGIN cost a statement's bookkeeping and a turn of the loop.
        SQLAlchemy turns what this raises into its own errors."""
        raw = dbapi_connection.dbapi_connection
        if raw.begins_reading:
            raw.execute("BEGIN")
        else:
            retry_while_locked(lambda: raw.execute("BEGIN IMMEDIATE"))


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSQLiteDialect")


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine on `url` (sqlite+inline://) whose statements run on the loop's thread."""
    engine = create_async_engine(url, connect_args=connect_args(), **options)
    event.listen(engine.sync_engine, "connect", _set_pragmas)
    event.listen(engine.sync_engine, "begin", choose_begin)
    install(engine.sync_engine)
    return engine


def _set_pragmas(dbapi_connection: Any, _record: object) -> None:
    # Even on a database already in WAL mode this needs a moment without another process's
    # exclusive lock (one opening the file after its last connection closed, say): with no
    # busy timeout it would fail at once, so it waits as a writer does.
    retry_while_locked(lambda: sqlite_engine.set_pragmas(dbapi_connection))


class _Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """Nothing to do: AsyncEngine asks this of a driver whose cursor closes asynchronously."""


class _Connection(sqlite3.Connection):
    # What PRAGMA query_only was last set to here (None: never), so a transaction sets it
    # only when this connection changes between reading and writing.
    query_only: bool | None = None
    # Whether the transaction being begun only reads (`choose_begin` sets it).
    begins_reading = False

    def cursor(self, factory: Any = _Cursor) -> sqlite3.Cursor:  # type: ignore[override]  # one factory, not typeshed's overloads
        return super().cursor(factory)


def connect_args() -> dict[str, Any]:
    # The pool may close a connection from the garbage collector's thread; nothing else does.
    return {
        "timeout": BUSY_TIMEOUT_SECONDS,
        "check_same_thread": False,
        "factory": _Connection,
    }


# How long the statements of one step (`in_one_step`) may keep the loop before it gets a turn:
# short enough that nobody waits noticeably, long enough that the few quick reads of a turn run
# at once (a turn of the loop between statements costs two greenlet switches and whatever else
# is ready to run).
LOOP_SLICE_SECONDS = 0.001
_SLICE_FROM = "esmbot_loop_slice_from"


def install(engine: Engine) -> None:
    """Gives the loop a turn after every statement the engine runs, or within a step once
    its statements have kept the loop for LOOP_SLICE_SECONDS."""
    event.listen(engine, "after_cursor_execute", _let_the_loop_run)


def in_one_step(work: Callable[[], T]) -> T:
    """Runs `work`, statements in the current greenlet (one `greenlet_spawn`), letting the loop
    run between them only once they have kept it for LOOP_SLICE_SECONDS."""
    current = getcurrent()
    setattr(current, _SLICE_FROM, time.perf_counter())
    try:
        return work()
    finally:
        delattr(current, _SLICE_FROM)


def _let_the_loop_run(*_: Any) -> None:
    current = getcurrent()
    since = getattr(current, _SLICE_FROM, None)
    if since is not None and time.perf_counter() - since < LOOP_SLICE_SECONDS:
        return
    await_(asyncio.sleep(0))
    if since is not None:
        setattr(current, _SLICE_FROM, time.perf_counter())


def choose_begin(connection: Connection) -> None:
    """Has the transaction take the write lock as it begins (`do_begin`, which sleeps on the
    loop between tries while another connection has it).

    A reading transaction (`sqlite_engine.READ_ONLY`) takes no lock at all, as with aiosqlite.
    """
    dbapi_connection: Any = connection.connection.dbapi_connection
    read_only = sqlite_engine.reads_only(connection)
    if dbapi_connection.query_only is not read_only:
        dbapi_connection.execute(f"PRAGMA query_only={int(read_only)}")
        dbapi_connection.query_only = read_only
    dbapi_connection.begins_reading = read_only


def retry_while_locked(attempt: Callable[[], object]) -> None:
    """Runs `attempt` until SQLite stops answering "database is locked", asleep on the loop
    between tries, for up to LOCK_WAIT_SECONDS."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    pause = 0.001
    while True:
        try:
            attempt()
            return
        except (OperationalError, sqlite3.OperationalError) as error:
            if not _locked(error) or time.monotonic() > deadline:
                raise
        if in_greenlet():
            await_(asyncio.sleep(pause))
        else:  # outside SQLAlchemy's asyncio bridge there is no loop to give a turn to
            time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _locked(error: OperationalError | sqlite3.OperationalError) -> bool:
    cause = error.orig if isinstance(error, OperationalError) else error
    return isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause)
