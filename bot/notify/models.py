"""The outbox table, where every message to Teams waits, and the named moments replicas share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ColumnElement, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow


class OutboxMessage(Base):
    """One message for one conversation, written with the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # event + audience + conversation: a replayed event never messages anyone twice.
    dedupe_key: Mapped[str] = mapped_column(String(256), unique=True, insert_sentinel=True)
    # None while esmbot has no conversation with the person the row is for (see `person_id`).
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # Who a 1:1 message is for, and the e-mail or UPN esmbot knows them by: what reaching them
    # starts from, and what the desk is told when they cannot be reached.
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    address: Mapped[str | None] = mapped_column(String(320))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    audience: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(128))
    # What is sent; until the first try, a row written by an event may hold only its draft
    # (bot/notify/drafts.py), rendered when it is sent and kept here from then on.
    # None is SQL NULL, not JSON null: "not rendered yet" must read as IS NULL in SQL too.
    activity: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # When set, the message updates an earlier activity in place instead of posting a new one.
    # A redraw of a customer's ticket card finds it when it is sent (empty: post anew).
    replaces_activity_id: Mapped[str | None] = mapped_column(String(256))
    broadcast_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # reaching, pending, sending, sent, failed, cancelled
    # How often a dispatcher claimed the row; `held_back` of those claims pacing handed back
    # before trying, so the tries are the difference (see `tries`).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    held_back: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The dispatcher that claimed the row last: its replica's stable name, and the start of it
    # (None for a dispatcher without a heartbeat, whose claims only their lease ends).
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claim_start: Mapped[str | None] = mapped_column(String(32))
    # A deleted 1:1 chat is opened anew once per message: a second 404 means it stays gone.
    chat_reopened: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sent_activity_id: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def tries(self) -> int:
        """How often the row went to Teams, or may have: its claims that pacing did not hand back."""
        return self.attempts - self.held_back


class Coordination(Base):
    """A named moment shared by every replica: the Teams brake, the scheduler's lease, and the
    last fire each of the leader's jobs handled (`until` is that fire, `holder` who ran it)."""

    __tablename__ = "coordination"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[datetime] = mapped_column(UtcDateTime)
    holder: Mapped[str] = mapped_column(String(128), default="")


async def set_coordination(
    session: AsyncSession,
    *,
    name: str,
    until: datetime,
    holder: str,
    where: ColumnElement[bool] | None = None,
) -> None:
    """Writes the row `name`, or overwrites the one there where `where` allows (always if None)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Coordination).values(name=name, until=until, holder=holder)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={"until": until, "holder": holder}, where=where
        )
    )
