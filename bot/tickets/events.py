"""The one normalised ticket event that every source (Jira, the generic API, Teams) produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TypedDict

from bot.tickets.lifecycle import Status


class EventKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"  # descriptive fields changed (summary, description, module, …)
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    COMMENTED = "commented"
    PRIORITY_CHANGED = "priority_changed"
    VENDOR_NEEDED = "vendor_needed"  # the request needs the vendor: its escalation clock starts
    ESCALATED_TO_VENDOR = "escalated_to_vendor"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    DELETED = "deleted"


@dataclass(frozen=True)
class PersonRef:
    """Whoever a source names: any of these may be missing; matching to a person happens later."""

    name: str = ""
    email: str | None = None
    jira_account_id: str | None = None
    jira_name: str | None = None  # the pre-2019 Jira user name / key
    person_id: int | None = None  # set when the source is Teams and the person is known

    @property
    def label(self) -> str:
        return self.name or self.email or self.jira_account_id or self.jira_name or "unknown"


@dataclass(frozen=True)
class Comment:
    body: str
    public: bool
    author: PersonRef | None = None
    external_id: str | None = None


# A descriptive field's value: text, or a time for first_occurred_at; None clears it.
FieldValue = str | datetime | date | None
# Descriptive fields a created or updated event may carry, with their meaning.
TICKET_FIELDS = (
    "summary",
    "description",
    "type",
    "module",
    "impact",
    "steps",
    "first_occurred_at",
    "first_occurred_on",
    "priority",
    "resolution",
)


def first_occurred(value: datetime | date | None) -> dict[str, datetime | date | None]:
    """The fields that say when a problem was first noticed: a moment, or a day without a time;
    either one clears the other."""
    if isinstance(value, datetime) or value is None:
        return {"first_occurred_at": value, "first_occurred_on": None}
    return {"first_occurred_at": None, "first_occurred_on": value}


def day_or_moment(text: str | None) -> datetime | date | None:
    """What `isoformat()` wrote of a first-noticed time: a date-time, or a date alone."""
    if not text:
        return None
    return (
        date.fromisoformat(text) if len(text) == len("2026-11-22") else datetime.fromisoformat(text)
    )


@dataclass(frozen=True)
class TicketEvent:
    """Something that happened to a ticket, said the same way whatever system reported it.

    `dedupe_key` is unique per real-world happening, so that a redelivery is recognised;
    `occurred_at` is the source's own time, so that a late delivery cannot undo a newer change.
    """

    kind: EventKind
    source: str  # jira, api or esmbot
    ticket_key: str
    dedupe_key: str
    occurred_at: datetime
    actor: PersonRef | None = None
    external_id: str | None = None
    fields: dict[str, FieldValue] = field(default_factory=dict)
    status: Status | None = None
    assignee: PersonRef | None = None
    unassigned: bool = False
    reporter: PersonRef | None = None
    comment: Comment | None = None
    reason: str | None = None
    created_at: datetime | None = None  # the ticket's creation time, when the source says it
    # The source says the request needs the vendor (as of occurred_at): the 24 h clock runs.
    vendor_needed: bool = False
    # The comment is the vendor's answer to an escalation (its first one is recorded).
    from_vendor: bool = False
    # On creation: the key user who opened the ticket for the reporter, a colleague of hers.
    opened_by: PersonRef | None = None
    # On resolving a monitoring incident: the service (module) that works again.
    restores: str | None = None

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")
        unknown = set(self.fields) - set(TICKET_FIELDS)
        if unknown:
            raise ValueError(f"unknown ticket fields: {', '.join(sorted(unknown))}")


class EventDetails(TypedDict, total=False):
    """What an event may say beyond its kind, ticket and actor, by the names TicketEvent takes."""

    external_id: str | None
    fields: dict[str, FieldValue]
    status: Status | None
    assignee: PersonRef | None
    unassigned: bool
    reporter: PersonRef | None
    comment: Comment | None
    reason: str | None
    created_at: datetime | None
    vendor_needed: bool
    from_vendor: bool
    opened_by: PersonRef | None
    restores: str | None


class Change(StrEnum):
    """What applying an event actually changed; notifications are chosen from these."""

    CREATED = "created"
    ACKNOWLEDGED = "acknowledged"  # the first response: the customer learns someone is on it
    STATUS_CHANGED = "status_changed"
    WAITING_FOR_CUSTOMER = "waiting_for_customer"
    VENDOR_NEEDED = "vendor_needed"
    CUSTOMER_REPLIED = "customer_replied"
    ESCALATED_TO_VENDOR = "escalated_to_vendor"
    PUBLIC_COMMENT = "public_comment"
    INTERNAL_COMMENT = "internal_comment"
    VENDOR_ANSWERED = "vendor_answered"  # an internal note from the vendor
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    ASSIGNED = "assigned"
    PRIORITY_RAISED_TO_P1 = "priority_raised_to_p1"
    PRIORITY_CHANGED = "priority_changed"
    FIELDS_UPDATED = "fields_updated"
    DELETED = "deleted"
