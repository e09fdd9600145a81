"""The pacer's last check before a send: counts what really went out, each until it was answered."""

from __future__ import annotations

from bot.notify.pacing import RECHECK_SECONDS, Pacer, Window


def send(pacer: Pacer, conversation: str, at: float, answered: float) -> None:
    assert pacer.clear_to_send(conversation, at) == at
    pacer.started(conversation, at)
    pacer.answered(conversation, answered)


def test_a_late_answer_holds_the_send_a_window_later_back():
    pacer = Pacer(conversation_windows=[], tenant_windows=[Window(1, 2)])
    send(pacer, "a", 0.0, answered=0.3)  # this one reached Teams late, up to 0.3
    send(pacer, "b", 0.5, answered=0.51)

    # Planned for 1.0, but Teams may have counted the first send as late as 0.3.
    assert pacer.clear_to_send("c", 1.0) == 1.3
    assert pacer.clear_to_send("c", 1.3) == 1.3


def test_a_send_on_its_way_counts_as_happening_now():
    pacer = Pacer(conversation_windows=[Window(1, 1)], tenant_windows=[])
    pacer.started("a", 0.0)

    assert pacer.clear_to_send("a", 5.0) == 5.0 + RECHECK_SECONDS  # still no answer
    assert pacer.clear_to_send("b", 5.0) == 5.0  # other chats are not held back

    pacer.answered("a", 5.0)
    assert pacer.clear_to_send("a", 5.5) == 6.0


def test_sends_are_spaced_evenly_over_the_tenant_window():
    pacer = Pacer(conversation_windows=[], tenant_windows=[Window(1, 4)])

    assert pacer.clear_to_send("a", 0.0) == 0.0
    pacer.started("a", 0.0)
    assert pacer.clear_to_send("b", 0.1) == 0.25
    pacer.answered("a", 0.01)


def test_a_send_that_woke_a_little_late_does_not_slow_the_stream():
    pacer = Pacer(conversation_windows=[], tenant_windows=[Window(1, 4)])
    pacer.started("a", 0.0)
    pacer.started("b", 0.26)  # due at 0.25, the event loop was a little busy

    assert pacer.clear_to_send("c", 0.3) == 0.5  # the beat holds: 0.5, not 0.51
    pacer.started("c", 0.5)
    pacer.started("d", 2.0)  # after a pause the stream starts anew
    assert pacer.clear_to_send("e", 2.0) == 2.25


def test_an_answered_window_leaves_no_trace_once_over():
    pacer = Pacer(conversation_windows=[Window(1, 7)], tenant_windows=[Window(1, 30)])
    for n in range(2048):
        at = n * 0.04
        assert pacer.clear_to_send(f"chat-{n}", at) == at
        pacer.started(f"chat-{n}", at)
        pacer.answered(f"chat-{n}", at + 0.005)

    # Only the chats answered within the last second are still remembered.
    assert len(pacer._answered) < 60
    assert pacer._in_flight == {}
