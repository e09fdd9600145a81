"""The table that links a problem to the incidents it causes and the people it affects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow


class ProblemLink(Base):
    """One incident linked to a problem, or one person added as affected without a ticket.

    A ticket belongs to one problem at most: a second problem for the same incident would tell
    its customer twice when both are solved.
    """

    __tablename__ = "problem_links"
    __table_args__ = (
        UniqueConstraint("ticket_id"),
        UniqueConstraint("problem_id", "person_id"),
        CheckConstraint("(ticket_id IS NULL) <> (person_id IS NULL)", name="ticket_or_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # Where the link was made: esmbot (Teams), jira, or intake (a customer who said "me too").
    source: Mapped[str] = mapped_column(String(32), default="esmbot")
