"""Paces sends to Teams' published limits: per conversation, and for the whole bot in the tenant."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

GLOBAL = "*"


@dataclass(frozen=True)
class Window:
    """At most `limit` sends in any `seconds`-long stretch."""

    seconds: float
    limit: int


# Microsoft's figures for a bot: 7/1 s, 8/2 s, 60/30 s, 1,800/h per conversation; 30/s per tenant.
CONVERSATION_WINDOWS = (Window(1, 7), Window(2, 8), Window(30, 60), Window(3600, 1800))
TENANT_WINDOWS = (Window(1, 30),)
# How long a send waits before looking again when every allowed send is still on its way.
RECHECK_SECONDS = 0.05
SWEEP_EVERY = 1024


class Pacer:
    """Hands out send slots (seconds on a monotonic clock) that keep every window within its limit.

    Slots are handed out in order and reserved when given, so concurrent senders space
    themselves out instead of all seeing the same free moment, and every log stays sorted.
    """

    def __init__(
        self,
        conversation_windows: Iterable[Window] = CONVERSATION_WINDOWS,
        tenant_windows: Iterable[Window] = TENANT_WINDOWS,
    ) -> None:
        self._conversation = tuple(conversation_windows)
        self._tenant = tuple(tenant_windows)
        self._sent: dict[tuple[str, Window], deque[float]] = {}
        self._last = 0.0
        # What really went out: how many sends are on their way, and when each was answered.
        self._in_flight: dict[str, int] = {}
        self._answered: dict[tuple[str, Window], deque[float]] = {}
        self._answers = 0
        # Sends that really start are spaced evenly over the tenant's window: in a burst the
        # later sends wait behind the earlier ones, and their late answers hold the next second
        # back, so a steady stream gets more through than bursts do.
        self._spacing = max((w.seconds / w.limit for w in self._tenant), default=0.0)
        self._last_start: float | None = None

    def earliest(self, conversation: str, now: float) -> float:
        """The first moment at or after `now` when one more send to `conversation` is allowed."""
        keyed = [(conversation, w) for w in self._conversation] + [
            (GLOBAL, w) for w in self._tenant
        ]
        slot = max(now, self._last)
        moved = True
        while moved:  # each pass only moves the slot later, so this settles
            moved = False
            for key, window in keyed:
                times = self._prune(key, window, slot)
                if len(times) >= window.limit:
                    free_at = times[len(times) - window.limit] + window.seconds
                    if free_at > slot:
                        slot, moved = free_at, True
        return slot

    def reserve(self, conversation: str, now: float) -> float:
        slot = self.earliest(conversation, now)
        for key, window in [(conversation, w) for w in self._conversation] + [
            (GLOBAL, w) for w in self._tenant
        ]:
            self._sent.setdefault((key, window), deque()).append(slot)
        self._last = slot
        return slot

    def clear_to_send(self, conversation: str, now: float) -> float:
        """When its slot has come, the first moment a send may really start: `now`, or later.

        Slots are planned before the sends ahead of them are answered, and a send can reach
        Teams later than planned (a slow answer, a pause of the whole process), which would
        put the sends behind it too close to it. So just before sending, the windows are
        checked against what really happened: a send on its way counts as happening now, and
        an answered one as happening when it was answered, the latest moment Teams can have
        counted it. Whatever the delays, no window then holds more than its limit at Teams.
        """
        slot = now if self._last_start is None else max(now, self._last_start + self._spacing)
        for key, window in self._keyed(conversation):
            room = window.limit - self._in_flight.get(key, 0)
            times = self._answered.setdefault((key, window), deque())
            while times and times[0] <= now - window.seconds:
                times.popleft()
            if room <= 0:  # only an answer makes room: look again shortly
                slot = max(slot, now + RECHECK_SECONDS)
            elif len(times) >= room:
                slot = max(slot, times[len(times) - room] + window.seconds)
        return slot

    def started(self, conversation: str, at: float) -> None:
        """A send leaves at `at` (right after clear_to_send allowed it, with no await between)."""
        # A send that wakes a little after its turn keeps the stream's beat, so that small
        # delays of the event loop do not add up into a slower rate; after a pause it starts anew.
        due = at if self._last_start is None else self._last_start + self._spacing
        self._last_start = due if due <= at < due + self._spacing else at
        for key in (conversation, GLOBAL):
            self._in_flight[key] = self._in_flight.get(key, 0) + 1

    def answered(self, conversation: str, at: float) -> None:
        """The send's answer came (or it failed) at `at`, a time no earlier than any before it."""
        for key in (conversation, GLOBAL):
            left = self._in_flight.get(key, 0) - 1
            if left > 0:
                self._in_flight[key] = left
            else:
                self._in_flight.pop(key, None)
        for key, window in self._keyed(conversation):
            self._answered.setdefault((key, window), deque()).append(at)
        self._answers += 1
        if self._answers % SWEEP_EVERY == 0:
            self._sweep(at)

    def _sweep(self, now: float) -> None:
        # A broadcast touches thousands of chats once each; forget those whose windows are over.
        for log in (self._sent, self._answered):
            for (key, window), times in list(log.items()):
                if not times or times[-1] <= now - window.seconds:
                    del log[(key, window)]

    def _keyed(self, conversation: str) -> list[tuple[str, Window]]:
        return [(conversation, w) for w in self._conversation] + [(GLOBAL, w) for w in self._tenant]

    def _prune(self, key: str, window: Window, at: float) -> deque[float]:
        times = self._sent.setdefault((key, window), deque())
        while times and times[0] <= at - window.seconds:
            times.popleft()
        return times
