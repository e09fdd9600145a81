"""The tables of problems: links to their incidents and affected people, and the spike alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint
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


class ProblemAlert(Base):
    """One alert the detector raised: the group, its count against the usual, and the decision.

    `status` is open until someone decides: declared (a problem was made from it) or dismissed
    ("not related"). Its tickets are in problem_alert_tickets, each counted in one alert only.
    """

    __tablename__ = "problem_alerts"
    __table_args__ = (Index("ix_problem_alerts_signature_raised_at", "signature", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the group is: "module:<module>|<type>" or "words:<concepts>".
    signature: Mapped[str] = mapped_column(String(256))
    module: Mapped[str | None] = mapped_column(String(128))
    observed: Mapped[int] = mapped_column(Integer)
    usual: Mapped[float] = mapped_column(Float)
    window_minutes: Mapped[int] = mapped_column(Integer)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The first of its tickets: the time from it to the alert is the detector's delay.
    first_ticket_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, declared, dismissed
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class ProblemAlertTicket(Base):
    """A ticket counted in an alert; a ticket is counted once, so no group fires twice for it."""

    __tablename__ = "problem_alert_tickets"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("problem_alerts.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, unique=True
    )
