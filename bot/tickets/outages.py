"""Tells the customers who wrote about a service while it was down that it works again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notify.compose import DraftRow, Notifier
from bot.notify.routing import CUSTOMER, Intent
from bot.tickets.lifecycle import OPEN_STATUSES
from bot.tickets.models import Ticket

RESTORED = Intent(CUSTOMER, "customer/service_restored")


async def restored_messages(
    session: AsyncSession,
    notifier: Notifier,
    *,
    incident: Ticket,
    service: str,
    back: datetime,
    origin: str,
) -> list[DraftRow]:
    """One message to the reporter of every open ticket about `service` opened during the
    incident; keyed by the incident's resolution, so that a replay tells nobody twice."""
    since = incident.created_at
    affected = (
        await session.scalars(
            select(Ticket).where(
                Ticket.id != incident.id,
                func.lower(Ticket.module) == service.lower(),
                Ticket.created_at >= since,
                Ticket.created_at <= back,
                Ticket.status.in_(sorted(str(status) for status in OPEN_STATUSES)),
                Ticket.reporter_id.is_not(None),
            )
        )
    ).all()
    rows: list[DraftRow] = []
    for ticket in affected:
        rows += await notifier.compose(
            session,
            ticket=ticket,
            intents=(RESTORED,),
            origin=f"{origin}:{ticket.id}",
            extras={"service": service, "since": since, "back": back},
        )
    return rows
