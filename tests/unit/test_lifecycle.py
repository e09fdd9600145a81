"""Tests of the ticket lifecycle state machine: the transition table and what each move records."""

from __future__ import annotations

import itertools
import pickle
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.tickets.lifecycle import (
    OPEN_STATUSES,
    PAUSED_STATUSES,
    IllegalTransition,
    Status,
    TicketClock,
    is_open,
    record_interaction,
    resolution_pause_seconds,
    transition,
)

S = Status
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Written out by hand, independently of the module's table, so a change there has to be made on
# purpose in both places.
_EXPECTED_MOVES = {
    "new": "acknowledged in_progress waiting_for_customer waiting_for_vendor resolved cancelled",
    "acknowledged": "in_progress waiting_for_customer waiting_for_vendor resolved cancelled",
    "in_progress": "waiting_for_customer waiting_for_vendor resolved cancelled",
    "waiting_for_customer": "in_progress waiting_for_vendor resolved cancelled",
    "waiting_for_vendor": "in_progress waiting_for_customer resolved cancelled",
    "resolved": "closed reopened",
    "closed": "reopened",
    "reopened": "acknowledged in_progress waiting_for_customer waiting_for_vendor resolved cancelled",
    "cancelled": "",
}
EXPECTED_ALLOWED = frozenset(
    (src, dst) for src, dsts in _EXPECTED_MOVES.items() for dst in dsts.split()
)
ALL_PAIRS = list(itertools.product([s.value for s in Status], repeat=2))


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def clock_in(status: Status) -> TicketClock:
    """A consistent snapshot of a ticket that has reached `status`."""
    answered = status != S.NEW
    return TicketClock(
        status=status,
        created_at=T0,
        first_response_at=at(1) if answered else None,
        resolved_at=at(5) if status in (S.RESOLVED, S.CLOSED) else None,
        closed_at=at(6) if status == S.CLOSED else None,
        paused_since=at(2) if status == S.WAITING_FOR_CUSTOMER else None,
    )


def walk(*steps: tuple[Status, float], start: TicketClock | None = None) -> TicketClock:
    clock = start or TicketClock.opened(T0)
    for to, hours in steps:
        clock = transition("SR-1", clock, to, at=at(hours))
    return clock


# -- the table ---------------------------------------------------------------------------------


def test_expectation_list_is_sane():
    assert len(ALL_PAIRS) == 81
    assert all(a != b for a, b in EXPECTED_ALLOWED)
    assert len(EXPECTED_ALLOWED) == 32


@pytest.mark.parametrize(("from_value", "to_value"), ALL_PAIRS)
def test_transition_matrix(from_value: str, to_value: str):
    start = clock_in(Status(from_value))
    when = at(10)
    if from_value == to_value:
        assert transition("SR-9", start, Status(to_value), at=when) is start
    elif (from_value, to_value) in EXPECTED_ALLOWED:
        moved = transition("SR-9", start, Status(to_value), at=when)
        assert moved.status == to_value
    else:
        with pytest.raises(IllegalTransition) as info:
            transition("SR-9", start, Status(to_value), at=when)
        assert info.value.ticket_key == "SR-9"
        assert info.value.from_status == from_value
        assert info.value.to_status == to_value


def test_open_and_paused_statuses():
    expected = "new acknowledged in_progress waiting_for_customer waiting_for_vendor reopened"
    assert set(expected.split()) == OPEN_STATUSES
    assert isinstance(OPEN_STATUSES, frozenset)
    assert not is_open(S.RESOLVED)
    assert not is_open(S.CLOSED)
    assert not is_open(S.CANCELLED)
    assert is_open(S.WAITING_FOR_VENDOR)
    assert {"waiting_for_customer"} == PAUSED_STATUSES


def test_status_values_are_plain_strings():
    assert S.IN_PROGRESS == "in_progress"
    assert f"{S.WAITING_FOR_VENDOR}" == "waiting_for_vendor"
    assert [s.value for s in Status] == list(_EXPECTED_MOVES)


# -- the error ---------------------------------------------------------------------------------


