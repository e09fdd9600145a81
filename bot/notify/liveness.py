"""Tells from the dispatchers' heartbeat rows which of them are dead, count after count."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Heartbeat = tuple[str, datetime]  # a row's name, and the moment until which it counts


@dataclass
class Watch:
    """One dispatcher's view of the others' heartbeats.

    A dispatcher is dead when, by the wall clock, its last beat is more than `dead_after`
    old, and, by this one's own monotonic clock, its row has not been renewed for `renew_within`
    (a live one renews it more often). The second test keeps a clock that jumps (a test's, or
    one set right) from burying a live dispatcher; at the first count there is no history
    yet, so the first alone decides, and a restart finds the dead at once.
    """

    dead_after: float
    # The rows' `ttl`: a row counts for that long after its beat, and a live one is renewed sooner.
    renew_within: float
    _seen: dict[str, tuple[datetime, float]] = field(default_factory=dict)
    _counted: bool = False

    def dead(self, others: Iterable[Heartbeat], *, now: datetime, at: float) -> list[Heartbeat]:
        """The dead among `others` (every other dispatcher's row) at `now`, monotonic `at`."""
        silent_since = now - timedelta(seconds=self.dead_after - self.renew_within)
        seen: dict[str, tuple[datetime, float]] = {}
        found = []
        for name, until in others:
            since = self._seen.get(name)
            if since is None or since[0] != until:
                since = (until, at)
            seen[name] = since
            unrenewed = not self._counted or at - since[1] >= self.renew_within
            if until < silent_since and unrenewed:
                found.append((name, until))
        self._seen, self._counted = seen, True
        return found
