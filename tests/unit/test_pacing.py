"""Tests the pacer against Teams' published limits, with explicit times and random send sequences."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.notify.pacing import CONVERSATION_WINDOWS, TENANT_WINDOWS, Pacer, Window


def slots(pacer: Pacer, conversations: list[str], now: float = 0.0) -> list[float]:
    """Reserves one send per entry, all asked for at `now`, and returns the slots given."""
    return [pacer.reserve(conversation, now) for conversation in conversations]


def test_the_defaults_are_microsofts_figures():
    assert CONVERSATION_WINDOWS[:3] == (Window(1, 7), Window(2, 8), Window(30, 60))
    assert list(TENANT_WINDOWS) == [Window(1, 30)]


def test_seven_per_second_in_one_conversation():
    pacer = Pacer(conversation_windows=[Window(1, 7)], tenant_windows=[])

    assert slots(pacer, ["a"] * 15) == [0.0] * 7 + [1.0] * 7 + [2.0]


def test_eight_per_two_seconds_in_one_conversation():
    pacer = Pacer(conversation_windows=[Window(2, 8)], tenant_windows=[])

    assert slots(pacer, ["a"] * 17) == [0.0] * 8 + [2.0] * 8 + [4.0]


def test_sixty_per_thirty_seconds_in_one_conversation():
    pacer = Pacer(conversation_windows=[Window(30, 60)], tenant_windows=[])

    assert slots(pacer, ["a"] * 61) == [0.0] * 60 + [30.0]


def test_the_conversation_windows_together():
    pacer = Pacer(tenant_windows=[])

    # 7 at once, then the 2-second window allows one more at 1 s and seven at 2 s, and so on;
    # after 60 sends the 30-second window holds everything back until 30 s.
    expected = [0.0] * 7
    for second in (1.0, 3.0, 5.0, 7.0, 9.0, 11.0):
        expected += [second] + [second + 1] * 7
    expected += [13.0] + [14.0] * 4
    expected += [30.0]

    assert slots(pacer, ["a"] * 61) == expected


def test_thirty_per_second_for_the_whole_tenant():
    pacer = Pacer()
    conversations = [f"c{i % 6}" for i in range(31)]  # at most six per chat: under its 7/s

    assert slots(pacer, conversations) == [0.0] * 30 + [1.0]


def test_the_tenant_rate_is_a_setting():
    pacer = Pacer(tenant_windows=[Window(1, 50)])

    assert slots(pacer, [f"c{i}" for i in range(51)]) == [0.0] * 50 + [1.0]


def test_one_conversations_limit_leaves_the_others_alone_but_slots_stay_in_order():
    pacer = Pacer()

    assert slots(pacer, ["a"] * 8) == [0.0] * 7 + [1.0]
    # "b" is free at 0 s, but slots are handed out in order: it goes no earlier than a's last.
    assert pacer.reserve("b", 0.0) == 1.0
    assert pacer.reserve("b", 1.5) == 1.5
    assert pacer.reserve("a", 1.5) == 2.0  # a's 2-second window is full until 2 s


def test_earliest_only_looks_and_reserve_takes():
    pacer = Pacer(conversation_windows=[Window(1, 1)], tenant_windows=[])

    assert pacer.earliest("a", 5.0) == 5.0
    assert pacer.earliest("a", 5.0) == 5.0
    assert pacer.reserve("a", 5.0) == 5.0
    assert pacer.earliest("a", 5.0) == 6.0
    assert pacer.earliest("a", 7.25) == 7.25


def test_a_window_frees_when_its_time_has_passed():
    pacer = Pacer(tenant_windows=[])
    slots(pacer, ["a"] * 7, now=0.0)

    assert pacer.reserve("a", 0.5) == 1.0
    assert pacer.reserve("a", 10.0) == 10.0


# Mostly bursts (no time passes), sometimes a pause; every time is a multiple of 1/16 s, exact
# in binary floating point, so the check below is exact.
_step = st.one_of(
    st.just(0.0),
    st.just(0.0),
    st.integers(min_value=1, max_value=48).map(lambda sixteenths: sixteenths / 16),
)
_reservation = st.tuples(st.sampled_from(["a", "b", "c", "d", "e", "f"]), _step)


@settings(max_examples=300, deadline=None)
@given(st.lists(_reservation, min_size=1, max_size=250), st.integers(min_value=5, max_value=30))
def test_no_window_ever_holds_more_than_its_limit(reservations, tenant_rate):
    tenant = (Window(1, tenant_rate),)
    pacer = Pacer(tenant_windows=tenant)
    now, previous = 0.0, 0.0
    given_slots: dict[str, list[float]] = defaultdict(list)
    for conversation, step in reservations:
        now += step
        slot = pacer.reserve(conversation, now)
        assert slot >= now and slot >= previous  # never before it was asked, never backwards
        previous = slot
        given_slots[conversation].append(slot)
        given_slots["*"].append(slot)

    for key, times in given_slots.items():
        windows = tenant if key == "*" else CONVERSATION_WINDOWS
        for window in windows:
            # Any `limit + 1` sends in a row must span at least the window's length.
            for first, last in zip(times, times[window.limit :], strict=False):
                assert last - first >= window.seconds, (key, window, first, last)