def test_error_message_names_the_move_and_what_is_allowed():
    with pytest.raises(IllegalTransition) as info:
        transition("SR-4", clock_in(S.CLOSED), S.IN_PROGRESS, at=at(10))
    assert str(info.value) == "SR-4 cannot go from closed to in_progress (allowed: reopened)"
    assert info.value.allowed == (S.REOPENED,)


def test_error_message_lists_several_allowed_in_status_order():
    with pytest.raises(IllegalTransition) as info:
        transition("SR-7", clock_in(S.RESOLVED), S.IN_PROGRESS, at=at(10))
    assert "(allowed: closed, reopened)" in str(info.value)


def test_error_message_from_a_terminal_status():
    with pytest.raises(IllegalTransition, match=r"from cancelled to reopened \(allowed: none\)"):
        transition("SR-3", clock_in(S.CANCELLED), S.REOPENED, at=at(10))


def test_error_survives_pickling():
    error = IllegalTransition("SR-4", S.CLOSED, S.NEW)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.ticket_key, copy.from_status, copy.to_status) == ("SR-4", S.CLOSED, S.NEW)
    assert str(copy) == str(error)


def test_illegal_transition_changes_nothing():
    start = clock_in(S.WAITING_FOR_CUSTOMER)
    before = repr(start)
    with pytest.raises(IllegalTransition):
        transition("SR-1", start, S.CLOSED, at=at(10))
    assert repr(start) == before


# -- idempotency and input checks --------------------------------------------------------------


@pytest.mark.parametrize("status", list(Status))
def test_same_status_is_a_no_op(status: Status):
    start = clock_in(status)
    assert transition("SR-1", start, status, at=at(20)) is start


def test_duplicate_event_does_not_double_count():
    once = walk((S.WAITING_FOR_CUSTOMER, 1))
    twice = transition("SR-1", once, S.WAITING_FOR_CUSTOMER, at=at(3))
    assert twice == once
    assert twice.paused_since == at(1)
    assert twice.interaction_count == 1


def test_accepts_a_plain_string_status():
    moved = transition("SR-1", TicketClock.opened(T0), "in_progress", at=at(1))  # type: ignore[arg-type]
    assert moved.status is S.IN_PROGRESS


@pytest.mark.parametrize("to", [S.IN_PROGRESS, S.NEW])  # a real move and a no-op
def test_naive_datetime_is_rejected(to: Status):
    with pytest.raises(ValueError, match="timezone-aware"):
        transition("SR-1", TicketClock.opened(T0), to, at=datetime(2026, 3, 2, 10))


def test_time_before_creation_is_rejected():
    with pytest.raises(ValueError, match="before the ticket was created"):
        transition("SR-1", TicketClock.opened(T0), S.IN_PROGRESS, at=at(-1))


def test_other_time_zones_are_fine():
    cet = timezone(timedelta(hours=1))
    moved = transition(
        "SR-1", TicketClock.opened(T0), S.ACKNOWLEDGED, at=datetime(2026, 3, 2, 11, tzinfo=cet)
    )
    assert moved.first_response_at == at(1)


def test_clock_rejects_naive_datetimes():
    with pytest.raises(ValueError, match="created_at"):
        TicketClock.opened(datetime(2026, 3, 2, 9))
    with pytest.raises(ValueError, match="resolved_at"):
        TicketClock(status=S.RESOLVED, created_at=T0, resolved_at=datetime(2026, 3, 2, 9))


def test_clock_rejects_pause_inconsistent_with_status():
    with pytest.raises(ValueError, match="paused_since"):
        TicketClock(status=S.IN_PROGRESS, created_at=T0, paused_since=at(1))
    with pytest.raises(ValueError, match="paused_since"):
        TicketClock(status=S.WAITING_FOR_CUSTOMER, created_at=T0)


def test_clock_rejects_negative_numbers():
    with pytest.raises(ValueError):
        TicketClock(status=S.NEW, created_at=T0, paused_seconds=-1.0)
    with pytest.raises(ValueError):
        TicketClock(status=S.NEW, created_at=T0, reopen_count=-1)


def test_clock_is_frozen():
    clock = TicketClock.opened(T0)
    with pytest.raises(FrozenInstanceError):
        clock.status = S.CLOSED  # type: ignore[misc]


