"""Sample data for the cards of the customer's chat: a realistic case and a hostile one each."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.dialogs.open_ticket import CHANGEABLE
from bot.dialogs.replies import TicketLine
from bot.notify.views import TicketView
from bot.tickets.lifecycle import Status
from bot.tickets.requester import HistoryLine

AT = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def chat_samples(
    realistic: TicketView, hostile: TicketView, injection: str, huge: str
) -> dict[str, dict[str, tuple[TicketView | None, dict[str, object]]]]:
    """Template → kind → (ticket, extras); card_samples.py turns them into Samples."""
    lines = tuple(
        TicketLine(
            f"SR-{n}",
            f"Checkout problem number {n}",
            status,
            "Alex Agent",
            AT,
            "first_response",
            "Lena Learner" if n % 2 else None,  # some opened for a colleague
        )
        for n, status in enumerate(Status, 1)
    )
    hostile_lines = tuple(
        TicketLine("SR-9", huge, Status.NEW, injection, None, None, injection) for _ in range(15)
    )
    story = (
        HistoryLine(AT - timedelta(days=2), "created"),
        HistoryLine(AT - timedelta(days=1), "assigned", who="Alex Agent"),
        HistoryLine(AT - timedelta(hours=5), "status", status="waiting_for_customer",
                    who="Alex Agent", detail="Which payment provider were you using?"),
        HistoryLine(AT - timedelta(hours=2), "reply", who="Lena Learner", detail="Stripe"),
    )  # fmt: skip
    hostile_story = tuple(
        HistoryLine(AT, what, status="resolved", who=injection, detail=huge[:300])
        for what in ("created", "reply", "assigned", "status") * 3
    )
    draft = {
        "summary": "Checkout fails with an error",
        "type": "incident",
        "module": "Checkout",
        "impact": "No customer can pay by card",
        "steps": "Add an item, go to checkout, pay by card",
        "first_seen": AT - timedelta(hours=3),
        "priority": "P2",
        "for_email": None,
        "sent_as": None,
        "fields": list(CHANGEABLE),
    }
    hostile_draft = {
        **{name: huge for name in ("summary", "type", "module", "impact", "steps")},
        "first_seen": None,
        "priority": injection,
        "for_email": injection,
        "sent_as": None,
        "fields": list(CHANGEABLE),
    }
    return {
        "customer/welcome": {
            "realistic": (None, {"name": "Lena Learner", "bot": "esmbot", "service": "OpenCart",
                                 "can_open": True}),
            "hostile": (None, {"name": injection, "bot": injection, "service": huge,
                               "can_open": False}),
        },
        "customer/ticket_draft": {
            "realistic": (None, draft),
            "hostile": (None, hostile_draft | {"sent_as": injection}),
        },
        "customer/choose": {
            "realistic": (None, {
                "question": "How urgent is it for you? The service desk checks it.",
                "field": "priority",
                "asked": "d1Z2tr4XkqA",
                "choices": [["P1", "P1 – Critical: the shop or a key process is down"],
                            ["P2", "P2 – High: important work is blocked, no workaround"],
                            ["not_sure", "Not sure – let the desk decide"]],
            }),
            "hostile": (None, {"question": huge, "field": injection, "asked": injection,
                               "choices": [[injection, huge]] * 12}),
        },
        "customer/my_tickets": {
            "realistic": (None, {"tickets": lines, "total": len(lines), "closed": False}),
            "hostile": (None, {"tickets": hostile_lines, "total": 4000, "closed": True}),
        },
        "customer/ticket_status": {
            "realistic": (
                replace(realistic, status=Status.WAITING_FOR_CUSTOMER),
                {"history": story, "due": None, "due_name": None},
            ),
            "hostile": (replace(hostile, status=Status.RESOLVED),
                        {"history": hostile_story, "due": AT, "due_name": "resolution"}),
        },
        "customer/ticket_card": {
            "realistic": (realistic, {
                "view": "desk", "buttons": ["ack", "assign_me", "priority", "escalate"],
                "notice": "SR-1 is yours now.", "refresh_ids": ["29:1abc", "29:2def"],
            }),
            "hostile": (hostile, {
                "view": "customer", "buttons": ["answer", "still_broken", injection],
                "notice": huge, "refresh_ids": [injection] * 80,
            }),
        },
        "customer/ticket_form": {
            "realistic": (None, {
                "summary": "The admin page is blank", "type": "incident", "module": "Admin",
                "description": "The admin page is blank\nsince this morning, for all of us",
                "priority": None, "types": [["incident", "Incident"], ["question", "Question"]],
                "modules": [["Admin", "Admin"], ["Checkout", "Checkout"]],
                "priorities": [["P1", "P1 – Critical: the shop or a key process is down"]],
                "author": "Lena Learner", "reporter": "author", "for_others": True,
                "for_email": None, "problem": None,
            }),
            "hostile": (None, {
                "summary": huge, "description": huge, "type": injection, "module": injection,
                "priority": injection, "types": [[injection, huge]] * 12,
                "modules": [[injection, huge]] * 12, "priorities": [[injection, huge]] * 4,
                "author": injection, "reporter": injection, "for_others": True,
                "for_email": injection, "problem": huge,
            }),
        },
        "customer/reply_received": {
            "realistic": (None, {"kind": "answer", "key": "SR-2", "text": "Stripe"}),
            "hostile": (None, {"kind": "csat", "key": injection, "text": huge, "score": 2}),
        },
    }  # fmt: skip
