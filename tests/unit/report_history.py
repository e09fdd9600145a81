"""A hand-built history: three days (Mon 2 – Wed 4 November 2026, Berlin) and the three before.

The tickets, their status moves and the surveys are written out here as rows; the test beside
this file holds the figures worked out from them by hand, and the database test loads the same
rows through the schema.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.config import parse_organisation
from bot.reports.figures import StatusMove, SurveyRow, TicketRow

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 2, tzinfo=BERLIN).astimezone(UTC)  # 1 Nov 23:00 UTC
END = datetime(2026, 11, 5, tzinfo=BERLIN).astimezone(UTC)
NOW = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)

ORGANISATION = parse_organisation(
    {
        "organisation": {"time_zone": "Europe/Berlin"},
        "calendar": {"working_days": ["mon", "tue", "wed", "thu", "fri"],
                     "working_hours": "08:00-17:00"},
        "sla": {"default": {"first_response": "4h", "resolution": "2 working days",
                            "vendor_escalation": "4h"}},
        "csat": {"target": 3.0},
    }
)  # fmt: skip


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment in UTC (Berlin is an hour ahead in November)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _ticket(
    id: int, type: str, module: str, priority: str, status: str, **rest: object
) -> TicketRow:
    values: dict[str, object] = {
        "first_response_at": None, "resolved_at": None, "closed_at": None,
        "first_response_due": None, "resolution_due": None, "vendor_escalation_due": None,
        "vendor_escalated_at": None, "paused_since": None, "reopen_count": 0,
        "interactions": 0, "owner": None, "lowest_score": None,
    }  # fmt: skip
    values.update(rest)
    return TicketRow(  # type: ignore[arg-type]
        id=id, key=f"SR-{id}", type=type, module=module, priority=priority, status=status,
        **values,
    )  # fmt: skip


TICKETS = (
    # In the period.
    _ticket(1, "incident", "Checkout", "P2", "closed", created_at=at(2, 8),
            first_response_at=at(2, 9), first_response_due=at(2, 12), resolved_at=at(2, 15),
            resolution_due=at(4, 8), closed_at=at(3, 8), interactions=2, owner="Alex",
            lowest_score=4),
    _ticket(2, "bug", "Payment", "P3", "resolved", created_at=at(2, 12),
            first_response_at=at(2, 18), first_response_due=at(2, 16), resolved_at=at(4, 10),
            resolution_due=at(6, 12), interactions=4, owner="Sam"),
    _ticket(3, "incident", "Checkout", "P1", "closed", created_at=at(3, 7),
            first_response_at=at(3, 7, 30), first_response_due=at(3, 8),
            vendor_escalation_due=at(3, 11), vendor_escalated_at=at(3, 12),
            resolution_due=at(4, 7), resolved_at=at(4, 9), closed_at=at(4, 12), interactions=3,
            owner="Alex", lowest_score=2),
    _ticket(4, "service request", "Admin", "P3", "new", created_at=at(4, 9),
            first_response_due=at(4, 13), resolution_due=at(8, 9)),
    _ticket(5, "incident", "Payment", "P2", "cancelled", created_at=at(4, 20),
            first_response_at=at(4, 20, 30), first_response_due=at(5, 0), interactions=1,
            owner="Sam"),
    # In the three days before.
    _ticket(6, "incident", "Checkout", "P3", "closed", created_at=at(30, 10, month=10),
            first_response_at=at(30, 11, month=10), first_response_due=at(30, 14, month=10),
            resolved_at=at(30, 16, month=10), resolution_due=at(3, 10), closed_at=at(2, 9),
            interactions=2, owner="Alex", lowest_score=3),
    _ticket(7, "bug", "Admin", "P3", "acknowledged", created_at=at(31, 10, month=10),
            first_response_at=at(1, 10), first_response_due=at(31, 14, month=10),
            resolution_due=at(10, 10), interactions=1, owner="Sam"),
)  # fmt: skip

MOVES = (
    StatusMove(1, at(2, 9), "acknowledged"),
    StatusMove(1, at(2, 10), "in_progress"),
    StatusMove(1, at(2, 15), "resolved"),
    StatusMove(1, at(3, 8), "closed"),
    StatusMove(2, at(2, 18), "acknowledged"),
    StatusMove(2, at(3, 8), "waiting_for_customer"),
    StatusMove(2, at(3, 14), "in_progress"),
    StatusMove(2, at(4, 10), "resolved"),
    StatusMove(3, at(3, 7, 30), "acknowledged"),
    StatusMove(3, at(3, 8), "in_progress"),
    StatusMove(3, at(3, 12), "waiting_for_vendor"),
    StatusMove(3, at(3, 20), "in_progress"),
    StatusMove(3, at(4, 9), "resolved"),
    StatusMove(3, at(4, 12), "closed"),
    StatusMove(5, at(4, 20, 30), "acknowledged"),
    StatusMove(5, at(4, 21), "cancelled"),
    StatusMove(6, at(30, 11, month=10), "acknowledged"),
    StatusMove(6, at(30, 16, month=10), "resolved"),
    StatusMove(6, at(2, 9), "closed"),
    StatusMove(7, at(1, 10), "acknowledged"),
)

# (ticket id, sent, answered, score)
SURVEYS_BY_TICKET = (
    (1, at(3, 8), at(3, 9), 4),
    (3, at(4, 12), at(4, 13), 2),
    (2, at(4, 11), None, None),
    (6, at(30, 17, month=10), at(2, 10), 3),
)
SURVEYS = tuple(SurveyRow(sent, answered, score) for _, sent, answered, score in SURVEYS_BY_TICKET)
