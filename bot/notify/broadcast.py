"""Planned-outage broadcasts: one outbox row per customer chat, their progress, and cancellation.

Who hears it: every reachable personal chat of a person who is not staff (agents, managers and
the vendor hold roles in esmbot.toml; key users are customers). Staff learn of an outage
through their channels, and management gets one notice in its channel with the number of
recipients. A person with several personal chats is written to in the one used last, as every
other message is (see `Notifier.personal`).

The card depends only on the reader's language and time zone, so it is rendered once for each
pair that occurs, not once per recipient, and the rows are inserted in bulk: ten thousand
recipients take a handful of renders and a few multi-row inserts.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import AuditEntry, Conversation, Person
from bot.notify import outbox
from bot.notify.compose import Notifier, Recipient
from bot.notify.models import OutboxMessage
from bot.notify.views import Outage, Reader

CUSTOMER_TEMPLATE = "customer/planned_outage"
MANAGEMENT_TEMPLATE = "management/planned_outage"
STAFF_ROLES = frozenset({"agents", "managers", "vendor"})


@dataclass(frozen=True)
class Progress:
    """Where a broadcast's customer messages stand; the management notice is not counted."""

    delivered: int = 0
    pending: int = 0  # waiting or being sent right now
    failed: int = 0
    unreachable: int = 0  # failed because the chat is gone or the bot was blocked
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.delivered + self.pending + self.failed + self.unreachable + self.cancelled

    @property
    def finished(self) -> bool:
        return self.pending == 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class _Customer:
    conversation_id: int
    language: str | None
    time_zone: str | None


async def start_outage_broadcast(
    session: AsyncSession,
    *,
    notifier: Notifier,
    outage: Outage,
    requested_by_person_id: int | None,
    now: datetime,
) -> str:
    """Writes the broadcast into the outbox in the caller's transaction; returns its id.

    The dispatcher delivers it at the pace Teams allows; wake it after the commit.
    """
    broadcast_id = f"outage-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
    customers = await _customers(session)
    management = await notifier.audience_recipients(session, "management")
    rows = [
        _values(
            notifier.render_row(
                template=MANAGEMENT_TEMPLATE,
                audience="management",
                recipient=recipient,
                dedupe_key=_dedupe_key(broadcast_id, recipient.conversation_id),
                view=None,
                extras={"outage": outage, "recipients": len(customers)},
                broadcast_id=broadcast_id,
            ),
            now,
        )
        for recipient in management
    ]
    rendered: dict[tuple[str | None, str | None], OutboxMessage] = {}
    for customer in customers:
        key = (customer.language, customer.time_zone)
        template_row = rendered.get(key)
        if template_row is None:
            reader = Reader(name=None, locale=customer.language, time_zone=customer.time_zone)
            template_row = rendered[key] = notifier.render_row(
                template=CUSTOMER_TEMPLATE,
                audience="customer",
                # Rendering reads only the reader; the conversation is set per row below.
                recipient=Recipient(customer.conversation_id, reader),
                dedupe_key="",
                view=None,
                extras={"outage": outage},
                broadcast_id=broadcast_id,
            )
        row = _values(template_row, now)
        row["conversation_id"] = customer.conversation_id
        row["dedupe_key"] = _dedupe_key(broadcast_id, customer.conversation_id)
        rows.append(row)
    await notifier.insert(session, rows)
    session.add(
        AuditEntry(
            at=now,
            actor_id=requested_by_person_id,
            action="broadcast.planned_outage",
            outcome="done",
            target=broadcast_id,
            detail={
                "service": outage.service,
                "start": outage.start.isoformat(),
                "end": outage.end.isoformat(),
                "recipients": len(customers),
                "renders": len(rendered),
            },
        )
    )
    return broadcast_id


async def broadcast_progress(session: AsyncSession, broadcast_id: str) -> Progress:
    """Counts the broadcast's customer rows by outcome, in one grouped query."""
    counts = await session.execute(
        select(OutboxMessage.status, Conversation.reachable, func.count())
        .join(Conversation, Conversation.id == OutboxMessage.conversation_id)
        .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.audience == "customer")
        .group_by(OutboxMessage.status, Conversation.reachable)
    )
    tally = dict.fromkeys(("delivered", "pending", "failed", "unreachable", "cancelled"), 0)
    for status, reachable, count in counts:
        if status == outbox.SENT:
            tally["delivered"] += count
        elif status in (outbox.PENDING, outbox.SENDING):
            tally["pending"] += count
        elif status == outbox.CANCELLED:
            tally["cancelled"] += count
        else:
            tally["failed" if reachable else "unreachable"] += count
    return Progress(**tally)


async def cancel_broadcast(session: AsyncSession, broadcast_id: str) -> int:
    """Drops the broadcast's pending rows and returns how many; the rest go out or have gone.

    A row a dispatcher has claimed (`sending`) is left to it, so nobody gets the message twice
    and nobody gets half of it. On PostgreSQL this update waits for a claim in progress and
    then skips the rows it took. A claimed row that pacing hands back a moment later becomes
    pending again; cancelling a second time catches it, and cancelling is always safe to repeat.
    """
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status == outbox.PENDING)
        .values(status=outbox.CANCELLED, last_error="the broadcast was cancelled")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult


async def _customers(session: AsyncSession) -> list[_Customer]:
    """Each customer's most recent reachable personal chat, with their language and zone."""
    # Columns, not entities: ten thousand references would only fill the session's memory.
    found = await session.execute(
        select(
            Conversation.id, Conversation.person_id, Person.roles, Person.locale, Person.time_zone
        )
        .outerjoin(Person, Person.id == Conversation.person_id)
        .where(Conversation.scope == "personal", Conversation.reachable.is_(True))
        .order_by(Conversation.person_id, Conversation.updated_at.desc(), Conversation.id.desc())
    )
    customers, seen = [], set()
    for conversation_id, person_id, roles, locale, time_zone in found:
        if STAFF_ROLES.intersection(roles or ()):
            continue
        if person_id is not None:
            if person_id in seen:
                continue
            seen.add(person_id)
        customers.append(_Customer(conversation_id, _language(locale), _known_zone(time_zone)))
    return customers


def _language(locale: str | None) -> str | None:
    # "de-DE", "de-AT" and "de" read the same words; the renderer picks by language alone.
    if not locale:
        return None
    return locale.replace("_", "-").split("-")[0].lower() or None


@lru_cache(maxsize=256)
def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _known_zone(name: str | None) -> str | None:
    # An unknown zone renders in the organisation's zone, so it joins the readers without one.
    return name if name and _zone_exists(name) else None


def _values(row: OutboxMessage, now: datetime) -> dict[str, Any]:
    return {
        "dedupe_key": row.dedupe_key,
        "conversation_id": row.conversation_id,
        "ticket_id": None,
        "audience": row.audience,
        "template": row.template,
        "activity": row.activity,
        "broadcast_id": row.broadcast_id,
        "status": outbox.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _dedupe_key(broadcast_id: str, conversation_id: int) -> str:
    return f"broadcast-{broadcast_id}:{conversation_id}"
