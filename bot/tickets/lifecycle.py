"""The ticket lifecycle: its statuses, the moves allowed between them and what each move records."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.errors import EsmbotError


class Status(StrEnum):
    """Where a ticket stands; the values are stored in the database and used in commands."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"  # the first response has been given
    IN_PROGRESS = "in_progress"
    WAITING_FOR_CUSTOMER = "waiting_for_customer"
    WAITING_FOR_VENDOR = "waiting_for_vendor"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


# Resolved is not open: the desk's work is done and only the customer's confirmation (close) or
# objection (reopen) is pending, so it no longer counts against the queue or the resolution SLA.
OPEN_STATUSES: frozenset[Status] = frozenset(
    {
        Status.NEW,
        Status.ACKNOWLEDGED,
        Status.IN_PROGRESS,
        Status.WAITING_FOR_CUSTOMER,
        Status.WAITING_FOR_VENDOR,
        Status.REOPENED,
    }
)

# Only the customer's silence stops the resolution clock; a slow vendor is the desk's problem,
# because the desk chose the vendor and owns the contract with them.
PAUSED_STATUSES: frozenset[Status] = frozenset({Status.WAITING_FOR_CUSTOMER})

# A move into one of these is a message exchanged with the customer: the acknowledgement, a
# question to them, the resolution, or their "still broken". Purely internal moves (picking the
# ticket up, handing it to the vendor, closing, cancelling) are not interactions; comments and
# replies that do not change the status are counted with record_interaction().
INTERACTION_STATUSES: frozenset[Status] = frozenset(
    {
        Status.ACKNOWLEDGED,
        Status.WAITING_FOR_CUSTOMER,
        Status.RESOLVED,
        Status.REOPENED,
    }
)

_WAITS = frozenset({Status.WAITING_FOR_CUSTOMER, Status.WAITING_FOR_VENDOR})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(
        {Status.ACKNOWLEDGED, Status.IN_PROGRESS, *_WAITS, Status.RESOLVED, Status.CANCELLED}
    ),
    Status.ACKNOWLEDGED: frozenset(
        {Status.IN_PROGRESS, *_WAITS, Status.RESOLVED, Status.CANCELLED}
    ),
    # Acknowledging is the first response and happens once per round, so nothing that is already
    # being worked on goes back to acknowledged.
    Status.IN_PROGRESS: frozenset({*_WAITS, Status.RESOLVED, Status.CANCELLED}),
    # The customer's answer puts the ticket back into in_progress, not acknowledged: the first
    # response was given long ago. Resolving from here is the "no response" auto-resolve.
    Status.WAITING_FOR_CUSTOMER: frozenset(
        {Status.IN_PROGRESS, Status.WAITING_FOR_VENDOR, Status.RESOLVED, Status.CANCELLED}
    ),
    Status.WAITING_FOR_VENDOR: frozenset(
        {Status.IN_PROGRESS, Status.WAITING_FOR_CUSTOMER, Status.RESOLVED, Status.CANCELLED}
    ),
    # A resolved ticket is either confirmed (closed) or contested (reopened); going straight back
    # to work would lose the reopen that the "closed but not solved" KPI counts.
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    # Whether a closed ticket is still inside its reopen window is policy, decided by the caller.
    Status.CLOSED: frozenset({Status.REOPENED}),
    # A reopened ticket sits in the queue like a new one, so an agent's /ack answers it the same
    # way; the original first response stays the one the response SLA measured.
    Status.REOPENED: frozenset(
        {Status.ACKNOWLEDGED, Status.IN_PROGRESS, *_WAITS, Status.RESOLVED, Status.CANCELLED}
    ),
    Status.CANCELLED: frozenset(),
}


def is_open(status: Status) -> bool:
    """Whether the desk still owes the customer work on a ticket in this status."""
    return status in OPEN_STATUSES


def can_transition(from_status: Status, to_status: Status) -> bool:
    """Whether the table allows the move; a move to the same status is always allowed (a no-op)."""
    return from_status == to_status or to_status in TRANSITIONS[from_status]


def path(from_status: Status, to_status: Status) -> list[Status] | None:
    """The shortest chain of allowed moves from one status to another (empty if already there).

    A ticket system of record (Jira) may jump where esmbot's table takes two steps, e.g. from
    closed straight to in progress; following its lead through the table keeps what each step
    records (a reopen is counted) instead of refusing the system's own truth.
    """
    frontier: list[tuple[Status, list[Status]]] = [(from_status, [])]
    seen = {from_status}
    while frontier:
        status, steps = frontier.pop(0)
        if status == to_status:
            return steps
        for following in _in_order(TRANSITIONS[status]):
            if following not in seen:
                seen.add(following)
                frontier.append((following, [*steps, following]))
    return None


def _in_order(statuses: frozenset[Status]) -> list[Status]:
    return [status for status in Status if status in statuses]


