"""Who hears of what: a table from what changed on a ticket to audiences and their message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.tickets.events import Change

# Audiences: the reporter's and the assignee's 1:1 chats, and the channels bound with /subscribe.
CUSTOMER = "customer"
ASSIGNEE = "assignee"
AGENTS = "agents"
VENDOR = "vendor"
MANAGEMENT = "management"
# Everyone a problem affects: the customers of its linked tickets and those added at intake.
AFFECTED = "affected"

# The customer's ticket card: posted when the ticket arrives, then redrawn in place by the
# messages that only report progress, so the chat does not fill with status noise. What needs
# the customer gets a new message: a question, the resolution, the survey, and an agent's
# public reply (a person's words, often asking something, that the next status would
# otherwise overwrite; Teams notifies of new posts, not of edits). News the customer should
# notice (someone took the request, the vendor is involved) redraws the card and also posts a
# one-line message, so that Teams notifies of it.
TICKET_CARD = "customer/ticket_received"
REDRAWS_TICKET_CARD = frozenset(
    {"customer/being_worked_on", "customer/status_changed", "customer/vendor_involved"}
)
NEWS_BESIDE_TICKET_CARD = frozenset(
    {"customer/being_worked_on_news", "customer/vendor_involved_news"}
)
# Rows that wait until the ticket card rows before them are settled, so that none overtakes
# the card it follows.
FOLLOWS_TICKET_CARD = REDRAWS_TICKET_CARD | NEWS_BESIDE_TICKET_CARD

# Messages that tell one audience another has been told: they go only together with the message
# they speak of, so that nobody hears "we've passed it on" while nothing was passed on.
TOLD_AFTER = {
    "customer/vendor_involved": "vendor/escalation",
    "customer/vendor_involved_news": "vendor/escalation",
}


@dataclass(frozen=True)
class Intent:
    """One message one audience must get; `template` is `<folder>/<message>` under templates/."""

    audience: str
    template: str


@dataclass(frozen=True)
class TicketFacts:
    """What routing needs to know about the ticket beyond the change itself."""

    priority: str
    has_assignee: bool
    problem: bool = False


_TABLE: dict[Change, tuple[Intent, ...]] = {
    Change.CREATED: (
        Intent(CUSTOMER, "customer/ticket_received"),
        Intent(AGENTS, "agents/new_ticket"),
    ),
    Change.ACKNOWLEDGED: (
        Intent(CUSTOMER, "customer/being_worked_on"),
        Intent(CUSTOMER, "customer/being_worked_on_news"),
    ),
    Change.WAITING_FOR_CUSTOMER: (Intent(CUSTOMER, "customer/question"),),
    Change.CUSTOMER_REPLIED: (Intent(ASSIGNEE, "agents/customer_replied"),),
    # The agent who marks it has the answer; the 24 h clock's nudges follow from the due actions.
    Change.VENDOR_NEEDED: (),
    Change.ESCALATED_TO_VENDOR: (
        Intent(VENDOR, "vendor/escalation"),
        Intent(CUSTOMER, "customer/vendor_involved"),
        Intent(CUSTOMER, "customer/vendor_involved_news"),
    ),
    Change.PUBLIC_COMMENT: (Intent(CUSTOMER, "customer/agent_reply"),),
    Change.INTERNAL_COMMENT: (Intent(AGENTS, "agents/internal_note"),),
    Change.VENDOR_ANSWERED: (Intent(ASSIGNEE, "agents/vendor_update"),),
    Change.RESOLVED: (Intent(CUSTOMER, "customer/resolved"),),
    Change.REOPENED: (Intent(ASSIGNEE, "agents/reopened"), Intent(AGENTS, "agents/reopened")),
    Change.STATUS_CHANGED: (Intent(CUSTOMER, "customer/status_changed"),),
    Change.CANCELLED: (Intent(CUSTOMER, "customer/status_changed"),),
    Change.CLOSED: (),
    Change.ASSIGNED: (Intent(ASSIGNEE, "agents/new_ticket"),),
    Change.PRIORITY_RAISED_TO_P1: (Intent(MANAGEMENT, "management/major_incident"),),
    Change.PRIORITY_CHANGED: (),
    Change.FIELDS_UPDATED: (),
    Change.DELETED: (),
}


# A problem's reporter is the desk itself: what a customer would hear goes to the affected,
# and only what every one of them should know: an update in words, and the solution.
_PROBLEM_TABLE: dict[Change, tuple[Intent, ...]] = {
    Change.CREATED: (Intent(AGENTS, "agents/new_ticket"),),
    Change.PUBLIC_COMMENT: (Intent(AFFECTED, "customer/problem_update"),),
    Change.RESOLVED: (Intent(AFFECTED, "customer/problem_resolved"),),
}


def route(changes: Iterable[Change], facts: TicketFacts) -> list[Intent]:
    """The messages these changes call for, each once, in a stable order."""
    changes = list(changes)
    if facts.problem:
        told = [
            intent
            for change in changes
            for intent in _PROBLEM_TABLE.get(change, _TABLE[change])
            if intent.audience != CUSTOMER
        ]
        return _unique(told, facts)
    intents: list[Intent] = []
    for change in changes:
        intents.extend(_TABLE[change])
        if change in (Change.CREATED, Change.ESCALATED_TO_VENDOR) and facts.priority == "P1":
            # A major incident is management's business from its first minute.
            intents.append(Intent(MANAGEMENT, "management/major_incident"))
    return _unique(intents, facts)


def _unique(intents: list[Intent], facts: TicketFacts) -> list[Intent]:
    if not facts.has_assignee:
        # Nobody owns it yet: what the owner would hear goes to the whole desk.
        intents = [Intent(AGENTS, i.template) if i.audience == ASSIGNEE else i for i in intents]
    unique: list[Intent] = []
    for intent in intents:
        if intent not in unique:
            unique.append(intent)
    return unique
