"""A dialog state read early in a turn is used only if this process wrote none for the chat since."""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from sqlalchemy import event, text

from bot.db import Database
from bot.dialogs.preload import PreloadingState
from bot.dialogs.storage import SqlStorage
from bot.dialogs.writes import WriteLog
from bot.sqlite_engine import READ_ONLY


def _turn() -> TurnContext:
    activity = Activity(
        type="message",
        text="status SR-1",
        channel_id="msteams",
        conversation=ConversationAccount(id="a:lena"),
        from_property=ChannelAccount(id="29:lena"),
        recipient=ChannelAccount(id="28:bot"),
    )
    return TurnContext(TestAdapter(), activity)


def _reads(database: Database) -> tuple[list[str], object]:
    seen: list[str] = []

    def statement(_connection, _cursor, sql: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if "bot_state" in sql:
            seen.append(sql)

    event.listen(database.engine.sync_engine, "before_cursor_execute", statement)
    return seen, statement


KEY = "msteams/conversations/a:lena"


async def _preloaded(database: Database, state: PreloadingState, turn: TurnContext) -> None:
    await database.read(lambda connection: state.preload(connection, turn))


async def _chat_at_step_one(
    database: Database,
) -> tuple[SqlStorage, PreloadingState, TurnContext]:
    """Lena's chat, stored at step 1, its state preloaded for her next turn."""
    storage = SqlStorage(database)
    await storage.write({KEY: {"step": 1}})
    state, turn = PreloadingState(storage), _turn()
    await _preloaded(database, state, turn)
    return storage, state, turn


async def test_a_preloaded_state_is_used_without_reading_again(database: Database) -> None:
    _storage, state, turn = await _chat_at_step_one(database)
    reads, listener = _reads(database)
    try:
        await state.load(turn, force=True)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", listener)

    assert reads == []
    assert state.get(turn)["step"] == 1


async def test_a_state_written_since_the_preload_is_read_again(database: Database) -> None:
    storage, state, turn = await _chat_at_step_one(database)
    # Another message of the same chat was answered meanwhile and saved its step.
    saved = (await storage.read([KEY]))[KEY]
    saved["step"] = 2
    await storage.write({KEY: saved})

    await state.load(turn, force=True)

    assert state.get(turn)["step"] == 2
    # And the turn saves over it without a conflict, as it would have before.
    state.get(turn)["step"] = 3
    await state.save_changes(turn)
    assert (await storage.read([KEY]))[KEY]["step"] == 3


async def test_a_preload_is_used_once(database: Database) -> None:
    storage = SqlStorage(database)
    state, turn = PreloadingState(storage), _turn()
    await _preloaded(database, state, turn)
    await state.load(turn, force=True)
    await storage.write({KEY: {"step": 9}})

    await state.load(turn, force=True)  # a second load in the turn reads, as botbuilder's does

    assert state.get(turn)["step"] == 9


def test_the_write_log_trusts_no_mark_older_than_what_it_forgot() -> None:
    log = WriteLog(kept=2)
    mark = log.mark()
    log.wrote(["a"], {"a": "t1"})
    assert not log.current("a", mark, "t1") and log.current("b", mark, "x")
    later = log.mark()
    assert log.current("a", later, "t1")
    log.wrote(["b", "c"])  # "a" is forgotten: a write to it after `mark` can no longer be ruled out
    assert not log.current("z", mark, None)
    assert log.current("z", log.mark(), None)


def test_the_write_log_trusts_a_read_only_with_the_e_tag_last_written() -> None:
    log = WriteLog()
    log.wrote(["a"], {"a": "t1"})
    log.wrote(["a"], {"a": "t2"})
    mark = log.mark()
    assert log.current("a", mark, "t2")
    assert not log.current("a", mark, "t1")  # a read as of before the last write
    log.wrote(["a"])  # a write that failed: what is stored is not known
    assert not log.current("a", log.mark(), "t2")


async def test_a_write_between_the_reads_first_statement_and_the_preload_is_not_missed(
    database: Database,
) -> None:
    """On SQLite a reading transaction sees the database as of its first statement, which the
    turn makes before the preload (it finds the sender first): a write noted in between is
    already counted when the preload takes its mark, yet the read does not show it."""
    storage = SqlStorage(database)
    await storage.write({KEY: {"step": 1}})
    state, turn = PreloadingState(storage), _turn()
    reading = database.engine.execution_options(**{READ_ONLY: True, "postgresql_readonly": True})
    async with reading.connect() as connection, connection.begin():
        await connection.execute(text("SELECT count(*) FROM people"))  # the sender, found first
        saved = (await storage.read([KEY]))[KEY]
        saved["step"] = 2
        await storage.write({KEY: saved})  # another message of the chat, answered meanwhile
        await connection.run_sync(lambda sync: state.preload(sync, turn))

    await state.load(turn, force=True)

    assert state.get(turn)["step"] == 2
    state.get(turn)["step"] = 3
    await state.save_changes(turn)  # no conflict: the turn holds the stored e-tag
    assert (await storage.read([KEY]))[KEY]["step"] == 3
