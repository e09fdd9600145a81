"""A fresh, migrated database for one benchmark run: a SQLite file, or a PostgreSQL database of its own."""

from __future__ import annotations

import os

from sqlalchemy import text

from bot.db import create_engine
from bot.migrate import upgrade

SQLITE_SCHEMES = {"sqlite": "sqlite+inline", "sqlite-aiosqlite": "sqlite+aiosqlite"}
KINDS = [*SQLITE_SCHEMES, "postgresql"]
PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def fresh_database(kind: str, workdir: str, name: str) -> str:
    """The URL of an empty, migrated database called `name` (a file in `workdir` for SQLite,
    on the loop's thread as esmbot's default, or through aiosqlite for `sqlite-aiosqlite`)."""
    if kind in SQLITE_SCHEMES:
        url = f"{SQLITE_SCHEMES[kind]}:///{workdir}/{name}.db"
    else:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    await upgrade(url)
    return url


async def drop_database(kind: str, name: str) -> None:
    """Drops the PostgreSQL database (a SQLite file goes with its temporary folder)."""
    if kind == "postgresql":
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(*statements: str) -> None:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
