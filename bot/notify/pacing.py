"""Paces sends to Teams' published limits: per conversation, and for the whole bot in the tenant."""

from __future__ import annotations

import math
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
    When several dispatchers send for one bot, each paces to its share of every limit
    (see `share`), so that together they keep the limit.
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
        self._last_start: float | None = None
        # (since when, how many dispatchers share the limits), oldest first; see `share`.
        self._sharers: list[tuple[float, int]] = [(-math.inf, 1)]
        self._longest = max((w.seconds for w in (*self._conversation, *self._tenant)), default=0.0)

    @property
    def windows(self) -> tuple[Window, ...]:
        """Every window paced, per conversation and for the tenant."""
        return self._conversation + self._tenant

    @property
    def sharers(self) -> int:
        """How many dispatchers this one last heard share the limits (itself included)."""
        return self._sharers[-1][1]

    def share(self, sharers: int, now: float) -> None:
        """From `now` on, `sharers` dispatchers (this one included) send for the bot.

        Each takes an equal share of every window, rounded down and at least one, so the
        shares never add up to more than the limit while there are no more sharers than it
        allows. A smaller share applies at once. A larger one, when a dispatcher left, applies
        to each window only once that window's length has passed: until then its sends
        still count at Teams.
        """
        sharers = max(1, sharers)
        if sharers == self.sharers:
            return
        self._sharers.append((now, sharers))
        # Keep what can still hold a window back: the entries that ended within the longest one.
        while len(self._sharers) > 1 and self._sharers[1][0] <= now - self._longest:
            self._sharers.pop(0)

    def allowance(self, window: Window, now: float) -> int:
        """How many sends this dispatcher may make in `window` at `now`: its share of the limit."""
        since, latest = self._sharers[-1]
        if since <= now - window.seconds:  # the latest share has held for the whole window
            return max(1, window.limit // latest)
        fewest = window.limit
        # Every share in force at some moment of the last `window.seconds` applies.
        for index, (_since, sharers) in enumerate(self._sharers):
            ended = self._sharers[index + 1][0] if index + 1 < len(self._sharers) else math.inf
            if ended > now - window.seconds:
                fewest = min(fewest, max(1, window.limit // sharers))
        return fewest

    def tenant_rate(self, now: float) -> float:
        """The sends per second this dispatcher may make to the tenant at `now` (its share)."""
        return min((self.allowance(w, now) / w.seconds for w in self._tenant), default=math.inf)

    def _spacing(self, now: float) -> float:
        return max((w.seconds / self.allowance(w, now) for w in self._tenant), default=0.0)

    def earliest(self, conversation: str, now: float) -> float:
        """The first moment at or after `now` when one more send to `conversation` is allowed."""
        keyed = self._keyed(conversation)
        limits = {window: self.allowance(window, now) for window in self.windows}
        slot = max(now, self._last)
        moved = True
        while moved:  # each pass only moves the slot later, so this settles
            moved = False
            for key, window in keyed:
                times = self._prune(key, window, slot)
                limit = limits[window]
                if len(times) >= limit:
                    free_at = times[len(times) - limit] + window.seconds
                    if free_at > slot:
                        slot, moved = free_at, True
        return slot

    def reserve(self, conversation: str, now: float) -> float:
        slot = self.earliest(conversation, now)
        for key, window in self._keyed(conversation):
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
        spacing = self._spacing(now)
        slot = now if self._last_start is None else max(now, self._last_start + spacing)
        for key, window in self._keyed(conversation):
            room = self.allowance(window, now) - self._in_flight.get(key, 0)
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
        spacing = self._spacing(at)
        due = at if self._last_start is None else self._last_start + spacing
        self._last_start = due if due <= at < due + spacing else at
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
