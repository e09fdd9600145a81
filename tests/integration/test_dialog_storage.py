"""The SQL Storage passes botbuilder's own storage conformance tests, on both databases."""

from __future__ import annotations

import pytest
from botbuilder.testing.storage_base_tests import StorageBaseTests

from bot.db import Database
from bot.dialogs.storage import SqlStorage, StateConflict


@pytest.fixture
def storage(database: Database) -> SqlStorage:
    return SqlStorage(database)


@pytest.mark.parametrize(
    "check",
    [
        StorageBaseTests.return_empty_object_when_reading_unknown_key,
        StorageBaseTests.handle_null_keys_when_writing,
        StorageBaseTests.does_not_raise_when_writing_no_items,
        StorageBaseTests.create_object,
        StorageBaseTests.handle_crazy_keys,
        StorageBaseTests.update_object,
        StorageBaseTests.delete_object,
        StorageBaseTests.delete_unknown_object,
        StorageBaseTests.perform_batch_operations,
        StorageBaseTests.proceeds_through_waterfall,
    ],
    ids=lambda check: check.__name__,
)
async def test_botbuilder_storage_conformance(storage: SqlStorage, check: object) -> None:
    assert await check(storage)  # type: ignore[operator]


async def test_reading_without_keys_is_refused(storage: SqlStorage) -> None:
    with pytest.raises(ValueError, match="Keys are required"):
        await storage.read(None)


async def test_a_stale_e_tag_loses_and_changes_nothing(storage: SqlStorage) -> None:
    await storage.write({"chat": {"step": 1}, "other": {"n": 1}})
    first = (await storage.read(["chat"]))["chat"]
    second = (await storage.read(["chat"]))["chat"]
    first["step"] = 2
    await storage.write({"chat": first})
    second["step"] = 3
    # Another turn (or replica) saved in between: this write must not overwrite it, and the
    # batch it belongs to is written not at all.
    with pytest.raises(StateConflict):
        await storage.write({"other": {"n": 2}, "chat": second})
    stored = await storage.read(["chat", "other"])
    assert stored["chat"]["step"] == 2
    assert stored["other"]["n"] == 1


async def test_saving_twice_in_one_turn_is_not_a_conflict(storage: SqlStorage) -> None:
    await storage.write({"chat": {"step": 1}})
    state = (await storage.read(["chat"]))["chat"]
    state["step"] = 2
    await storage.write({"chat": state})
    state["step"] = 3
    await storage.write({"chat": state})
    assert (await storage.read(["chat"]))["chat"]["step"] == 3
