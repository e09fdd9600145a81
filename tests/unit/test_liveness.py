"""Which dispatchers are dead: silent by the wall clock, and not renewed while this one watched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.notify.liveness import Watch

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TTL, DEAD_AFTER = 6.0, 10.0


def until(beat: datetime) -> datetime:
    return beat + timedelta(seconds=TTL)


def test_at_the_first_count_a_long_silent_row_is_dead_at_once():
    watch = Watch(DEAD_AFTER, TTL)
    silent = ("dispatcher:a", until(T0 - timedelta(seconds=DEAD_AFTER + 0.1)))
    recent = ("dispatcher:b", until(T0 - timedelta(seconds=DEAD_AFTER - 0.1)))

    assert watch.dead([silent, recent], now=T0, at=100.0) == [silent]


def test_a_row_that_falls_silent_later_is_dead_once_it_was_not_renewed_for_a_ttl():
    watch = Watch(DEAD_AFTER, TTL)
    row = ("dispatcher:a", until(T0))
    assert watch.dead([row], now=T0, at=100.0) == []

    # The wall clock says silent for long enough; this watcher saw no renewal for a ttl.
    later = T0 + timedelta(seconds=DEAD_AFTER + 0.1)
    assert watch.dead([row], now=later, at=100.0 + DEAD_AFTER + 0.1) == [row]


def test_a_clock_that_jumps_does_not_bury_a_dispatcher_that_goes_on_beating():
    watch = Watch(DEAD_AFTER, TTL)
    assert watch.dead([("dispatcher:a", until(T0))], now=T0, at=100.0) == []

    # An hour later on the wall clock, two seconds on the monotonic one: it has not beaten
    # since the jump, but it beat two seconds ago.
    jumped = T0 + timedelta(hours=1)
    assert watch.dead([("dispatcher:a", until(T0))], now=jumped, at=102.0) == []
    renewed = ("dispatcher:a", until(jumped))
    assert watch.dead([renewed], now=jumped + timedelta(seconds=2), at=104.0) == []


def test_a_frozen_clock_does_not_bury_anyone_who_shares_it():
    watch = Watch(DEAD_AFTER, TTL)
    row = ("dispatcher:a", until(T0))  # renewed at T0 again and again

    for at in (100.0, 110.0, 200.0):
        assert watch.dead([row], now=T0, at=at) == []
