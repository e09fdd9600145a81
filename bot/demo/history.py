"""Believable synthetic ticket history, planned from a seed: tickets, status moves and surveys.

Proportions follow what a small service desk sees: mostly incidents and service requests,
a few P1s, most answered and resolved in time, some late, some waiting on the customer or the
vendor, a few reopened, and about half of the surveys answered, mostly well. Nothing here
touches the database: `bot/demo/seed.py` writes what this plans.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.config import Organisation
from bot.tickets.lifecycle import INTERACTION_STATUSES, Status

TYPE_WEIGHTS = {
    "incident": 40, "service request": 25, "bug": 12, "change request": 6, "permission": 5,
    "problem": 3, "feature": 3, "purchasing": 2, "telephony": 2, "training": 1, "report": 1,
}  # fmt: skip
PRIORITY_WEIGHTS = {"P1": 3, "P2": 15, "P3": 60, "P4": 22}
SCORE_WEIGHTS = {4: 45, 3: 35, 2: 12, 1: 8}
WAITS_FOR_CUSTOMER, NEEDS_VENDOR, REOPENED = 0.3, 0.1, 0.05
LATE_ANSWER, LATE_FIX = 0.08, 0.1  # the shares that miss their first response and resolution
SURVEYED, ANSWERED = 0.7, 0.45


@dataclass
class PlannedTicket:
    """One ticket's columns and its history, as of `now`."""

    number: int
    type: str
    module: str | None
    priority: str
    created_at: datetime
    status: str = Status.NEW
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    vendor_escalation_due: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    vendor_escalated_at: datetime | None = None
    paused_since: datetime | None = None
    reopen_count: int = 0
    owner: str | None = None
    moves: list[tuple[datetime, str, str]] = field(default_factory=list)  # at, from, to
    survey: tuple[datetime, datetime | None, int | None] | None = None  # sent, answered, score

    @property
    def interactions(self) -> int:
        return sum(1 for _, _, to in self.moves if to in INTERACTION_STATUSES)


def _weighted(rng: random.Random, weights: dict[str, int], allowed: Sequence[str]) -> str:
    names = [name for name in weights if name in allowed] or list(allowed)
    return rng.choices(names, [weights.get(name, 1) for name in names])[0]


def _created(
    rng: random.Random, organisation: Organisation, start: datetime, span: float
) -> datetime:
    """Mostly inside working hours: a moment of the span, moved to an open one four times in five."""
    moment = start + timedelta(seconds=rng.random() * span)
    calendar = organisation.calendar
    if rng.random() < 0.8 and not calendar.is_open(moment):
        opened = calendar.next_open(moment)
        moment = opened + timedelta(minutes=rng.randrange(0, 8 * 60))
        moment = moment if calendar.is_open(moment) else opened
    return moment


def plan_history(
    organisation: Organisation, *, tickets: int, weeks: int, now: datetime, seed: int = 1
) -> Iterator[PlannedTicket]:
    """`tickets` tickets created over the `weeks` weeks before `now`, oldest first."""
    rng = random.Random(seed)
    start = now - timedelta(weeks=weeks)
    span = (now - start).total_seconds()
    agents = sorted(organisation.roles["agents"].emails) if "agents" in organisation.roles else []
    modules = list(organisation.modules)
    moments = sorted(_created(rng, organisation, start, span) for _ in range(tickets))
    for number, created in enumerate(moments, 1):
        module = (
            rng.choices(modules, [1 / (rank + 1) for rank in range(len(modules))])[0]
            if modules
            else None
        )
        ticket = PlannedTicket(
            number=number,
            type=_weighted(rng, TYPE_WEIGHTS, organisation.ticket_types),
            module=module,
            priority=_weighted(rng, PRIORITY_WEIGHTS, tuple(PRIORITY_WEIGHTS)),
            created_at=created,
            owner=rng.choice(agents) if agents else None,
        )
        _live(ticket, organisation, rng, now)
        yield ticket


def _live(
    ticket: PlannedTicket, organisation: Organisation, rng: random.Random, now: datetime
) -> None:
    """Moves the ticket through its life until `now`: answered, worked on, resolved, closed."""
    targets = organisation.sla.get(ticket.priority, organisation.sla["default"])
    calendar = organisation.calendar
    ticket.first_response_due = calendar.add(ticket.created_at, targets.first_response)
    ticket.resolution_due = calendar.add(ticket.created_at, targets.resolution)
    at = ticket.created_at

    def step(to: Status, after: datetime) -> bool:
        nonlocal at
        if after > now:
            return False
        ticket.moves.append((after, ticket.status, to))
        ticket.status, at = to, after
        return True

    due = ticket.first_response_due
    answer_in = (due - at) * (
        rng.uniform(1.05, 2.0) if rng.random() < LATE_ANSWER else rng.uniform(0.05, 0.8)
    )
    if not step(Status.ACKNOWLEDGED, at + answer_in):
        return
    ticket.first_response_at = at
    if not step(Status.IN_PROGRESS, at + timedelta(minutes=rng.randrange(5, 120))):
        return
    if rng.random() < NEEDS_VENDOR:
        ticket.vendor_escalation_due = calendar.add(at, targets.vendor_escalation)
        if not step(Status.WAITING_FOR_VENDOR, at + timedelta(hours=rng.uniform(0.5, 30))):
            return
        ticket.vendor_escalated_at = at
        if not step(Status.IN_PROGRESS, at + timedelta(hours=rng.uniform(2, 48))):
            return
    if rng.random() < WAITS_FOR_CUSTOMER:
        if not step(Status.WAITING_FOR_CUSTOMER, at + timedelta(hours=rng.uniform(0.5, 8))):
            return
        if not step(Status.IN_PROGRESS, at + timedelta(hours=rng.uniform(1, 30))):
            ticket.paused_since = at  # still waiting for the customer's answer
            return
    fix_due = ticket.resolution_due
    late = rng.random() < LATE_FIX
    fix_at = (
        fix_due + timedelta(hours=rng.uniform(1, 24))
        if late
        else at + (max(fix_due, at) - at) * rng.uniform(0.1, 0.9)
    )
    if not step(Status.RESOLVED, max(fix_at, at + timedelta(minutes=10))):
        return
    ticket.resolved_at = at
    if rng.random() < REOPENED and step(Status.REOPENED, at + timedelta(hours=rng.uniform(2, 30))):
        ticket.reopen_count, ticket.resolved_at = 1, None
        if not step(Status.RESOLVED, at + timedelta(hours=rng.uniform(1, 24))):
            return
        ticket.resolved_at = at
    if rng.random() < SURVEYED and ticket.resolved_at + timedelta(hours=1) <= now:
        sent = ticket.resolved_at + timedelta(hours=1)
        answered = sent + timedelta(hours=rng.uniform(0.2, 48))
        if rng.random() < ANSWERED and answered <= now:
            score = rng.choices(list(SCORE_WEIGHTS), list(SCORE_WEIGHTS.values()))[0]
            ticket.survey = (sent, answered, score)
        else:
            ticket.survey = (sent, None, None)
    if step(Status.CLOSED, at + timedelta(days=rng.uniform(1, 3))):
        ticket.closed_at = at
