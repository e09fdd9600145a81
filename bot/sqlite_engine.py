"""SQLite engines: WAL, transactions that take the write lock as they begin, reads that take none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# The scheme of the driver that runs statements on the loop's own thread (`bot/sqlite_inline.py`);
# `sqlite+aiosqlite://` is aiosqlite, as SQLAlchemy defines it.
INLINE = "sqlite+inline"

# Connections kept open to a SQLite file: about one per request in flight under load.
POOL_SIZE = 32

# How long a transaction waits for another connection's write lock before it fails with
# "database is locked". With aiosqlite, SQLite's busy handler waits on the driver's thread.
LOCK_WAIT_SECONDS = 30.0

# The execution option that marks a connection's transactions as reads (`Database.reading`).
READ_ONLY = "esmbot_read_only"
_QUERY_ONLY = "esmbot_query_only"

# esmbot begins its transactions itself (`begin`), so the driver must not (isolation_level);
# WAL lets readers work while the one writer commits; NORMAL is durable in WAL mode.
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def in_memory(url: str | URL) -> bool:
    """Whether the URL names no file: one connection, shared (StaticPool), takes no pool size."""
    parsed = make_url(url)
    return parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"


def create_sqlite_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine on a SQLite file or memory, through the driver its URL names."""
    if not in_memory(url):
        # A connection costs a file open and three pragmas; a pool smaller than the turns
        # in flight opens and closes one per turn past its size.
        options.setdefault("pool_size", POOL_SIZE)
        options.setdefault("max_overflow", POOL_SIZE)
    if make_url(url).drivername == INLINE:
        # Imported only for its scheme: it is written for one SQLAlchemy release series.
        from bot import sqlite_inline

        return sqlite_inline.create_engine(url, **options)
    engine = create_async_engine(url, connect_args={"timeout": LOCK_WAIT_SECONDS}, **options)
    event.listen(engine.sync_engine, "connect", set_pragmas)
    event.listen(engine.sync_engine, "begin", _begin)
    return engine


def set_pragmas(dbapi_connection: Any, _record: object = None) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _begin(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with "database is
    # locked" when another connection committed in between; taking the lock up front waits.
    # A reading one takes no lock at all: in WAL mode readers and the one writer do not wait
    # on each other. SQLite itself refuses its writes (`query_only`), so none goes unnoticed.
    read_only = reads_only(connection)
    if connection.info.get(_QUERY_ONLY) is not read_only:
        connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
        connection.info[_QUERY_ONLY] = read_only
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def reads_only(connection: Connection) -> bool:
    """Whether the transaction `connection` begins was asked for by `Database.reading`."""
    return bool(connection.get_execution_options().get(READ_ONLY))
