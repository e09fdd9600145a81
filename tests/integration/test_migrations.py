"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from bot.migrate import drift, upgrade
from bot.models import metadata


async def test_migrated_schema_has_no_drift_from_the_models(database_url):
    assert await drift(database_url) == []


async def test_upgrading_twice_changes_nothing(database_url, database):
    await upgrade(database_url)

    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert tables == set(metadata.tables) | {"alembic_version"}


async def test_a_fresh_sqlite_file_is_created_and_migrated(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"

    await upgrade(url)

    assert (tmp_path / "new.db").exists()
    assert await drift(url) == []
