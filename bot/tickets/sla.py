"""Owns the SLA clock: deadlines, pauses, reopening, progress and nudge times of a ticket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.tickets.calendar import BusinessCalendar
from bot.tickets.durations import Duration

DEFAULT_NUDGE_FRACTIONS: tuple[float, ...] = (0.5, 0.75, 0.9)


@dataclass(frozen=True)
class SlaPolicy:
    """The service levels a ticket is measured against."""

    first_response: Duration
    resolution: Duration
    vendor_escalation: Duration
    pause_while_waiting_for_customer: bool = True
    reopen_restarts_resolution: bool = False


@dataclass(frozen=True)
class SlaClockInput:
    """The timing facts of one ticket that its deadlines are computed from.

    paused_seconds / paused_business_seconds hold the finished pauses of the current
    resolution clock, in real and in open time; paused_since is the start of the ongoing
    pause. Use pause_clock, resume_clock and reopen_clock to keep them consistent.
    """

    created_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    vendor_needed_at: datetime | None = None
    vendor_escalated_at: datetime | None = None
    paused_since: datetime | None = None
    paused_business_seconds: float = 0.0
    paused_seconds: float = 0.0
    reopened_at: datetime | None = None


@dataclass(frozen=True)
class Deadlines:
    """When each service level of a ticket falls due, in UTC."""

    first_response_due: datetime
    resolution_due: datetime
    vendor_escalation_due: datetime | None


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def resolution_start(policy: SlaPolicy, facts: SlaClockInput) -> datetime:
    """Where the resolution clock starts: creation, or the last reopening when it restarts."""
    if policy.reopen_restarts_resolution and facts.reopened_at is not None:
        return _utc(facts.reopened_at, "reopened_at")
    return _utc(facts.created_at, "created_at")


def compute_deadlines(
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    facts: SlaClockInput,
    *,
    now: datetime,
) -> Deadlines:
    """The ticket's deadlines as known at now.

    The first response is never paused. The resolution deadline moves out by every pause
    (in open time for a business duration, in real time for a wall-clock one). While a pause
    is ongoing the deadline is reported as if the pause ended at now, so it keeps moving
    until the customer answers; now is only read for that.
    """
    created = _utc(facts.created_at, "created_at")
    current = _utc(now, "now")
    first_response_due = calendar.add(created, policy.first_response)

    resolution = policy.resolution
    resolution_due = calendar.add(resolution_start(policy, facts), resolution)
    if policy.pause_while_waiting_for_customer:
        business_pause = timedelta(seconds=facts.paused_business_seconds)
        wall_pause = timedelta(seconds=facts.paused_seconds)
        if facts.paused_since is not None:
            since = _utc(facts.paused_since, "paused_since")
            if current > since:
                wall_pause += current - since
                business_pause += timedelta(
                    seconds=calendar.business_seconds_between(since, current)
                )
        if resolution.business:
            resolution_due = calendar.add_business_seconds(resolution_due, business_pause)
        else:
            resolution_due += wall_pause

    vendor_due = None
    if facts.vendor_needed_at is not None:
        vendor_due = calendar.add(
            _utc(facts.vendor_needed_at, "vendor_needed_at"), policy.vendor_escalation
        )
    return Deadlines(
        first_response_due=first_response_due,
        resolution_due=resolution_due,
        vendor_escalation_due=vendor_due,
    )


def pause_clock(facts: SlaClockInput, *, at: datetime) -> SlaClockInput:
    """Starts a pause (the ticket waits for the customer); a second pause call is a no-op."""
    if facts.paused_since is not None:
        return facts
    return replace(facts, paused_since=_utc(at, "at"))


def resume_clock(
    calendar: BusinessCalendar, facts: SlaClockInput, *, at: datetime
) -> SlaClockInput:
    """Ends the ongoing pause and adds it to the accumulated pause totals."""
    if facts.paused_since is None:
        return facts
    since = _utc(facts.paused_since, "paused_since")
    end = max(_utc(at, "at"), since)
    return replace(
        facts,
        paused_since=None,
        paused_seconds=facts.paused_seconds + (end - since).total_seconds(),
        paused_business_seconds=facts.paused_business_seconds
        + calendar.business_seconds_between(since, end),
    )


def reopen_clock(
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    facts: SlaClockInput,
    *,
    at: datetime,
) -> SlaClockInput:
    """The facts after a resolved ticket is reopened at at.

    When the policy restarts the clock, earlier pauses belong to the finished clock and are
    dropped. When it continues, the time the ticket spent resolved counts as a pause: a
    resolved ticket waits for the customer to confirm it, so it is excluded exactly when
    customer waits are (pause_while_waiting_for_customer).
    """
    reopened = _utc(at, "at")
    if policy.reopen_restarts_resolution:
        return replace(
            facts,
            resolved_at=None,
            reopened_at=reopened,
            paused_since=None,
            paused_seconds=0.0,
            paused_business_seconds=0.0,
        )
    # A pause still running at resolution and the resolved period overlap; count them once.
    starts = [
        _utc(moment, "paused_since/resolved_at")
        for moment in (facts.paused_since, facts.resolved_at)
        if moment is not None
    ]
    settled = replace(facts, paused_since=min(starts)) if starts else facts
    settled = resume_clock(calendar, settled, at=reopened)
    return replace(settled, resolved_at=None, reopened_at=reopened)


def _elapsed(start: datetime, end: datetime, calendar: BusinessCalendar, business: bool) -> float:
    if business:
        return calendar.business_seconds_between(start, end)
    return (_utc(end, "end") - _utc(start, "start")).total_seconds()


def progress(
    start: datetime,
    due: datetime,
    now: datetime,
    calendar: BusinessCalendar,
    business: bool,
) -> float:
    """The fraction of the allowed time used at now: 0 at start, 1 at due, above 1 when late.

    Business durations measure open time only, so a weekend does not move the needle.
    """
    allowed = _elapsed(start, due, calendar, business)
    used = _elapsed(start, now, calendar, business)
    if allowed <= 0:
        return 1.0 if _utc(now, "now") >= _utc(due, "due") else 0.0
    return max(used, 0.0) / allowed


def time_left(
    due: datetime,
    now: datetime,
    calendar: BusinessCalendar,
    business: bool,
) -> timedelta:
    """Time from now until due (open time for business durations); negative when late."""
    return timedelta(seconds=_elapsed(now, due, calendar, business))


def nudge_times(
    start: datetime,
    due: datetime,
    calendar: BusinessCalendar,
    business: bool,
    fractions: Sequence[float] = DEFAULT_NUDGE_FRACTIONS,
) -> list[datetime]:
    """The moments (UTC) at which the given fractions of the allowed time have been used.

    For business durations a fraction of the open time is mapped back to a moment inside
    working hours, so a 50 % nudge never fires at night.
    """
    begin = _utc(start, "start")
    allowed = _elapsed(begin, due, calendar, business)
    times = []
    for fraction in fractions:
        if not 0 <= fraction <= 1:
            raise ValueError(f"nudge fraction {fraction} is outside 0..1")
        share = timedelta(seconds=max(allowed, 0.0) * fraction)
        times.append(calendar.add_business_seconds(begin, share) if business else begin + share)
    return times
