"""The events floor: the simplest fast program that stores each posted body before answering it.

Run: DATABASE_URL=sqlite+aiosqlite:///x.db PORT=8080 .venv/bin/python benchmarks/floor_server.py
It uses no esmbot code. On SQLite it keeps one connection (WAL, synchronous=NORMAL, as esmbot)
and runs each request's insert and commit to the end before the next: several connections would
collide on SQLite's one write lock and sleep in its busy handler. On PostgreSQL it keeps a pool
of FLOOR_POOL_SIZE connections (the load's, so none waits for one) and inserts with autocommit,
one transaction per request.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

CREATE = "CREATE TABLE IF NOT EXISTS floor_rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"


class SqliteStore:
    """One connection used on the event loop's thread: an insert and its commit in WAL mode with
    synchronous=NORMAL are tens of microseconds of work in memory, less than a hop to a driver's
    thread would cost, and as they never yield, one transaction runs at a time without a lock."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.execute(CREATE)

    async def insert(self, body: str) -> None:
        with self.connection:  # BEGIN … COMMIT, or ROLLBACK on an error
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute("INSERT INTO floor_rows (body) VALUES (?)", (body,))

    async def close(self) -> None:
        self.connection.close()


class PostgresStore:
    """A pool; each insert is its own transaction (asyncpg autocommits a lone statement)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, dsn: str) -> PostgresStore:
        size = int(os.environ.get("FLOOR_POOL_SIZE", "32"))
        pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size)
        await pool.execute(CREATE.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY"))
        return cls(pool)

    async def insert(self, body: str) -> None:
        await self.pool.execute("INSERT INTO floor_rows (body) VALUES ($1)", body)

    async def close(self) -> None:
        await self.pool.close()


async def open_store(url: str) -> SqliteStore | PostgresStore:
    """The store for a SQLAlchemy-style URL (the driver named after `+` is ignored)."""
    scheme, rest = url.split("://", 1)
    if scheme.startswith("sqlite"):
        return SqliteStore(rest.removeprefix("/"))
    return await PostgresStore.open(f"postgresql://{rest}")


def create_app(url: str) -> web.Application:
    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        app["store"] = await open_store(url)
        yield
        await app["store"].close()

    async def insert(request: web.Request) -> web.Response:
        await request.app["store"].insert(await request.text())
        return web.json_response({"outcome": "applied"})

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/insert", insert)
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(lifetime)
    return app


if __name__ == "__main__":
    web.run_app(
        create_app(os.environ["DATABASE_URL"]),
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        print=None,
        access_log=None,
    )
