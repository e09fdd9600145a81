"""What the dashboard tab shows each viewer: managers everything, agents the queue and its service
levels, a customer or key user their own tickets and the organisation's service levels."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.db import Database
from bot.directory.models import Person
from bot.notify.render import Renderer
from bot.notify.views import Reader
from bot.reports.export import as_data
from bot.reports.history import period_report
from bot.tickets.lifecycle import OPEN_STATUSES
from bot.tickets.models import Ticket

# A deadline this close (or past) puts an open ticket on the list of those at risk.
AT_RISK_WITHIN = timedelta(hours=4)
LISTED = 50


def view_of(roles: frozenset[str]) -> str:
    """The widest view a person's roles allow."""
    if "managers" in roles:
        return "manager"
    if "agents" in roles:
        return "agent"
    return "customer"


async def dashboard(
    database: Database,
    *,
    organisation: Organisation,
    view: str,
    person_id: int | None,
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The tab's data for one view; the figures are those of the JSON report of [start, end)."""
    report = as_data(
        await period_report(database, start=start, end=end, now=now, organisation=organisation)
    )
    current = report["current"]
    levels = {"service_levels": current["service_levels"], "csat_level": current["csat_level"],
              "within_sla": current["within_sla"]}  # fmt: skip
    async with database.reading() as session:
        if view == "manager":
            return {"view": view, "report": report, "at_risk": await at_risk(session, now)}
        if view == "agent":
            return {
                "view": view,
                **levels,
                "at_risk": await at_risk(session, now),
                "queue": await _lines(session, Ticket.status.in_(list(OPEN_STATUSES)), now),
            }
        own = (
            or_(Ticket.reporter_id == person_id, Ticket.opened_by_id == person_id)
            if person_id is not None
            else None
        )
        tickets = await _lines(session, own, now) if own is not None else []
        return {"view": "customer", **levels, "tickets": tickets}


async def at_risk(session: AsyncSession, now: datetime) -> list[dict[str, Any]]:
    """Open tickets whose owed answer or resolution is due within four hours, or overdue."""
    soon = now + AT_RISK_WITHIN
    owed = or_(
        and_(Ticket.first_response_at.is_(None), Ticket.first_response_due < soon),
        and_(
            Ticket.resolved_at.is_(None),
            Ticket.paused_since.is_(None),
            Ticket.resolution_due < soon,
        ),
    )
    return await _lines(session, and_(Ticket.status.in_(list(OPEN_STATUSES)), owed), now)


async def _lines(session: AsyncSession, where: Any, now: datetime) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            Ticket.key,
            Ticket.summary,
            Ticket.status,
            Ticket.priority,
            Ticket.first_response_at,
            Ticket.first_response_due,
            Ticket.resolution_due,
            Ticket.created_at,
        )
        .where(where)
        .order_by(Ticket.created_at.desc())
        .limit(LISTED)
    )
    lines = []
    for key, summary, status, priority, answered, answer_due, fix_due, _ in rows:
        due = answer_due if answered is None and answer_due is not None else fix_due
        lines.append({
            "key": key, "summary": summary, "status": status, "priority": priority,
            "due": due.isoformat() if due else None, "overdue": bool(due and due < now),
        })  # fmt: skip
    return lines


async def person_id_of(
    database: Database, *, object_id: str | None, email: str | None
) -> int | None:
    """The person esmbot knows by this Azure AD object id, or else by this address."""
    async with database.reading() as session:
        if object_id:
            found = await session.scalar(select(Person.id).where(Person.aad_object_id == object_id))
            if found is not None:
                return found
        if email:
            return await session.scalar(
                select(Person.id).where(Person.email == email).order_by(Person.id).limit(1)
            )
    return None


WORDS_SHOWN = ("report.", "sla.", "status.")


def dashboard_words(renderer: Renderer, language: str) -> dict[str, str]:
    """The phrases the tab's page writes with, in the viewer's language (those it fills itself
    have no placeholders)."""
    words = renderer.phrases(Reader(locale=language))
    base = renderer.languages.get("en", {})
    return {
        key: words.t(key)
        for key, phrase in base.items()
        if key.startswith(WORDS_SHOWN) and isinstance(phrase, str) and "{" not in phrase
    }
