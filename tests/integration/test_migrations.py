"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, inspect, text

from bot.db import create_engine
from bot.migrate import downgrade, drift, upgrade
from bot.models import metadata
from bot.notify.models import OutboxMessage


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
    await _sql(url, CONVERSATION, OUTBOX_ROW)

    await upgrade(url)
    await _draft(url, "drafted")  # as an event writes it
    upgraded = await _sql(
        url, "SELECT dedupe_key, activity IS NULL, draft IS NULL FROM outbox ORDER BY id"
    )

    await downgrade(url, "0002")
    downgraded = await _sql(url, "SELECT dedupe_key, activity FROM outbox ORDER BY id")

    assert upgraded == [("rendered", 0, 1), ("drafted", 1, 0)]
    # The older schema cannot hold a row that is only a draft; a rendered one stays.
    assert downgraded == [("rendered", '{"type": "message"}')]


CONVERSATION = (
    "INSERT INTO conversations (conversation_id, scope, service_url, reference, reachable,"
    " created_at, updated_at) VALUES ('c1', 'personal', 'http://x', '{}', 1,"
    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)


OUTBOX_ROW = (
    "INSERT INTO outbox (dedupe_key, conversation_id, audience, template, activity, status,"
    " attempts, next_attempt_at, created_at) VALUES ('rendered', 1, 'customer',"
    " 'customer/resolved', '{\"type\": \"message\"}', 'pending', 0, '2026-01-01 00:00:00',"
    " '2026-01-01 00:00:00')"
)


async def _draft(url: str, key: str) -> None:
    values = {"dedupe_key": key, "conversation_id": 1, "audience": "customer",
              "template": "customer/resolved", "activity": None, "draft": {"template": "x"},
              "next_attempt_at": datetime(2026, 1, 1, tzinfo=UTC), "broadcast_id": None}  # fmt: skip
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(OutboxMessage.__table__), [values])
    finally:
        await engine.dispose()


async def _sql(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                result = await connection.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_outbox_claims_carry_the_reopened_and_held_back_states_both_ways(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0003")
    reopened = (
        OUTBOX_ROW.replace("'rendered'", "'reopened'")
        .replace("'2026-01-01 00:00:00')", "'2026-01-01 00:00:00', '404: the chat was re-created')")
        .replace("created_at)", "created_at, last_error)")
    )
    await _sql(url, CONVERSATION, OUTBOX_ROW, reopened)

    await upgrade(url)
    upgraded = await _sql(
        url, "SELECT dedupe_key, chat_reopened, held_back FROM outbox ORDER BY id"
    )
    # A claim that pacing handed back untried, as the dispatcher now records it.
    await _sql(url, "UPDATE outbox SET attempts = 3, held_back = 2 WHERE dedupe_key = 'rendered'")

    await downgrade(url, "0003")
    downgraded = await _sql(url, "SELECT dedupe_key, attempts, last_error FROM outbox ORDER BY id")

    assert upgraded == [("rendered", 0, 0), ("reopened", 1, 0)]
    # The older schema counts tries only, and reads the reopened state from the error.
    assert downgraded == [("rendered", 1, None), ("reopened", 0, "404: the chat was re-created")]
