"""The tables that hold tickets, their append-only event log, key sequences and CSAT surveys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow

# The ticket type that stands for the cause of other tickets (bot/problems/).
PROBLEM = "problem"


class Ticket(Base):
    """One ticket as esmbot knows it: its description, state, clocks and where it came from."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        CheckConstraint("paused_seconds >= 0", name="paused_seconds_not_negative"),
        # Open problems are looked up on every detector run and every new ticket's card.
        Index("ix_tickets_type_status", "type", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, insert_sentinel=True)
    type: Mapped[str] = mapped_column(String(64), default="incident")
    summary: Mapped[str] = mapped_column(String(512))
    description: Mapped[str] = mapped_column(Text, default="")
    module: Mapped[str | None] = mapped_column(String(128))
    impact: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[str | None] = mapped_column(Text)
    first_occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The day, when the customer named one without a time ("yesterday"): no time is made up.
    first_occurred_on: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(8), default="P3")
    status: Mapped[str] = mapped_column(String(32), default="new", index=True)
    resolution: Mapped[str | None] = mapped_column(Text)
    # The question the desk is waiting on the customer to answer (for reminders and replies).
    pending_question: Mapped[str | None] = mapped_column(Text)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    # Who opened it in Teams when that was not the reporter: a key user for a colleague.
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    # A reporter known to the ticket system but not (yet) matched to a person esmbot has met.
    reporter_unmatched: Mapped[str | None] = mapped_column(String(320))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    # Indexed for the reports of a period (with the resolution and closing times) and for the
    # spike detector, which counts the tickets of a window in the past weeks.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    # Indexed: the compose box's search lists tickets newest change first.
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow, index=True
    )
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    vendor_needed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    vendor_escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    vendor_escalation_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the vendor is to answer an escalation (on its own calendar), and when it first did.
    vendor_response_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    vendor_responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paused_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paused_seconds: Mapped[float] = mapped_column(default=0.0)
    # The same pauses counted in open time only, for deadlines in working days or hours.
    paused_business_seconds: Mapped[float] = mapped_column(default=0.0)
    reopened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    interaction_count: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(32), default="esmbot")  # esmbot, jira or api
    external_id: Mapped[str | None] = mapped_column(String(128))
    # The source's own timestamp of the newest change applied, so older deliveries cannot undo it.
    source_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TicketEvent(Base):
    """An append-only line of a ticket's history; the dedupe key makes replays harmless."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    ticket_key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(320), default="")
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(32), default="esmbot")
    dedupe_key: Mapped[str] = mapped_column(String(256), unique=True, insert_sentinel=True)


class KeySequence(Base):
    """The next number of a ticket key prefix (SR-1, SR-2, …) when esmbot is the ticket store."""

    __tablename__ = "key_sequences"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer, default=1)


class CsatSurvey(Base):
    """One satisfaction survey for a resolved ticket: sent once, answered once (score 1–4)."""

    __tablename__ = "csat_surveys"
    __table_args__ = (
        UniqueConstraint("ticket_id", "round"),
        CheckConstraint("score IS NULL OR (score BETWEEN 1 AND 4)", name="score_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    # A reopened and re-resolved ticket is surveyed again: one round per resolution.
    round: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="due")  # due, sent, answered, expired
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
