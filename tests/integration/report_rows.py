"""Writes the hand-built three-day history of tests/unit/report_history.py into a database."""

from __future__ import annotations

from bot.db import Database
from bot.directory.models import Person
from bot.tickets.models import CsatSurvey, Ticket, TicketEvent
from tests.unit.report_history import MOVES, SURVEYS_BY_TICKET, TICKETS


async def store_history(database: Database) -> None:
    """The tickets, their owners, their status moves as audit lines and the surveys."""
    async with database.transaction() as session:
        owners = {name: Person(name=name) for name in sorted({t.owner for t in TICKETS if t.owner})}
        session.add_all(owners.values())
        await session.flush()
        stored = {
            row.id: Ticket(
                    key=row.key, type=row.type, summary=row.key, module=row.module,
                    priority=row.priority, status=row.status, created_at=row.created_at,
                    first_response_at=row.first_response_at, resolved_at=row.resolved_at,
                    closed_at=row.closed_at, first_response_due=row.first_response_due,
                    resolution_due=row.resolution_due,
                    vendor_escalation_due=row.vendor_escalation_due,
                    vendor_escalated_at=row.vendor_escalated_at, paused_since=row.paused_since,
                    reopen_count=row.reopen_count, interaction_count=row.interactions,
                    assignee_id=owners[row.owner].id if row.owner else None,
                )
            for row in TICKETS
        }  # fmt: skip
        # The database numbers them (a sequence on PostgreSQL); the history's ids map to those.
        session.add_all(stored.values())
        await session.flush()
        for number, move in enumerate(MOVES):
            session.add(
                TicketEvent(
                    ticket_id=stored[move.ticket_id].id, ticket_key=f"SR-{move.ticket_id}",
                    at=move.at, kind="status_changed", dedupe_key=f"move-{number}",
                    payload={"status": {"from": "?", "to": move.to}, "outcome": "applied"},
                )
            )  # fmt: skip
            # A comment in between: an audit line that moves no status.
            session.add(
                TicketEvent(
                    ticket_id=stored[move.ticket_id].id, ticket_key=f"SR-{move.ticket_id}",
                    at=move.at, kind="commented", dedupe_key=f"comment-{number}",
                    payload={"comment": {"body": "…", "public": True}, "outcome": "applied"},
                )
            )  # fmt: skip
        for ticket_id, sent, answered, score in SURVEYS_BY_TICKET:
            session.add(
                CsatSurvey(
                    ticket_id=stored[ticket_id].id, status="answered" if answered else "sent",
                    due_at=sent, sent_at=sent, answered_at=answered, score=score,
                )
            )  # fmt: skip
