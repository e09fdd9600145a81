"""Runs Alembic from inside esmbot: upgrade to the newest schema and check for drift."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from bot.db import create_engine
from bot.models import metadata

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Brings the database at `url` to `revision` (creating the SQLite file if needed)."""
    await _migrate(url, command.upgrade, revision)


async def downgrade(url: str, revision: str) -> None:
    """Takes the database at `url` back to `revision`, as each migration's downgrade says."""
    await _migrate(url, command.downgrade, revision)


async def _migrate(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run, url, step, revision)
    finally:
        await engine.dispose()


def _run(
    connection: Connection, url: str, step: Callable[[Config, str], None], revision: str
) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    step(config, revision)


async def drift(url: str) -> list[object]:
    """The differences between the migrated database and the models; empty when in step."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_compare)
    finally:
        await engine.dispose()


def _compare(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def revision(url: str, message: str) -> None:
    """Writes a new migration from the difference between the models and the database."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


def run_upgrade(url: str) -> None:
    asyncio.run(upgrade(url))
