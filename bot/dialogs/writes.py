"""Which dialog-state keys this process wrote since a given moment, so that an early read can be trusted."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping

# Keys remembered; a read older than the oldest forgotten write is no longer trusted at all.
KEYS_KEPT = 4096


class WriteLog:
    """Numbers every write of a key and keeps the e-tag it left; a read taken at mark m is
    current if this process wrote the key neither after m nor, before m, with another e-tag
    than the one the read saw. Writes are noted once their transaction has ended (committed or
    not), and a mark is taken before its read begins.

    The e-tag matters because a read may show the database as of before its mark: on SQLite a
    reading transaction sees it as of its first statement, which may come before the mark.
    """

    def __init__(self, kept: int = KEYS_KEPT) -> None:
        self._kept = kept
        self._count = 0
        # Per key: the number of its last write and the e-tag it left (None: not known).
        self._last: OrderedDict[str, tuple[int, str | None]] = OrderedDict()
        self._forgotten = 0  # the number of the newest write no longer in _last

    def mark(self) -> int:
        return self._count

    def wrote(self, keys: Iterable[str], tags: Mapping[str, str] | None = None) -> None:
        """Notes a write of `keys`; `tags` are the e-tags of those that were committed."""
        for key in keys:
            self._count += 1
            self._last[key] = (self._count, (tags or {}).get(key))
            self._last.move_to_end(key)
        while len(self._last) > self._kept:
            _key, (number, _tag) = self._last.popitem(last=False)
            self._forgotten = max(self._forgotten, number)

    def current(self, key: str, mark: int, e_tag: str | None) -> bool:
        """Whether a read of `key` taken at `mark` that saw `e_tag` still shows this process's
        last write of it."""
        if self._forgotten > mark:
            return False
        last = self._last.get(key)
        if last is None:
            return True
        number, tag = last
        return number <= mark and tag is not None and tag == e_tag
