"""Reads the rows a period's report is made of, in a reading transaction, and makes the report."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.db import Database
from bot.directory.models import Person
from bot.reports.figures import StatusMove, SurveyRow, TicketRow
from bot.reports.kpis import lowest_scores
from bot.reports.trends import Report, reach_back, report
from bot.tickets.models import CsatSurvey, Ticket, TicketEvent


async def period_report(
    database: Database,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    organisation: Organisation,
) -> Report:
    """The report of [start, end) as of `now`. It only reads: on SQLite it neither waits for
    the writer nor makes ticket events wait for it, on PostgreSQL it is READ ONLY."""
    since = reach_back(start, end, organisation.time_zone)
    async with database.reading() as session:
        tickets = await ticket_rows(session, since=since, end=end)
        # The stages are measured on the tickets of the period and of the one before it only.
        moves = await status_moves(session, since=start - (end - start), end=end)
        surveys = await survey_rows(session, since=since, end=end)
    # Seconds of arithmetic over a long period: in a thread, so the loop keeps serving turns.
    return await asyncio.to_thread(
        partial(report, start=start, end=end, now=now, organisation=organisation),
        tickets,
        moves,
        surveys,
    )


async def ticket_rows(session: AsyncSession, *, since: datetime, end: datetime) -> list[TicketRow]:
    """The tickets created, resolved or closed in [since, end), each through its own index."""
    lowest = lowest_scores()
    rows = await session.execute(
        select(
            Ticket.id,
            Ticket.key,
            Ticket.type,
            Ticket.module,
            Ticket.priority,
            Ticket.status,
            Ticket.created_at,
            Ticket.first_response_at,
            Ticket.resolved_at,
            Ticket.closed_at,
            Ticket.first_response_due,
            Ticket.resolution_due,
            Ticket.vendor_escalation_due,
            Ticket.vendor_escalated_at,
            Ticket.paused_since,
            Ticket.reopen_count,
            Ticket.interaction_count,
            # A person esmbot knows only by address is still an owner, not "unassigned".
            func.coalesce(func.nullif(Person.name, ""), Person.email),
            lowest.c.score,
        )
        .outerjoin(Person, Person.id == Ticket.assignee_id)
        .outerjoin(lowest, lowest.c.ticket_id == Ticket.id)
        .where(
            or_(
                (Ticket.created_at >= since) & (Ticket.created_at < end),
                (Ticket.resolved_at >= since) & (Ticket.resolved_at < end),
                (Ticket.closed_at >= since) & (Ticket.closed_at < end),
            )
        )
    )
    # SQLAlchemy types the first ten columns of a row and leaves the rest open, and mypy lets no
    # open column stand for a named argument.
    return [TicketRow(*row) for row in rows]  # type: ignore[call-arg]


async def status_moves(
    session: AsyncSession, *, since: datetime, end: datetime
) -> list[StatusMove]:
    """The status history (the audit lines that moved a status) of the tickets created in
    [since, end)."""
    to = TicketEvent.payload["status"]["to"].as_string()
    created = select(Ticket.id).where(Ticket.created_at >= since, Ticket.created_at < end)
    rows = await session.execute(
        select(TicketEvent.ticket_id, TicketEvent.at, to).where(
            TicketEvent.ticket_id.in_(created), to.is_not(None)
        )
    )
    return [StatusMove(ticket, at, status) for ticket, at, status in rows if ticket is not None]


async def survey_rows(session: AsyncSession, *, since: datetime, end: datetime) -> list[SurveyRow]:
    """The surveys sent or answered in [since, end)."""
    rows = await session.execute(
        select(CsatSurvey.sent_at, CsatSurvey.answered_at, CsatSurvey.score).where(
            or_(
                (CsatSurvey.sent_at >= since) & (CsatSurvey.sent_at < end),
                (CsatSurvey.answered_at >= since) & (CsatSurvey.answered_at < end),
            )
        )
    )
    return [SurveyRow(sent, answered, score) for sent, answered, score in rows]
