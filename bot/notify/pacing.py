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

    def _prune(self, key: str, window: Window, at: float) -> deque[float]:
        times = self._sent.setdefault((key, window), deque())
        while times and times[0] <= at - window.seconds:
            times.popleft()
        return times
