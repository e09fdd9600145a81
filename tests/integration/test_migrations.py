"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect, text

from bot.db import create_engine
from bot.migrate import downgrade, drift, upgrade
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


async def test_outbox_drafts_keep_rendered_rows_both_ways(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0002")
    await _sql(url, CONVERSATION, outbox_row("rendered", '{"type": "message"}', None))

    await upgrade(url)
    await _sql(url, outbox_row("drafted", None, "{}"))
    upgraded = await _sql(url, "SELECT dedupe_key, activity, draft FROM outbox ORDER BY id")

    await downgrade(url, "0002")
    downgraded = await _sql(url, "SELECT dedupe_key, activity FROM outbox ORDER BY id")

    assert upgraded == [("rendered", '{"type": "message"}', None), ("drafted", None, "{}")]
    # The older schema cannot hold a row that is only a draft; a rendered one stays.
    assert downgraded == [("rendered", '{"type": "message"}')]


CONVERSATION = (
    "INSERT INTO conversations (conversation_id, scope, service_url, reference, reachable,"
    " created_at, updated_at) VALUES ('c1', 'personal', 'http://x', '{}', 1,"
    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)


def outbox_row(key: str, activity: str | None, draft: str | None) -> str:
    columns = "dedupe_key, conversation_id, audience, template, activity, status, attempts"
    values = f"'{key}', 1, 'customer', 'customer/resolved', {_literal(activity)}, 'pending', 0"
    if draft is not None:
        columns, values = f"{columns}, draft", f"{values}, {_literal(draft)}"
    times = "'2026-01-01 00:00:00', '2026-01-01 00:00:00'"
    return f"INSERT INTO outbox ({columns}, next_attempt_at, created_at) VALUES ({values}, {times})"


def _literal(value: str | None) -> str:
    return "NULL" if value is None else f"'{value}'"


async def _sql(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                result = await connection.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()
