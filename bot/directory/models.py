"""The tables that record people, their Teams conversations, audience bindings and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow


class Person(Base):
    """Someone esmbot has met in Teams or in a ticket system; roles are a copy of esmbot.toml's."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    aad_object_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    teams_user_id: Mapped[str | None] = mapped_column(String(256), unique=True)
    jira_account_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    upn: Mapped[str | None] = mapped_column(String(320), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    locale: Mapped[str | None] = mapped_column(String(16))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Conversation(Base):
    """A Teams conversation the bot can write to later, with the reference needed to do so."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(512), unique=True)
    scope: Mapped[str] = mapped_column(String(16))  # personal, channel or groupChat
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(512))
    channel_id: Mapped[str | None] = mapped_column(String(512))
    service_url: Mapped[str] = mapped_column(String(512))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable_reason: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class AudienceBinding(Base):
    """Which channel speaks for an audience (management, vendor, agents): one channel each."""

    __tablename__ = "audience_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    bound_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    bound_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditEntry(Base):
    """An append-only record of who did what outside a ticket (bindings, refusals, settings)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # done or refused
    target: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
