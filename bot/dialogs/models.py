"""The table behind botbuilder's Storage: one JSON document per state key, with an e-tag."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow


class BotStateRow(Base):
    """A conversation's dialog state, so a chat survives a restart and works across replicas."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Changes on every write: a writer holding an older e-tag lost a race and must not overwrite.
    e_tag: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow, index=True
    )
