"""The chat's conversation state, which a turn may start from a read made in the sender's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.bot_state import CachedBotState
from sqlalchemy.engine import Connection

from bot.dialogs.storage import SqlStorage

_PRELOADED = "esmbot.preloaded_state"


@dataclass(frozen=True)
class _Preloaded:
    key: str
    mark: int
    item: Any


class PreloadingState(ConversationState):
    """botbuilder's ConversationState; `preload` reads the turn's state on a connection the
    caller holds anyway (the one that found the sender), saving a transaction of its own.

    The read happens before the chat's per-conversation lock is taken, so `load` only uses it
    if it still shows this process's last write of the conversation's state (another message
    of the same chat may have been handled meanwhile, even before the read began: the read's
    transaction may see the database as of its first statement); otherwise it reads again, as
    it always did. Another replica's write is caught by the e-tags, as after any read.
    """

    def __init__(self, storage: SqlStorage) -> None:
        super().__init__(storage)
        self._sql = storage

    def preload(self, connection: Connection, turn_context: TurnContext) -> None:
        key = self.get_storage_key(turn_context)
        mark = self._sql.writes.mark()  # before the read: a write it may miss comes after
        items = self._sql.read_on(connection, [key])
        turn_context.turn_state[_PRELOADED] = _Preloaded(key, mark, items.get(key))

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        preloaded = turn_context.turn_state.pop(_PRELOADED, None)
        cached = self.get_cached_state(turn_context)
        reads = force or not cached or not cached.state  # when BotState.load would read
        if reads and isinstance(preloaded, _Preloaded):
            key = self.get_storage_key(turn_context)
            if key == preloaded.key and self._sql.unchanged_since(
                key, preloaded.mark, preloaded.item
            ):
                # What BotState.load keeps after reading the same row.
                turn_context.turn_state[self._context_service_key] = CachedBotState(preloaded.item)
                return
        await super().load(turn_context, force)
