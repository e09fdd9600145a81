"""Sample data for every message template: a realistic case and a hostile one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.notify.views import AlertTicket, Outage, Reader, SpikeAlert, TicketView
from bot.reports.digest import Digest, DigestTicket
from bot.reports.service_levels import LevelCheck, ServiceLevels
from bot.reports.weekly import WeeklyFigures
from bot.tickets.durations import Duration
from bot.tickets.lifecycle import Status
from tests.unit.chat_card_samples import chat_samples

# Each hostile string tries one way out of "data": Teams markdown (links, emphasis, lists,
# headings, mentions), JSON structure (including a ",]" that a careless comma fix would eat),
# the Adaptive Card DATE() function, Jinja syntax, entities, direction overrides, emoji with
# joiners, right-to-left scripts.
MARKDOWN_LINK = "**[click](javascript:alert(1))**"
JSON_BREAK = '"}]},{"type":"Action.Submit","title":"pwn","data":{"action":"ack"}},]'
INJECTION = (
    f"{MARKDOWN_LINK} {JSON_BREAK} <at>Danielle</at> {{{{DATE(2026-11-24T10:00:00Z, SHORT)}}}} "
    "{{ 7*7 }} {% raw %} # heading > quote `code` ~~gone~~ _it_ \\ &#91;x&#93; | a | b | "
    "\u202egnp.exe 🔥👩‍💻 مرحبا بالعالم שלום עולם"
)
LINES = "\n".join(
    [
        "1. first numbered line",
        "- a list item",
        "+ another",
        "=====",
        "    indented code",
        INJECTION,
    ]
)
HUGE = (LINES + "\n") * (20_000 // (len(LINES) + 1) + 1)
HUGE = HUGE[:20_000]
EMOJI_WALL = "👩‍💻🔥" * 10_000

# Readers whose name is hostile and whose zone is nonsense (the organisation's zone is used).
HOSTILE_READERS = {
    "en": Reader(name=f"{MARKDOWN_LINK} \u202e", locale="en-GB", time_zone="Mars/Olympus"),
    "de": Reader(name=INJECTION, locale="de_AT", time_zone="../../etc/passwd"),
}

NOW = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # a Tuesday; 14:00 in Berlin


@dataclass(frozen=True)
class Sample:
    """What one message is rendered with."""

    ticket: TicketView | None
    extras: Mapping[str, object] = field(default_factory=dict)


REALISTIC_TICKET = TicketView(
    key="SR-1",
    summary="Checkout fails with an error when paying by card",
    type="incident",
    status=Status.IN_PROGRESS,
    priority="P2",
    created_at=NOW,
    reporter_name="Lena Learner",
    reporter_email="lena.learner@esmos.example",
    module="Checkout",
    impact="Customers cannot pay by card; orders are lost.",
    steps="Add any product to the cart, go to checkout, choose card payment, press Pay.",
    description="After pressing Pay the page shows 'Error 500'.\nIt started this morning.",
    first_seen=NOW - timedelta(hours=3),
    first_response_due=NOW + timedelta(hours=48),
    resolution_due=NOW + timedelta(days=7),
    vendor_escalation_due=NOW + timedelta(hours=24),
    assignee_name="Alex Agent",
    resolution="We patched the payment module and cleared the cache.",
    jira_url="https://esmos.atlassian.net/browse/SR-1",
)

# None in every optional field, and hostile text in every other one.
HOSTILE_TICKET = TicketView(
    key='SR-9"},{"x":"',
    summary=f"{MARKDOWN_LINK} {JSON_BREAK} 🔥 مرحبا",
    type=INJECTION,
    status=Status.WAITING_FOR_CUSTOMER,
    priority="P1 **[x](https://evil.example)**",
    created_at=NOW,
    reporter_name=f"محمد {MARKDOWN_LINK}",
    reporter_email='evil"@x.example',
    module=None,
    impact=HUGE,
    steps=EMOJI_WALL,
    description=HUGE,
    first_seen=None,
    first_response_due=None,
    resolution_due=None,
    vendor_escalation_due=None,
    assignee_name=None,
    resolution=HUGE,
    jira_url="javascript:alert(1)",
    paused=True,
)

OUTAGE = Outage(
    service="OpenCart",
    start=datetime(2026, 12, 1, 21, 0, tzinfo=UTC),
    end=datetime(2026, 12, 1, 23, 0, tzinfo=UTC),
    text="Checkout maintenance: the shop's checkout is switched off while we update it.",
)
HOSTILE_OUTAGE = Outage(service=INJECTION, start=OUTAGE.start, end=OUTAGE.end, text=HUGE)
SPIKE = SpikeAlert(
    alert_id=7,
    about="Checkout",
    observed=6,
    usual=0.4,
    minutes=40,
    tickets=(
        AlertTicket("SR-5", "Checkout fails with an error", "Checkout"),
        AlertTicket("SR-6", "Bezahlen geht nicht", "Checkout"),
        AlertTicket("SR-7", "Cannot pay, error at the last step", "Checkout"),
        AlertTicket("SR-8", "Zahlung schlägt beim Abschluss fehl", "Checkout"),
        AlertTicket("SR-9", "Payment page shows error 500", "Checkout"),
        AlertTicket("SR-10", "Orders are not going through", "Checkout"),
    ),
)
HOSTILE_SPIKE = SpikeAlert(
    alert_id=8,
    about=INJECTION,
    observed=400,
    usual=123456.789,
    minutes=40,
    tickets=tuple(AlertTicket(f"SR-{n}", HUGE, INJECTION) for n in range(400)),
)

DIGEST_AT = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # Tuesday 08:00 in Berlin
DIGEST = Digest(
    at=DIGEST_AT,
    open_total=17,
    by_priority=(("P1", 1), ("P2", 4), ("P3", 12)),
    by_status=(
        ("new", 3),
        ("acknowledged", 2),
        ("in_progress", 8),
        ("waiting_for_customer", 3),
        ("waiting_for_vendor", 1),
    ),
    breached=(
        DigestTicket(
            "SR-3",
            "Payment provider rejects every Mastercard",
            "P2",
            "Alex Agent",
            "resolution",
            DIGEST_AT - timedelta(hours=20, minutes=30),
        ),
        DigestTicket(
            "SR-7",
            "Cannot log in to the admin area",
            "P3",
            None,
            "first_response",
            DIGEST_AT - timedelta(hours=3),
        ),
    ),
    breached_total=2,
    at_risk=(
        DigestTicket(
            "SR-1",
            REALISTIC_TICKET.summary,
            "P2",
            "Alex Agent",
            "resolution",
            DIGEST_AT + timedelta(hours=6),
            percent=82,
        ),
        DigestTicket(
            "SR-12",
            "New shipping rates for Austria",
            "P3",
            "Sam Agent",
            "vendor_escalation",
            DIGEST_AT + timedelta(hours=4),
            percent=83,
        ),
    ),
    at_risk_total=2,
    at_risk_from=75,
    since=datetime(2026, 11, 22, 23, 0, tzinfo=UTC),  # Monday 00:00 in Berlin
    new=6,
    resolved=4,
    csat_average=2.8333,
    csat_answers=12,
    csat_target=3.0,
    csat_days=30,
    seen_late=("SR-14",),
    seen_late_total=1,
    seen_late_deadlines=2,
    availability=(("Checkout", 0.98541667, timedelta(minutes=35)),),
)
# Every list as long as the digest names, each line as hostile and as long as it can be.
HOSTILE_DIGEST = Digest(
    at=NOW,
    open_total=100_000,
    by_priority=((HOSTILE_TICKET.priority, 99_000), (JSON_BREAK, 600), (INJECTION, 400)),
    by_status=tuple((status.value, 10_000) for status in Status),
    breached=tuple(
        DigestTicket(
            HOSTILE_TICKET.key,
            EMOJI_WALL if n % 2 else HUGE,
            INJECTION,
            INJECTION if n % 2 else None,
            "vendor_escalation",
            NOW - timedelta(days=400),
        )
        for n in range(10)
    ),
    breached_total=60_000,
    at_risk=tuple(
        DigestTicket(
            HOSTILE_TICKET.key,
            EMOJI_WALL,
            MARKDOWN_LINK,
            EMOJI_WALL,
            "first_response",
            NOW + timedelta(seconds=20),
            percent=99,
        )
        for _ in range(10)
    ),
    at_risk_total=12_345,
    at_risk_from=75,
    since=NOW - timedelta(days=4),
    new=0,
    resolved=0,
    csat_average=None,
    csat_answers=0,
    csat_target=3.0,
    csat_days=30,
    seen_late=tuple(HOSTILE_TICKET.key for _ in range(10)),
    seen_late_total=70_000,
    seen_late_deadlines=210_000,
    availability=tuple((INJECTION[:60] + str(n), 0.0, timedelta(days=3)) for n in range(10)),
)


# Week 48 of 2026 as the report of Monday 30 November shows it.
WEEKLY = WeeklyFigures(
    week="2026-W48",
    start=datetime(2026, 11, 22, 23, 0, tzinfo=UTC),  # Monday 23 Nov, 00:00 in Berlin
    end=datetime(2026, 11, 29, 23, 0, tzinfo=UTC),
    at=datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
    opened=14,
    by_type=(("incident", 7), ("service request", 4), ("bug", 2), ("permission", 1)),
    more_types=0,
    by_owner=(("Alex Agent", 8), ("Sam Agent", 5)),
    more_owners=0,
    unassigned=1,
    levels=ServiceLevels(
        checks=(
            LevelCheck(
                "first_response", Duration(48, "hours"), 14, 1, timedelta(hours=5, minutes=10)
            ),
            LevelCheck("resolution", Duration(5, "days", business=True), 14, 0, timedelta(days=2)),
            LevelCheck("vendor_escalation", Duration(24, "hours"), 0, 0, None),
        ),
        csat_average=3.25,
        csat_answers=8,
        csat_target=3.0,
    ),
    responded=13,
    resolved=9,
    first_contact=6,
    reopened=1,
    low_rated=1,
    not_solved=2,
    mean_interactions=2.36,
    availability=(("Checkout", 0.99652777, timedelta(minutes=35)),),
)
# As many types and owners as the report names, each hostile; every level missed or unjudged.
HOSTILE_WEEKLY = WeeklyFigures(
    week="2026-W53",
    start=datetime(2026, 12, 27, 23, 0, tzinfo=UTC),
    end=datetime(2027, 1, 3, 23, 0, tzinfo=UTC),
    at=NOW,
    opened=100_000,
    by_type=tuple((INJECTION if n % 2 else EMOJI_WALL, 9_000 - n) for n in range(10)),
    more_types=10_000,
    by_owner=tuple((HUGE if n % 2 else JSON_BREAK, 9_000 - n) for n in range(10)),
    more_owners=10_000,
    unassigned=1,
    levels=ServiceLevels(
        checks=(
            LevelCheck(
                "first_response", Duration(1, "minutes"), 100_000, 99_999, timedelta(days=400)
            ),
            LevelCheck("resolution", Duration(1, "days", business=True), 100_000, 1, None),
            LevelCheck("vendor_escalation", Duration(1, "hours", business=True), 1, 1, None),
        ),
        csat_average=1.0,
        csat_answers=1,
        csat_target=4.0,
    ),
    responded=1,
    resolved=0,
    first_contact=0,
    reopened=100_000,
    low_rated=100_000,
    not_solved=100_000,
    mean_interactions=None,
    period="month",  # as /report month asks for it
    availability=tuple((INJECTION[:60] + str(n), 0.0, timedelta(days=31)) for n in range(10)),
    days=30,
)


def _pair(
    realistic: Mapping[str, object],
    hostile: Mapping[str, object],
    *,
    ticket: bool = True,
    status: Status = Status.IN_PROGRESS,
) -> dict[str, Sample]:
    return {
        "realistic": Sample(
            replace(REALISTIC_TICKET, status=status) if ticket else None, realistic
        ),
        "hostile": Sample(HOSTILE_TICKET if ticket else None, hostile),
    }


SAMPLES: dict[str, dict[str, Sample]] = {
    "customer/ticket_received": {
        "realistic": Sample(replace(REALISTIC_TICKET, status=Status.NEW, assignee_name=None)),
        "hostile": Sample(replace(HOSTILE_TICKET, status=Status.NEW)),
    },
    "customer/being_worked_on": _pair({}, {}),
    "customer/being_worked_on_news": _pair({}, {}, status=Status.ACKNOWLEDGED),
    "customer/question": _pair(
        {"question": "Which payment provider were you using?", "author": "Alex Agent"},
        {"question": HUGE, "author": None, "reminder": True},
        status=Status.WAITING_FOR_CUSTOMER,
    ),
    "customer/agent_reply": _pair(
        {"comment": "We can reproduce it and are looking at the logs.", "author": "Alex Agent"},
        {"comment": EMOJI_WALL, "author": None},
    ),
    "customer/vendor_involved": _pair(
        {"vendor": "OpenCart"}, {"vendor": INJECTION}, status=Status.WAITING_FOR_VENDOR
    ),
    "customer/vendor_involved_news": _pair(
        {"vendor": "OpenCart"}, {"vendor": INJECTION}, status=Status.WAITING_FOR_VENDOR
    ),
    "customer/service_restored": _pair(
        {"service": "Checkout", "since": NOW - timedelta(minutes=35), "back": NOW},
        {"service": INJECTION, "since": NOW - timedelta(days=400), "back": NOW},
    ),
    "customer/resolved": _pair({}, {"no_response": True}, status=Status.RESOLVED),
    "customer/status_changed": _pair(
        {"previous_status": Status.ACKNOWLEDGED}, {"previous_status": None}
    ),
    "customer/survey": _pair(
        {"survey_id": "csat-41"},
        {"survey_id": JSON_BREAK, "reminder": True},
        status=Status.RESOLVED,
    ),
    "customer/problem_resolved": _pair({}, {}, status=Status.RESOLVED),
    "agents/problem_alert": _pair({"alert": SPIKE}, {"alert": HOSTILE_SPIKE}, ticket=False),
    "customer/problem_update": _pair(
        {"comment": "The fix is being rolled out; checkout works again for most shops."},
        {"comment": EMOJI_WALL},
    ),
    "customer/planned_outage": _pair({"outage": OUTAGE}, {"outage": HOSTILE_OUTAGE}, ticket=False),
    "agents/new_ticket": {
        "realistic": Sample(
            replace(REALISTIC_TICKET, status=Status.NEW, assignee_name=None),
            {"suggested": {"key": "PRB-1", "summary": "The checkout fails for everyone"}},
        ),
        "hostile": Sample(
            replace(HOSTILE_TICKET, status=Status.NEW),
            {"suggested": {"key": INJECTION, "summary": HUGE}},
        ),
    },
    "agents/customer_replied": _pair(
        {"comment": "I was using PayFast, with a Visa card."}, {"comment": HUGE}
    ),
    "agents/sla_nudge": _pair(
        {
            "sla_name": "first_response",
            "due": NOW + timedelta(hours=12),
            "time_left": timedelta(hours=2, minutes=15),
            "percent": 75,
        },
        {
            "sla_name": "resolution",
            "due": NOW,
            "time_left": timedelta(seconds=20),
            "percent": 90,
        },
    ),
    "agents/internal_note": _pair(
        {"comment": "Vendor ticket 4711 is open for this.", "author": "Sam Agent"},
        {"comment": HUGE, "author": None},
    ),
    "agents/reopened": _pair(
        {"reason": "Card payment still fails for Mastercard."},
        {"reason": None},
        status=Status.REOPENED,
    ),
    "agents/delivery_failed": {
        "realistic": Sample(
            REALISTIC_TICKET,
            {
                "recipient": "Lena Learner",
                "message": "customer/resolved",
                "error": "403 Forbidden: MessageWritesBlocked",
                "attempts": 8,
            },
        ),
        "hostile": Sample(
            None,
            {"recipient": INJECTION, "message": JSON_BREAK, "error": HUGE, "attempts": 12},
        ),
    },
    "agents/could_not_reach": {
        "realistic": Sample(
            REALISTIC_TICKET,
            {
                "person": "Frank Forgetful",
                "address": "frank.forgetful@esmos.example",
                "cause": "no_graph",
                "message": "customer/ticket_received",
                "detail": "403 Forbidden: Missing role permissions on the request. API requires"
                " one of 'TeamsAppInstallation.ReadWriteSelfForUser.All'.",
            },
        ),
        "hostile": Sample(
            None,
            {
                "person": INJECTION,
                "address": JSON_BREAK,
                "cause": "forbidden",
                "message": HUGE,
                "detail": LINES,
            },
        ),
    },
    "vendor/escalation": _pair(
        {
            "note": "Payment module throws 500 on 4.0.2.3",
            "respond_by": NOW + timedelta(hours=24),
        },
        {"note": HUGE, "respond_by": None},
        status=Status.WAITING_FOR_VENDOR,
    ),
    "agents/csat_result": _pair(
        {"score": 4, "comment": "Quick and friendly, thank you."},
        {"score": 1, "comment": HUGE},
        status=Status.RESOLVED,
    ),
    "vendor/reminder": _pair(
        {"respond_by": NOW + timedelta(hours=2)},
        {"respond_by": NOW - timedelta(days=400)},
        status=Status.WAITING_FOR_VENDOR,
    ),
    "agents/vendor_overdue": _pair(
        {"respond_by": NOW - timedelta(minutes=5)},
        {"respond_by": NOW + timedelta(days=400)},
        status=Status.WAITING_FOR_VENDOR,
    ),
    "agents/vendor_update": _pair(
        {"comment": "Patch 4.0.2.4 fixes it.", "author": "OpenCart Support"},
        {"comment": HUGE, "author": INJECTION},
        status=Status.WAITING_FOR_VENDOR,
    ),
    "management/sla_breach": _pair(
        {
            "sla_name": "first_response",
            "due": NOW - timedelta(hours=3),
            "late_by": timedelta(hours=3, minutes=5),
        },
        {
            "sla_name": "vendor_escalation",
            "due": NOW,
            "late_by": timedelta(days=400),
            "kept_late": True,
        },
    ),
    "management/major_incident": {
        "realistic": Sample(replace(REALISTIC_TICKET, priority="P1", status=Status.NEW)),
        "hostile": Sample(replace(HOSTILE_TICKET, status=Status.NEW)),
    },
    "management/low_csat": _pair(
        {"score": 2, "comment": "It took a week and nobody told me anything."},
        {"score": 1, "comment": None},
        status=Status.CLOSED,
    ),
    "management/planned_outage": _pair(
        {"outage": OUTAGE, "recipients": 1234},
        {"outage": HOSTILE_OUTAGE, "recipients": 0},
        ticket=False,
    ),
    "management/digest": _pair({"digest": DIGEST}, {"digest": HOSTILE_DIGEST}, ticket=False),
    "management/weekly_report": _pair({"weekly": WEEKLY}, {"weekly": HOSTILE_WEEKLY}, ticket=False),
}
# The cards of the customer's chat.
SAMPLES.update(
    {
        template: {kind: Sample(ticket, extras) for kind, (ticket, extras) in kinds.items()}
        for template, kinds in chat_samples(
            REALISTIC_TICKET, HOSTILE_TICKET, INJECTION, HUGE
        ).items()
    }
)

# The free texts a card must show as text (the beginning of them, when they are long).
SHOWN_EXTRAS = ("question", "comment", "note", "reason")


def benign_twin(sample: Sample) -> Sample:
    """The same sample with harmless words in place of every free text.

    Identifiers, links, numbers, dates and None stay as they are, so the twin's card must have
    exactly the hostile card's structure: any difference would be structure injected by text.
    """
    ticket = sample.ticket
    if ticket is not None:
        texts = ("summary", "type", "priority", "reporter_name", "module", "impact", "steps",
                 "description", "assignee_name", "resolution")  # fmt: skip
        ticket = replace(
            ticket,
            **{name: "words" for name in texts if getattr(ticket, name) is not None},
        )
    extras: dict[str, object] = {}
    for key, value in sample.extras.items():
        if isinstance(value, Outage):
            value = replace(value, service="words", text="words")
        elif isinstance(value, Digest):
            value = _benign_digest(value)
        elif isinstance(value, WeeklyFigures):
            value = replace(
                value,
                by_type=tuple(("words", count) for _, count in value.by_type),
                by_owner=tuple(("words", count) for _, count in value.by_owner),
            )
        elif isinstance(value, str) and key not in ("survey_id", "sla_name"):
            value = "words"
        extras[key] = value
    return Sample(ticket, extras)


def _benign_digest(digest: Digest) -> Digest:
    def words(item: DigestTicket) -> DigestTicket:
        owner = None if item.owner is None else "words"
        return replace(item, summary="words", priority="words", owner=owner)

    return replace(
        digest,
        by_priority=tuple(("words", count) for _, count in digest.by_priority),
        breached=tuple(map(words, digest.breached)),
        at_risk=tuple(map(words, digest.at_risk)),
    )