class IllegalTransition(EsmbotError):
    """A ticket was asked to move somewhere its current status does not lead."""

    def __init__(self, ticket_key: str, from_status: Status, to_status: Status) -> None:
        self.ticket_key = ticket_key
        self.from_status = from_status
        self.to_status = to_status
        self.allowed: tuple[Status, ...] = tuple(_in_order(TRANSITIONS[from_status]))
        allowed = ", ".join(self.allowed) or "none"
        super().__init__(
            f"{ticket_key} cannot go from {from_status} to {to_status} (allowed: {allowed})"
        )

    def __reduce__(self) -> tuple[type[IllegalTransition], tuple[str, Status, Status]]:
        # Keeps the error intact when it crosses a process boundary (a worker, a job runner).
        return (type(self), (self.ticket_key, self.from_status, self.to_status))


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


@dataclass(frozen=True, slots=True)
class TicketClock:
    """A snapshot of the lifecycle facts that the SLA clock and the KPIs are computed from."""

    status: Status
    created_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    paused_since: datetime | None = None
    paused_seconds: float = 0.0
    reopen_count: int = 0
    interaction_count: int = 0

    def __post_init__(self) -> None:
        for name in ("created_at", "first_response_at", "resolved_at", "closed_at", "paused_since"):
            _require_aware(name, getattr(self, name))
        # Holding this here makes an inconsistent snapshot (say, one loaded from a hand-edited
        # row) fail where it is built instead of skewing the SLA arithmetic later.
        if (self.paused_since is not None) != (self.status in PAUSED_STATUSES):
            raise ValueError(
                f"paused_since must be set exactly while waiting for the customer "
                f"(status {self.status}, paused_since {self.paused_since})"
            )
        if self.paused_seconds < 0:
            raise ValueError(f"paused_seconds cannot be negative, got {self.paused_seconds}")
        if self.reopen_count < 0 or self.interaction_count < 0:
            raise ValueError("reopen_count and interaction_count cannot be negative")

    @classmethod
    def opened(cls, created_at: datetime) -> TicketClock:
        """The snapshot of a ticket that has just been created."""
        return cls(status=Status.NEW, created_at=created_at)


def transition(
    ticket_key: str,
    clock: TicketClock,
    to: Status,
    *,
    at: datetime,
    counts_as_response: bool = True,
) -> TicketClock:
    """Moves a ticket to `to` at `at`, returning the new snapshot.

    Raises IllegalTransition when the table does not allow the move, and ValueError for a naive
    `at` or one earlier than the ticket's creation. Moving to the current status returns `clock`
    unchanged, so a duplicate event (a webhook delivered twice) is harmless.

    `counts_as_response=False` is for moves nobody told the customer about (an automation or a
    bulk edit); they do not stop the first-response clock.
    """
    _require_aware("at", at)
    if at < clock.created_at:
        raise ValueError(
            f"{ticket_key}: {at.isoformat()} is before the ticket was created "
            f"({clock.created_at.isoformat()})"
        )
    to = Status(to)
    if to == clock.status:
        return clock
    if to not in TRANSITIONS[clock.status]:
        raise IllegalTransition(ticket_key, clock.status, to)

    first_response_at = clock.first_response_at
    # Normally this is the first move out of new; when that move did not count (an automation
    # moved the ticket) the first move that does count is the response the customer saw.
    if first_response_at is None and counts_as_response and to != Status.CANCELLED:
        first_response_at = at

    paused_since = clock.paused_since
    paused_seconds = clock.paused_seconds
    if paused_since is not None:
        # Events may arrive out of order; a pause never counts negative, so the accumulated
        # pause only grows.
        paused_seconds += max(0.0, (at - paused_since).total_seconds())
        paused_since = None
    if to in PAUSED_STATUSES:
        paused_since = at

    resolved_at = clock.resolved_at
    closed_at = clock.closed_at
    reopen_count = clock.reopen_count
    if to == Status.RESOLVED:
        resolved_at = at
    elif to == Status.CLOSED:
        closed_at = at
        # The table only closes resolved tickets; this keeps a snapshot loaded without a
        # resolution time from reporting a closed ticket as never resolved.
        resolved_at = resolved_at or at
    elif to == Status.REOPENED:
        reopen_count += 1
        resolved_at = None
        closed_at = None

    interactions = clock.interaction_count + (1 if to in INTERACTION_STATUSES else 0)

    return replace(
        clock,
        status=to,
        first_response_at=first_response_at,
        resolved_at=resolved_at,
        closed_at=closed_at,
        paused_since=paused_since,
        paused_seconds=paused_seconds,
        reopen_count=reopen_count,
        interaction_count=interactions,
    )


def record_interaction(clock: TicketClock) -> TicketClock:
    """Counts one exchange that did not change the status: a public comment or a customer reply."""
    return replace(clock, interaction_count=clock.interaction_count + 1)


def resolution_pause_seconds(clock: TicketClock, now: datetime) -> float:
    """Seconds the resolution clock has been paused so far, including a pause still running."""
    _require_aware("now", now)
    ongoing = 0.0
    if clock.paused_since is not None:
        ongoing = max(0.0, (now - clock.paused_since).total_seconds())
    return clock.paused_seconds + ongoing