# -- first response ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "to",
    [S.ACKNOWLEDGED, S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER, S.WAITING_FOR_VENDOR, S.RESOLVED],
)
def test_first_move_out_of_new_records_first_response(to: Status):
    assert walk((to, 3)).first_response_at == at(3)


def test_cancelling_a_new_ticket_is_not_a_response():
    assert walk((S.CANCELLED, 3)).first_response_at is None


def test_move_that_does_not_count_leaves_response_open():
    moved = transition(
        "SR-1", TicketClock.opened(T0), S.IN_PROGRESS, at=at(1), counts_as_response=False
    )
    assert moved.first_response_at is None
    asked = transition("SR-1", moved, S.WAITING_FOR_CUSTOMER, at=at(4))
    assert asked.first_response_at == at(4)


def test_first_response_is_kept_on_later_moves():
    clock = walk(
        (S.ACKNOWLEDGED, 1),
        (S.IN_PROGRESS, 2),
        (S.RESOLVED, 3),
        (S.REOPENED, 4),
        (S.ACKNOWLEDGED, 5),
    )
    assert clock.first_response_at == at(1)


# -- pauses ------------------------------------------------------------------------------------


def test_waiting_for_customer_pauses_and_resumes():
    asked = walk((S.IN_PROGRESS, 1), (S.WAITING_FOR_CUSTOMER, 2))
    assert asked.paused_since == at(2)
    assert asked.paused_seconds == 0.0
    answered = transition("SR-1", asked, S.IN_PROGRESS, at=at(5))
    assert answered.paused_since is None
    assert answered.paused_seconds == 3 * 3600


def test_waiting_for_vendor_does_not_pause():
    clock = walk((S.IN_PROGRESS, 1), (S.WAITING_FOR_VENDOR, 2), (S.IN_PROGRESS, 30))
    assert clock.paused_since is None
    assert clock.paused_seconds == 0.0


def test_pause_ends_when_handed_to_the_vendor():
    clock = walk((S.WAITING_FOR_CUSTOMER, 1), (S.WAITING_FOR_VENDOR, 3), (S.IN_PROGRESS, 10))
    assert clock.paused_seconds == 2 * 3600


def test_pauses_accumulate_across_several_waits():
    clock = walk(
        (S.IN_PROGRESS, 1),
        (S.WAITING_FOR_CUSTOMER, 2),
        (S.IN_PROGRESS, 4),  # 2 h
        (S.WAITING_FOR_VENDOR, 5),
        (S.WAITING_FOR_CUSTOMER, 8),
        (S.IN_PROGRESS, 9.5),  # 1.5 h
        (S.WAITING_FOR_CUSTOMER, 10),
        (S.RESOLVED, 34),  # 24 h: no-response auto-resolve
    )
    assert clock.paused_seconds == (2 + 1.5 + 24) * 3600
    assert clock.paused_since is None
    assert clock.resolved_at == at(34)


def test_cancelling_while_waiting_closes_the_pause():
    clock = walk((S.WAITING_FOR_CUSTOMER, 1), (S.CANCELLED, 2))
    assert clock.paused_since is None
    assert clock.paused_seconds == 3600


def test_out_of_order_answer_never_counts_negative():
    asked = walk((S.WAITING_FOR_CUSTOMER, 5))
    answered = transition("SR-1", asked, S.IN_PROGRESS, at=at(4))
    assert answered.paused_seconds == 0.0


def test_resolution_pause_seconds_includes_the_running_pause():
    asked = walk((S.IN_PROGRESS, 1), (S.WAITING_FOR_CUSTOMER, 2), (S.IN_PROGRESS, 3))
    asked = transition("SR-1", asked, S.WAITING_FOR_CUSTOMER, at=at(4))
    assert resolution_pause_seconds(asked, at(6)) == (1 + 2) * 3600
    assert resolution_pause_seconds(asked, at(3)) == 3600  # a "now" before the pause began
    running = transition("SR-1", asked, S.IN_PROGRESS, at=at(6))
    assert resolution_pause_seconds(running, at(100)) == 3 * 3600


def test_resolution_pause_seconds_rejects_naive_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        resolution_pause_seconds(TicketClock.opened(T0), datetime(2026, 3, 2, 10))


