"""The plain, frozen data that message templates see: a ticket, its reader and a few extras."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from bot.tickets.lifecycle import Status

# The deadlines a ticket can miss; each has a word under [sla] in the i18n files.
SlaName = Literal["first_response", "resolution", "vendor_escalation"]


@dataclass(frozen=True, slots=True)
class TicketView:
    """What a message may say about a ticket; every datetime is timezone-aware (or None).

    Which of these an audience sees is the template's choice: a customer card shows no
    agent-only field, and a vendor card no reporter.
    """

    key: str
    summary: str
    type: str
    status: Status
    priority: str
    created_at: datetime
    reporter_name: str
    module: str | None = None
    impact: str | None = None
    steps: str | None = None
    description: str | None = None
    first_seen: datetime | date | None = None  # a day alone when no time was named
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    vendor_escalation_due: datetime | None = None
    vendor_response_due: datetime | None = None  # when the vendor is to answer an escalation
    assignee_name: str | None = None
    # Only for the agents' "chat with the requester" deep link.
    reporter_email: str | None = None
    resolution: str | None = None
    jira_url: str | None = None
    # The resolution clock is stopped while the desk waits for the customer.
    paused: bool = False


@dataclass(frozen=True, slots=True)
class Reader:
    """The person (or channel) a message is written for: their language and time zone.

    `locale` is the Teams locale ("de-DE", "en-US"); None or an unknown language falls back to
    the organisation's default, and None or an unknown time zone to the organisation's zone.
    """

    name: str | None = None
    locale: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class Outage:
    """A planned outage announced to customers and management."""

    service: str
    start: datetime
    end: datetime
    text: str


@dataclass(frozen=True, slots=True)
class AlertTicket:
    """One ticket as a spike alert lists it, to the desk."""

    key: str
    summary: str
    module: str | None


@dataclass(frozen=True, slots=True)
class SpikeAlert:
    """What the detector found: how many tickets about what, in how long, against the usual."""

    alert_id: int
    about: str  # the module, or the words the tickets share
    observed: int
    usual: float
    minutes: int
    tickets: tuple[AlertTicket, ...]
