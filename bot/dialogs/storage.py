"""botbuilder's Storage over esmbot's database, with e-tags so two replicas cannot overwrite each other."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from botbuilder.core import Storage
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler
from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database, utcnow
from bot.dialogs.models import BotStateRow
from bot.dialogs.writes import WriteLog

ANY = "*"
# Built once: every turn reads its state, and building a select costs more than running it.
# Columns rather than entities: nothing changes these rows through the session, and setting up
# ORM loading costs more than the read.
_ROWS = select(BotStateRow.key, BotStateRow.document, BotStateRow.e_tag).where(
    BotStateRow.key.in_(bindparam("keys", expanding=True))
)


class StateConflict(KeyError):
    """Someone else saved this state since it was read (another turn, or another replica)."""


class SqlStorage(Storage):
    """Dialog and conversation state as JSON rows; a write is all or nothing.

    State objects (botbuilder's DialogState and its instances) are flattened with jsonpickle,
    as botbuilder's own Cosmos DB and Blob storages do, and restored on read. Only esmbot writes
    these rows, so restoring the classes they name is safe.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self.writes = WriteLog()

    async def read(self, keys: Iterable[str] | None) -> dict[str, Any]:
        if keys is None:
            raise ValueError("Keys are required when reading")
        wanted = list(keys)
        if not wanted:  # nothing to read: no transaction
            return {}
        return await self._database.read(lambda connection: self.read_on(connection, wanted))

    def read_on(self, connection: Connection, keys: Iterable[str]) -> dict[str, Any]:
        """What `read` gives, read on the caller's connection (in `Database.read`)."""
        wanted = list(dict.fromkeys(keys))
        return _restored(connection.execute(_ROWS, {"keys": wanted}).all())

    async def write(self, changes: Mapping[str, Any] | None) -> None:
        if changes is None:
            raise ValueError("Changes are required when writing")
        if not changes:
            return
        written: list[tuple[str, Any, str]] = []
        committed: dict[str, str] = {}
        try:
            await self._write(changes, written)
            committed = {key: new_tag for key, _item, new_tag in written}
        finally:
            self.writes.wrote(changes, committed)
        # The caller's copy now matches the stored one, so saving it again in the same turn
        # is not mistaken for a lost race.
        for _key, item, new_tag in written:
            _set_e_tag(item, new_tag)

    def unchanged_since(self, key: str, mark: int, item: Any) -> bool:
        """Whether `item`, read for `key` at `mark` (WriteLog.mark), is still what this process
        last wrote there (a write of another replica is caught by the e-tags when saving)."""
        return self.writes.current(key, mark, _e_tag(item))

    async def _write(self, changes: Mapping[str, Any], written: list[tuple[str, Any, str]]) -> None:
        async with self._database.transaction() as session:
            for key, item in changes.items():
                expected = _e_tag(item)
                if expected == "":
                    raise ValueError(f"state {key!r} has an empty e-tag")
                document = Pickler().flatten(_without_e_tag(item))
                new_tag = uuid.uuid4().hex
                now = utcnow()
                if expected in (None, ANY):
                    await _upsert(session, key, document, new_tag, now)
                else:
                    result = await session.execute(
                        update(BotStateRow)
                        .where(BotStateRow.key == key, BotStateRow.e_tag == expected)
                        .values(document=document, e_tag=new_tag, updated_at=now)
                    )
                    if result.rowcount == 0:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
                        exists = await session.get(BotStateRow, key)
                        if exists is not None:
                            raise StateConflict(f"state {key!r} was changed by someone else")
                        session.add(
                            BotStateRow(key=key, document=document, e_tag=new_tag, updated_at=now)
                        )
                written.append((key, item, new_tag))

    async def delete(self, keys: Iterable[str]) -> None:
        doomed = list(keys)
        if not doomed:
            return
        try:
            async with self._database.transaction() as session:
                await session.execute(delete(BotStateRow).where(BotStateRow.key.in_(doomed)))
        finally:
            self.writes.wrote(doomed)


async def _upsert(
    session: AsyncSession, key: str, document: Any, e_tag: str, now: datetime
) -> None:
    row = await session.get(BotStateRow, key, with_for_update=True)
    if row is None:
        session.add(BotStateRow(key=key, document=document, e_tag=e_tag, updated_at=now))
        await session.flush()
    else:
        row.document, row.e_tag, row.updated_at = document, e_tag, now


def _e_tag(item: Any) -> str | None:
    if isinstance(item, dict):
        return item.get("e_tag")
    return getattr(item, "e_tag", None)


def _restored(rows: Iterable[Row[Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for row in rows:
        item = Unpickler().restore(row.document)
        _set_e_tag(item, row.e_tag)
        found[row.key] = item
    return found


def _set_e_tag(item: Any, e_tag: str) -> None:
    if isinstance(item, dict):
        item["e_tag"] = e_tag
    elif item is not None and not isinstance(item, str | int | float | bool | list):
        item.e_tag = e_tag


def _without_e_tag(item: Any) -> Any:
    if isinstance(item, dict):
        return {name: value for name, value in item.items() if name != "e_tag"}
    return item
