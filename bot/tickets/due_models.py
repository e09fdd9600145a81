"""The table of per-ticket actions that fall due later: nudges, breaches, reminders, surveys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow


class DueAction(Base):
    """One thing to do for a ticket at a moment; swept by the scheduler, done once."""

    __tablename__ = "due_actions"
    __table_args__ = (Index("ix_due_actions_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # ticket + kind + deadline + share + cycle: re-planning never makes a second one.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True, insert_sentinel=True)
    kind: Mapped[str] = mapped_column(String(32))
    sla: Mapped[str | None] = mapped_column(String(32))
    fraction: Mapped[float | None] = mapped_column()
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, done, skipped
    outcome: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
