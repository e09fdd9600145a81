"""Tests each dispatcher's share of Teams' limits: equal, at least one, lowered at once, raised late."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.notify.pacing import CONVERSATION_WINDOWS, TENANT_WINDOWS, Pacer, Window

SECOND, TWO, HALF_MINUTE, HOUR = CONVERSATION_WINDOWS
TENANT = TENANT_WINDOWS[0]


def allowances(pacer: Pacer, now: float) -> list[int]:
    return [pacer.allowance(window, now) for window in (*CONVERSATION_WINDOWS, TENANT)]


def test_alone_a_dispatcher_has_the_whole_of_every_limit():
    pacer = Pacer()

    assert pacer.sharers == 1
    assert allowances(pacer, 0.0) == [7, 8, 60, 1800, 30]
    assert pacer.tenant_rate(0.0) == 30


def test_each_of_several_takes_an_equal_share_rounded_down():
    pacer = Pacer()

    pacer.share(2, now=0.0)
    assert allowances(pacer, 0.0) == [3, 4, 30, 900, 15]
    pacer.share(4, now=0.0)
    assert allowances(pacer, 0.0) == [1, 2, 15, 450, 7]  # 4 × 7 = 28: never more than 30


def test_a_share_is_at_least_one():
    pacer = Pacer()

    pacer.share(12, now=0.0)

    assert allowances(pacer, 0.0) == [1, 1, 5, 150, 2]


def test_no_one_counted_is_read_as_this_one_alone():
    pacer = Pacer()

    pacer.share(0, now=0.0)

    assert pacer.sharers == 1 and pacer.tenant_rate(0.0) == 30


def test_a_smaller_share_applies_at_once():
    pacer = Pacer()

    pacer.share(3, now=100.0)

    assert allowances(pacer, 100.0) == [2, 2, 20, 600, 10]


def test_a_larger_share_waits_for_each_window_to_pass():
    pacer = Pacer()
    pacer.share(2, now=0.0)

    pacer.share(1, now=50.0)  # the other dispatcher is gone: its sends count a window long

    assert allowances(pacer, 50.0) == [3, 4, 30, 900, 15]
    assert allowances(pacer, 50.99) == [3, 4, 30, 900, 15]
    assert allowances(pacer, 51.0) == [7, 4, 30, 900, 30]
    assert allowances(pacer, 52.0) == [7, 8, 30, 900, 30]
    assert allowances(pacer, 80.0) == [7, 8, 60, 900, 30]
    assert allowances(pacer, 3650.0) == [7, 8, 60, 1800, 30]


def test_the_smallest_share_of_the_last_window_applies():
    pacer = Pacer()
    pacer.share(3, now=0.0)
    pacer.share(2, now=10.0)
    pacer.share(1, now=20.0)

    assert pacer.allowance(HALF_MINUTE, 35.0) == 20  # the 3-way share ended at 10 s, within 30 s
    assert pacer.allowance(HALF_MINUTE, 45.0) == 30
    assert pacer.allowance(HALF_MINUTE, 50.0) == 60
    assert pacer.allowance(HOUR, 50.0) == 600


def test_slots_follow_the_share():
    pacer = Pacer(conversation_windows=[], tenant_windows=[Window(1, 30)])
    pacer.share(2, now=0.0)

    given = [pacer.reserve(f"c{n}", 0.0) for n in range(31)]

    assert given == [0.0] * 15 + [1.0] * 15 + [2.0]


def test_the_final_check_and_the_spacing_follow_the_share():
    pacer = Pacer(conversation_windows=[Window(1, 7)], tenant_windows=[Window(1, 4)])
    pacer.share(2, now=0.0)

    assert pacer.clear_to_send("a", 0.0) == 0.0
    pacer.started("a", 0.0)
    assert pacer.clear_to_send("b", 0.1) == 0.5  # 2 a second: one every half second
    pacer.answered("a", 0.01)
    pacer.started("b", 0.5)
    pacer.answered("b", 0.51)
    assert pacer.clear_to_send("c", 0.6) == 1.01  # two answered within the last second


# Each of `sharers` dispatchers sends greedily to random chats at random moments, each
# keeping to its own share; Teams sees their sends merged.
_send = st.tuples(
    st.integers(min_value=0, max_value=3),
    st.sampled_from(["a", "b", "c"]),
    st.integers(min_value=0, max_value=16).map(lambda sixteenths: sixteenths / 16),
)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=4), st.lists(_send, min_size=1, max_size=300))
def test_dispatchers_at_their_shares_never_exceed_a_limit_together(sharers, sends):
    tenant = (Window(1, 30),)
    pacers = [Pacer(tenant_windows=tenant) for _ in range(sharers)]
    for pacer in pacers:
        pacer.share(sharers, now=0.0)
    now = 0.0
    merged: dict[str, list[float]] = defaultdict(list)
    for which, conversation, step in sends:
        now += step
        slot = pacers[which % sharers].reserve(conversation, now)
        merged[conversation].append(slot)
        merged["*"].append(slot)

    for key, times in merged.items():
        times.sort()
        for window in tenant if key == "*" else CONVERSATION_WINDOWS:
            for first, last in zip(times, times[window.limit :], strict=False):
                assert last - first >= window.seconds, (key, window, first, last)


def test_a_long_history_of_changes_is_forgotten():
    pacer = Pacer()
    for n in range(10_000):
        pacer.share(1 + n % 2, now=n * 10.0)

    assert len(pacer._sharers) < 400  # only the last hour's changes can still hold a window
    assert pacer.sharers == 2
