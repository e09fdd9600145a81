"""The dispatchers sharing one database: each announces itself, counts the live ones, takes its share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.notify.metrics import Metrics
from bot.notify.models import Coordination, set_coordination
from bot.notify.pacing import Pacer

log = logging.getLogger(__name__)

PREFIX = "dispatcher:"
NAME_LENGTH = 64  # Coordination.name
# A newcomer's first send waits until the others' sends at their old share have left Teams'
# short windows (1 s for the tenant, 1 s and 2 s per conversation). Longer windows: see README.
SHORT_WINDOWS_SECONDS = 2.0
# Rows of dispatchers gone this long are deleted; until then they are merely not counted.
FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class ReplicaSettings:
    """How often dispatchers look at each other, and the margins that keep their sum in bounds."""

    # Every dispatcher renews its row and counts the live ones this often.
    interval: float = 2.0
    # It sends only while its last count is this recent: a dispatcher cut off from the
    # database cannot learn of a newcomer, so it must not go on at a share that is too big.
    stale_after: float = 4.0
    # The others stop counting a row not renewed for this long. Longer than `stale_after`, so
    # that a dispatcher has stopped sending before anyone raises their share for it.
    ttl: float = 6.0

    def __post_init__(self) -> None:
        if not 0 < self.interval < self.stale_after < self.ttl:
            raise ValueError("replica settings need 0 < interval < stale_after < ttl")

    @property
    def settle(self) -> float:
        """How long a newcomer that found others waits before its first send.

        By then every other dispatcher has counted again (or stopped sending, being stale),
        lowered its share, and its sends at the old share have left the short windows.
        """
        return self.stale_after + SHORT_WINDOWS_SECONDS


def row_name(name: str) -> str:
    """The dispatcher's row; a long name keeps its end, where the process's own part is."""
    return PREFIX + name[-(NAME_LENGTH - len(PREFIX)) :]


async def announce(session: AsyncSession, *, name: str, until: datetime) -> None:
    """Writes or renews the dispatcher's row: it counts as live until `until`."""
    await set_coordination(session, name=row_name(name), until=until, holder=name)


async def live(session: AsyncSession, *, now: datetime) -> int:
    """How many dispatchers have a row that is live at `now`."""
    count = await session.scalar(
        select(func.count())
        .select_from(Coordination)
        .where(Coordination.name.startswith(PREFIX, autoescape=True), Coordination.until > now)
    )
    return int(count or 0)


async def withdraw(session: AsyncSession, *, name: str, now: datetime) -> None:
    """Removes the dispatcher's row, and those of dispatchers long gone."""
    await session.execute(
        delete(Coordination).where(
            Coordination.name.startswith(PREFIX, autoescape=True),
            or_(Coordination.name == row_name(name), Coordination.until < now - FORGET_AFTER),
        )
    )


@dataclass
class Replicas:
    """One dispatcher's place among those sharing the database, kept in its pacer's share.

    Safe at the edges: a newcomer announces itself and, if it found others, waits `settle`
    before it sends; one that stops withdraws after its last send; one that dies stops
    counting when its row expires, and only then do the others raise their share (each
    window once its length has passed, see `Pacer.share`).
    """

    database: Database
    pacer: Pacer
    name: str
    clock: Callable[[], datetime]
    settings: ReplicaSettings = field(default_factory=ReplicaSettings)
    metrics: Metrics | None = None
    # Moments on the pacer's clock.
    monotonic: Callable[[], float] = time.monotonic
    _fresh_until: float = float("-inf")

    @property
    def count(self) -> int:
        """How many dispatchers (this one included) shared the limits at the last count."""
        return self.pacer.sharers

    async def beat(self) -> int:
        """Renews this dispatcher's row, counts the live ones and sets the pacer's share."""
        # Taken before the count is read: whoever announced before this moment is in it.
        began = self.monotonic()
        now = self.clock()
        # Committed before the count: of two dispatchers joining at once, the second to commit
        # then counts the first (in one transaction, each could miss the other's row).
        async with self.database.transaction() as session:
            await announce(
                session, name=self.name, until=now + timedelta(seconds=self.settings.ttl)
            )
        async with self.database.transaction() as session:
            # Its own row was just renewed: a clock that jumped cannot leave it uncounted.
            count = max(1, await live(session, now=now))
        self.pacer.share(count, self.monotonic())
        self._fresh_until = began + self.settings.stale_after
        if self.metrics is not None:
            self.metrics.dispatchers(count, self.pacer.tenant_rate(self.monotonic()))
        return count

    async def join(self) -> float:
        """Announces this dispatcher; returns how long to wait before its first send."""
        # Alone, nobody else sends: each sender has a live row (a stopped one withdrew after
        # its last send, a dead one stopped sending before its row expired).
        return self.settings.settle if await self.beat() > 1 else 0.0

    def fresh(self, now: float) -> bool:
        """Whether the last count is recent enough to send on at its share (`now`: monotonic)."""
        return now < self._fresh_until

    async def keep_beating(self, stopped: asyncio.Event) -> None:
        """Beats every `interval` until `stopped` is set; a failed beat is logged and tried again.

        It stops between beats rather than being cancelled, so that no beat is cut off inside
        its transaction (on SQLite that could keep the write lock from the withdrawal).
        """
        while not stopped.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), self.settings.interval)
                return
            try:
                await self.beat()
            except Exception:  # the dispatcher holds its sends back until a beat succeeds
                log.exception("dispatcher heartbeat failed")

    async def leave(self) -> None:
        """After the last send: the others may raise their share once they count again."""
        self._fresh_until = float("-inf")
        async with self.database.transaction() as session:
            await withdraw(session, name=self.name, now=self.clock())
