"""Availability per service: the share of a period without an open monitoring incident for it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.tickets.models import Ticket

# The source whose incidents are outages: each runs from the alert's start to its resolution.
MONITORING = "alertmanager"

Outage = tuple[str, datetime, datetime | None]  # service, down since, back at (None: still down)


def availability(
    outages: Iterable[Outage], *, start: datetime, end: datetime, now: datetime
) -> tuple[tuple[str, float, timedelta], ...]:
    """(service, share available, downtime) for each service down at some time in the period,
    by name. Overlapping outages of one service count once; time after now is not judged."""
    until = min(end, max(now, start))
    length = (until - start).total_seconds()
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for service, down, back in outages:
        first, last = max(down, start), min(back or until, until)
        if last > first:
            spans.setdefault(service, []).append((first, last))
    figures = []
    for service in sorted(spans):
        downtime, reached = timedelta(0), start
        for first, last in sorted(spans[service]):
            first = max(first, reached)
            if last > first:
                downtime += last - first
                reached = last
        share = 1.0 - downtime.total_seconds() / length if length > 0 else 1.0
        figures.append((service, share, downtime))
    return tuple(figures)


async def period_availability(
    session: AsyncSession, *, start: datetime, end: datetime, now: datetime
) -> tuple[tuple[str, float, timedelta], ...]:
    """The services' availability in [start, end) from the monitoring incidents stored."""
    rows = await session.execute(
        select(Ticket.module, Ticket.created_at, Ticket.resolved_at).where(
            Ticket.source == MONITORING,
            Ticket.module.is_not(None),
            Ticket.created_at < end,
            or_(Ticket.resolved_at.is_(None), Ticket.resolved_at > start),
        )
    )
    outages = [(str(module), down, back) for module, down, back in rows]
    return availability(outages, start=start, end=end, now=now)


def least_available(
    figures: tuple[tuple[str, float, timedelta], ...], limit: int
) -> tuple[tuple[str, float, timedelta], ...]:
    """The `limit` services that were down longest, as a report names them (a card is small)."""
    return tuple(sorted(figures, key=lambda figure: (figure[1], figure[0]))[:limit])
