"""Which dialog-state keys this process wrote since a given moment, so that an early read can be trusted."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

# Keys remembered; a read older than the oldest forgotten write is no longer trusted at all.
KEYS_KEPT = 4096


class WriteLog:
    """Numbers every write of a key; a read taken at mark m is current if no key it read was
    written after m. Writes are noted once their transaction has ended (committed or not), and
    a mark is taken before its read begins, so a write the read might have missed is always
    numbered after the mark."""

    def __init__(self, kept: int = KEYS_KEPT) -> None:
        self._kept = kept
        self._count = 0
        self._last: OrderedDict[str, int] = OrderedDict()
        self._forgotten = 0  # the number of the newest write no longer in _last

    def mark(self) -> int:
        return self._count

    def wrote(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._count += 1
            self._last[key] = self._count
            self._last.move_to_end(key)
        while len(self._last) > self._kept:
            _key, number = self._last.popitem(last=False)
            self._forgotten = max(self._forgotten, number)

    def unwritten_since(self, key: str, mark: int) -> bool:
        return self._forgotten <= mark and self._last.get(key, 0) <= mark