# -- resolution, closing and reopening ---------------------------------------------------------


def test_resolve_then_close():
    resolved = walk((S.ACKNOWLEDGED, 1), (S.RESOLVED, 8))
    assert resolved.resolved_at == at(8)
    assert resolved.closed_at is None
    closed = transition("SR-1", resolved, S.CLOSED, at=at(30))
    assert closed.closed_at == at(30)
    assert closed.resolved_at == at(8)


def test_closing_fills_a_missing_resolution_time():
    loaded = TicketClock(status=S.RESOLVED, created_at=T0)
    closed = transition("SR-1", loaded, S.CLOSED, at=at(30))
    assert closed.resolved_at == at(30)
    assert closed.closed_at == at(30)


@pytest.mark.parametrize("status", [s for s in Status if s not in (S.RESOLVED, S.CLOSED)])
def test_closing_is_only_possible_from_resolved(status: Status):
    with pytest.raises(IllegalTransition):
        transition("SR-1", clock_in(status), S.CLOSED, at=at(10))


def test_reopen_clears_resolution_and_counts():
    clock = walk((S.ACKNOWLEDGED, 1), (S.RESOLVED, 2), (S.REOPENED, 3))
    assert clock.reopen_count == 1
    assert clock.resolved_at is None
    assert clock.closed_at is None
    clock = walk((S.RESOLVED, 4), (S.CLOSED, 5), (S.REOPENED, 6), (S.RESOLVED, 7), start=clock)
    assert clock.reopen_count == 2
    assert clock.resolved_at == at(7)
    assert clock.closed_at is None


# -- interactions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([S.ACKNOWLEDGED], 1),
        ([S.IN_PROGRESS], 0),
        ([S.WAITING_FOR_VENDOR], 0),
        ([S.CANCELLED], 0),
        ([S.WAITING_FOR_CUSTOMER], 1),
        ([S.RESOLVED], 1),
        ([S.RESOLVED, S.CLOSED], 1),
        ([S.RESOLVED, S.REOPENED], 2),
        ([S.ACKNOWLEDGED, S.WAITING_FOR_CUSTOMER, S.IN_PROGRESS, S.RESOLVED], 3),
    ],
)
def test_interaction_count_per_move(steps: list[Status], expected: int):
    clock = walk(*[(to, i + 1) for i, to in enumerate(steps)])
    assert clock.interaction_count == expected


def test_record_interaction_counts_one_and_changes_nothing_else():
    asked = walk((S.WAITING_FOR_CUSTOMER, 1))
    replied = record_interaction(asked)
    assert replied.interaction_count == asked.interaction_count + 1
    assert replied.status == asked.status
    assert replied.paused_since == asked.paused_since


# -- properties --------------------------------------------------------------------------------

_attempts = st.lists(
    st.tuples(
        st.sampled_from(list(Status)),
        st.floats(min_value=-2, max_value=48, allow_nan=False),  # hours; negatives go backwards
        st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_attempts)
def test_invariants_hold_for_any_sequence_of_attempts(attempts):
    clock = TicketClock.opened(T0)
    now = T0
    reopens = 0
    for to, step_hours, counts in attempts:
        now = max(T0, now + timedelta(hours=step_hours))
        before = clock
        allowed = (before.status.value, to.value) in EXPECTED_ALLOWED
        try:
            clock = transition("SR-1", before, to, at=now, counts_as_response=counts)
        except IllegalTransition:
            assert not allowed
            assert before.status != to
            continue
        assert allowed or before.status == to
        assert clock.status == to
        if to == S.REOPENED and before.status != S.REOPENED:
            reopens += 1

        assert (clock.paused_since is not None) == (clock.status == S.WAITING_FOR_CUSTOMER)
        assert clock.paused_seconds >= before.paused_seconds
        assert clock.reopen_count == reopens
        assert clock.interaction_count >= before.interaction_count
        if before.first_response_at is not None:
            assert clock.first_response_at == before.first_response_at
        assert resolution_pause_seconds(clock, now) >= clock.paused_seconds
        assert (clock.resolved_at is not None) == (clock.status in (S.RESOLVED, S.CLOSED))
        assert (clock.closed_at is not None) == (clock.status == S.CLOSED)
