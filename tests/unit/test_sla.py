"""Tests the SLA clock: deadlines, pauses, reopening, vendor escalation, progress and nudges."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.tickets.calendar import BusinessCalendar
from bot.tickets.durations import parse_duration
from bot.tickets.sla import (
    SlaClockInput,
    SlaPolicy,
    compute_deadlines,
    nudge_times,
    pause_clock,
    progress,
    reopen_clock,
    resume_clock,
    time_left,
)

BERLIN = ZoneInfo("Europe/Berlin")
DE = BusinessCalendar(time_zone=BERLIN, holidays_country="DE")
HOUR = 3600.0


def b(*parts: int) -> datetime:
    """A Berlin wall-clock moment, as written by a person."""
    return datetime(*parts, tzinfo=BERLIN)


def u(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def policy(resolution: str = "5 working days", vendor: str = "24h", **flags: bool) -> SlaPolicy:
    return SlaPolicy(
        first_response=parse_duration("48h"),
        resolution=parse_duration(resolution),
        vendor_escalation=parse_duration(vendor),
        **flags,
    )


OPENCART = policy()
MONDAY = b(2026, 6, 8, 10)

PAUSE_OFF = policy(pause_while_waiting_for_customer=False)
WALL_72H = policy("72h")
HOURS_16 = policy("16 business hours")
RESTART = policy(reopen_restarts_resolution=True)
FRIDAY_16 = b(2026, 6, 12, 16)


def on_monday(**facts: object) -> SlaClockInput:
    return SlaClockInput(created_at=MONDAY, **facts)  # type: ignore[arg-type]


# The first response due of a ticket created on MONDAY is always Wednesday 10:00.
MONDAY_FIRST_RESPONSE = b(2026, 6, 10, 10)

# fmt: off
DEADLINE_CASES = [
    # id, policy, facts, now, first_response_due, resolution_due
    ("fresh-monday", OPENCART, on_monday(), MONDAY,
     MONDAY_FIRST_RESPONSE, b(2026, 6, 15, 10)),
    ("created-saturday", OPENCART, SlaClockInput(created_at=b(2026, 6, 13, 11)),
     b(2026, 6, 13, 11), b(2026, 6, 15, 11), b(2026, 6, 19, 17)),
    ("created-before-easter", OPENCART, SlaClockInput(created_at=b(2026, 4, 2, 10)),
     b(2026, 4, 2, 10), b(2026, 4, 4, 10), b(2026, 4, 13, 10)),
    ("created-dst-weekend-before-good-friday", OPENCART,
     SlaClockInput(created_at=b(2026, 3, 28, 12)), b(2026, 3, 28, 12),
     u(2026, 3, 30, 11), b(2026, 4, 7, 17)),
    ("first-response-recorded", OPENCART, on_monday(first_response_at=b(2026, 6, 8, 11)),
     b(2026, 6, 8, 11), MONDAY_FIRST_RESPONSE, b(2026, 6, 15, 10)),
    ("one-finished-pause", OPENCART,
     on_monday(paused_business_seconds=9 * HOUR, paused_seconds=24 * HOUR),
     b(2026, 6, 11, 10), MONDAY_FIRST_RESPONSE, b(2026, 6, 16, 10)),
    ("ongoing-pause", OPENCART, on_monday(paused_since=b(2026, 6, 9, 12)),
     b(2026, 6, 10, 9), MONDAY_FIRST_RESPONSE, b(2026, 6, 15, 16)),
    ("ongoing-pause-over-weekend", OPENCART, on_monday(paused_since=FRIDAY_16),
     b(2026, 6, 14, 20), MONDAY_FIRST_RESPONSE, b(2026, 6, 15, 11)),
    ("ongoing-pause-after-earlier-ones", OPENCART,
     on_monday(paused_since=FRIDAY_16, paused_business_seconds=2 * HOUR),
     b(2026, 6, 15, 9), MONDAY_FIRST_RESPONSE, b(2026, 6, 15, 14)),
    ("pause-ignored-by-policy", PAUSE_OFF,
     on_monday(paused_since=b(2026, 6, 9, 12), paused_business_seconds=9 * HOUR),
     b(2026, 6, 10, 9), MONDAY_FIRST_RESPONSE, b(2026, 6, 15, 10)),
    ("wall-resolution-finished-pause", WALL_72H,
     on_monday(paused_seconds=10 * HOUR, paused_business_seconds=HOUR),
     b(2026, 6, 9, 10), MONDAY_FIRST_RESPONSE, b(2026, 6, 11, 20)),
    ("wall-resolution-ongoing-pause", WALL_72H, on_monday(paused_since=b(2026, 6, 9, 10)),
     b(2026, 6, 9, 16), MONDAY_FIRST_RESPONSE, b(2026, 6, 11, 16)),
    ("wall-resolution-dst-spring", WALL_72H, SlaClockInput(created_at=b(2026, 3, 27, 12)),
     b(2026, 3, 27, 12), u(2026, 3, 29, 11), u(2026, 3, 30, 11)),
    ("business-hours-resolution", HOURS_16, SlaClockInput(created_at=FRIDAY_16),
     FRIDAY_16, b(2026, 6, 14, 16), b(2026, 6, 16, 14)),
    ("business-hours-resolution-paused", HOURS_16,
     SlaClockInput(created_at=FRIDAY_16, paused_business_seconds=2 * HOUR),
     b(2026, 6, 15, 12), b(2026, 6, 14, 16), b(2026, 6, 16, 16)),
    ("reopened-at-ignored-when-continuing", OPENCART,
     on_monday(reopened_at=b(2026, 6, 11, 10)),
     b(2026, 6, 11, 10), MONDAY_FIRST_RESPONSE, b(2026, 6, 15, 10)),
    ("reopened-at-restarts", RESTART, on_monday(reopened_at=b(2026, 6, 11, 10)),
     b(2026, 6, 11, 10), MONDAY_FIRST_RESPONSE, b(2026, 6, 18, 10)),
]
# fmt: on


@pytest.mark.parametrize(
    ("sla", "facts", "now", "first_response_due", "resolution_due"),
    [pytest.param(*case[1:], id=case[0]) for case in DEADLINE_CASES],
)
def test_compute_deadlines(
    sla: SlaPolicy,
    facts: SlaClockInput,
    now: datetime,
    first_response_due: datetime,
    resolution_due: datetime,
) -> None:
    deadlines = compute_deadlines(sla, DE, facts, now=now)
    assert deadlines.first_response_due == first_response_due
    assert deadlines.resolution_due == resolution_due
    assert deadlines.vendor_escalation_due is None
    assert deadlines.first_response_due.tzinfo is UTC
    assert deadlines.resolution_due.tzinfo is UTC


@pytest.mark.parametrize(
    ("sla", "needed_at", "expected"),
    [
        pytest.param(OPENCART, b(2026, 6, 9, 15), b(2026, 6, 10, 15), id="24h"),
        pytest.param(OPENCART, b(2026, 10, 24, 12), u(2026, 10, 25, 10), id="24h-dst-autumn"),
        pytest.param(OPENCART, b(2026, 3, 28, 12), u(2026, 3, 29, 11), id="24h-dst-spring"),
        pytest.param(
            policy(vendor="1 working day"),
            b(2026, 5, 22, 16),
            b(2026, 5, 26, 16),
            id="working-day-over-whit-monday",
        ),
    ],
)
def test_vendor_escalation_due(sla: SlaPolicy, needed_at: datetime, expected: datetime) -> None:
    facts = SlaClockInput(created_at=MONDAY, vendor_needed_at=needed_at)
    assert compute_deadlines(sla, DE, facts, now=needed_at).vendor_escalation_due == expected


def test_several_pauses_accumulate_business_and_wall_time() -> None:
    facts = SlaClockInput(created_at=MONDAY)
    facts = pause_clock(facts, at=b(2026, 6, 8, 15))
    facts = resume_clock(DE, facts, at=b(2026, 6, 9, 10))
    facts = pause_clock(facts, at=b(2026, 6, 10, 16))
    facts = resume_clock(DE, facts, at=b(2026, 6, 11, 9))
    assert facts.paused_since is None
    assert facts.paused_business_seconds == 6 * HOUR
    assert facts.paused_seconds == (19 + 17) * HOUR
    due = compute_deadlines(OPENCART, DE, facts, now=b(2026, 6, 11, 9)).resolution_due
    assert due == b(2026, 6, 15, 16)


def test_pause_and_resume_are_idempotent() -> None:
    paused = pause_clock(SlaClockInput(created_at=MONDAY), at=b(2026, 6, 8, 11))
    assert pause_clock(paused, at=b(2026, 6, 8, 12)).paused_since == b(2026, 6, 8, 11)
    running = SlaClockInput(created_at=MONDAY)
    assert resume_clock(DE, running, at=b(2026, 6, 8, 12)) == running


@pytest.mark.parametrize(
    ("sla", "resolution_due"),
    [
        # The resolved period (Wed 12:00 to Thu 10:00: 7 open hours) is excluded.
        pytest.param(OPENCART, b(2026, 6, 15, 17), id="continue"),
        pytest.param(RESTART, b(2026, 6, 18, 10), id="restart"),
        pytest.param(
            policy(pause_while_waiting_for_customer=False),
            b(2026, 6, 15, 10),
            id="continue-without-pauses",
        ),
    ],
)
def test_reopen(sla: SlaPolicy, resolution_due: datetime) -> None:
    facts = SlaClockInput(created_at=MONDAY, resolved_at=b(2026, 6, 10, 12))
    reopened = reopen_clock(sla, DE, facts, at=b(2026, 6, 11, 10))
    assert reopened.resolved_at is None
    assert reopened.reopened_at == b(2026, 6, 11, 10)
    assert compute_deadlines(sla, DE, reopened, now=b(2026, 6, 11, 10)).resolution_due == (
        resolution_due
    )


def test_restart_drops_pauses_of_the_finished_clock() -> None:
    sla = policy(reopen_restarts_resolution=True)
    facts = SlaClockInput(
        created_at=MONDAY, resolved_at=b(2026, 6, 10, 12), paused_business_seconds=4 * HOUR
    )
    reopened = reopen_clock(sla, DE, facts, at=b(2026, 6, 11, 10))
    assert reopened.paused_business_seconds == 0
    due = compute_deadlines(sla, DE, reopened, now=b(2026, 6, 11, 10)).resolution_due
    assert due == b(2026, 6, 18, 10)


def test_continue_counts_a_pause_running_into_resolution_once() -> None:
    facts = SlaClockInput(
        created_at=MONDAY, paused_since=b(2026, 6, 10, 9), resolved_at=b(2026, 6, 10, 12)
    )
    reopened = reopen_clock(OPENCART, DE, facts, at=b(2026, 6, 11, 10))
    # Wed 09:00 to Thu 10:00: 8 + 2 open hours.
    assert reopened.paused_business_seconds == 10 * HOUR
    assert reopened.paused_since is None


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError):
        compute_deadlines(OPENCART, DE, SlaClockInput(created_at=MONDAY), now=datetime(2026, 6, 8))


@pytest.mark.parametrize(
    ("start", "due", "now", "business", "expected"),
    [
        pytest.param(MONDAY, b(2026, 6, 10, 10), b(2026, 6, 9, 10), False, 0.5, id="wall-half"),
        pytest.param(MONDAY, b(2026, 6, 10, 10), b(2026, 6, 11, 10), False, 1.5, id="wall-late"),
        pytest.param(
            MONDAY, b(2026, 6, 15, 10), b(2026, 6, 10, 14, 30), True, 0.5, id="business-days-half"
        ),
        pytest.param(
            b(2026, 6, 12, 16),
            b(2026, 6, 16, 14),
            b(2026, 6, 14, 12),
            True,
            0.0625,
            id="weekend-does-not-count",
        ),
        pytest.param(
            b(2026, 6, 12, 16),
            b(2026, 6, 16, 14),
            b(2026, 6, 15, 15),
            True,
            0.5,
            id="business-hours-half",
        ),
        pytest.param(
            b(2026, 6, 12, 16),
            b(2026, 6, 16, 14),
            b(2026, 6, 16, 16),
            True,
            1.125,
            id="business-late",
        ),
        pytest.param(MONDAY, b(2026, 6, 10, 10), b(2026, 6, 8, 9), False, 0.0, id="before-start"),
        pytest.param(MONDAY, MONDAY, b(2026, 6, 8, 11), False, 1.0, id="zero-allowance-due"),
    ],
)
def test_progress(
    start: datetime, due: datetime, now: datetime, business: bool, expected: float
) -> None:
    assert progress(start, due, now, DE, business) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("due", "now", "business", "expected"),
    [
        pytest.param(
            b(2026, 6, 16, 14),
            b(2026, 6, 12, 16),
            True,
            timedelta(hours=16),
            id="business-over-weekend",
        ),
        pytest.param(
            b(2026, 6, 16, 14), b(2026, 6, 16, 16), True, timedelta(hours=-2), id="business-late"
        ),
        pytest.param(b(2026, 6, 10, 10), b(2026, 6, 9, 22), False, timedelta(hours=12), id="wall"),
        pytest.param(
            u(2026, 3, 30, 11), b(2026, 3, 29, 1), False, timedelta(hours=35), id="wall-dst-spring"
        ),
    ],
)
def test_time_left(due: datetime, now: datetime, business: bool, expected: timedelta) -> None:
    assert time_left(due, now, DE, business) == expected


@pytest.mark.parametrize(
    ("start", "due", "business", "expected"),
    [
        pytest.param(
            b(2026, 6, 12, 16),
            b(2026, 6, 16, 14),
            True,
            [b(2026, 6, 15, 15), b(2026, 6, 16, 10), b(2026, 6, 16, 12, 24)],
            id="16-business-hours",
        ),
        pytest.param(
            MONDAY,
            b(2026, 6, 15, 10),
            True,
            [b(2026, 6, 10, 14, 30), b(2026, 6, 11, 16, 45), b(2026, 6, 12, 14, 30)],
            id="5-working-days",
        ),
        pytest.param(
            b(2026, 6, 13, 11),
            b(2026, 6, 19, 17),
            True,
            [b(2026, 6, 17, 12, 30), b(2026, 6, 18, 14, 45), b(2026, 6, 19, 12, 30)],
            id="5-working-days-from-saturday",
        ),
        pytest.param(
            b(2026, 4, 2, 10),
            b(2026, 4, 13, 10),
            True,
            [b(2026, 4, 8, 14, 30), b(2026, 4, 9, 16, 45), b(2026, 4, 10, 14, 30)],
            id="5-working-days-over-easter",
        ),
        pytest.param(
            b(2026, 6, 12, 16),
            b(2026, 6, 14, 16),
            False,
            [b(2026, 6, 13, 16), b(2026, 6, 14, 4), b(2026, 6, 14, 11, 12)],
            id="48h-wall",
        ),
        pytest.param(
            b(2026, 3, 28, 12),
            u(2026, 3, 30, 11),
            False,
            [u(2026, 3, 29, 11), u(2026, 3, 29, 23), u(2026, 3, 30, 6, 12)],
            id="48h-wall-dst-spring",
        ),
    ],
)
def test_nudge_times(
    start: datetime, due: datetime, business: bool, expected: list[datetime]
) -> None:
    times = nudge_times(start, due, DE, business)
    assert times == expected
    assert all(moment.tzinfo is UTC for moment in times)


def test_nudge_times_custom_fractions_and_validation() -> None:
    start, due = b(2026, 6, 12, 16), b(2026, 6, 16, 14)
    assert nudge_times(start, due, DE, True, fractions=(0.25, 1.0)) == [
        b(2026, 6, 15, 11),
        b(2026, 6, 16, 14),
    ]
    with pytest.raises(ValueError):
        nudge_times(start, due, DE, True, fractions=(1.5,))


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(created=instants, days=st.integers(1, 20))
def test_business_nudges_are_in_open_time_at_their_fraction(created: datetime, days: int) -> None:
    sla = replace(OPENCART, resolution=parse_duration(f"{days} working days"))
    due = compute_deadlines(sla, DE, SlaClockInput(created_at=created), now=created).resolution_due
    nudges = nudge_times(created, due, DE, True)
    assert nudges == sorted(nudges)
    for fraction, moment in zip((0.5, 0.75, 0.9), nudges, strict=True):
        assert DE.is_open(moment) or DE.is_open(moment - timedelta(microseconds=1))
        assert progress(created, due, moment, DE, True) == pytest.approx(fraction, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(created=instants, pause_start=st.integers(0, 200), pause_hours=st.integers(0, 200))
def test_a_pause_never_brings_the_resolution_deadline_forward(
    created: datetime, pause_start: int, pause_hours: int
) -> None:
    since = created + timedelta(hours=pause_start)
    now = since + timedelta(hours=pause_hours)
    running = compute_deadlines(OPENCART, DE, SlaClockInput(created_at=created), now=now)
    paused = compute_deadlines(
        OPENCART, DE, SlaClockInput(created_at=created, paused_since=since), now=now
    )
    assert paused.resolution_due >= running.resolution_due
    assert paused.first_response_due == running.first_response_due
