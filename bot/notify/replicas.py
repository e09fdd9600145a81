"""The dispatchers sharing one database: each announces itself, counts the live ones, takes its share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.notify.liveness import Heartbeat, Watch
from bot.notify.metrics import Metrics
from bot.notify.models import Coordination, set_coordination
from bot.notify.pacing import Pacer

log = logging.getLogger(__name__)

PREFIX = "dispatcher:"
HOLDER_LENGTH = 128  # Coordination.holder
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
    # A dispatcher not heard of for this long is dead: its row is deleted, and with it go its
    # claims (bot/notify/claims.py). Longer than `ttl` by a margin for hosts whose clocks
    # differ a little, and for a send still on its way when the heartbeat stopped.
    dead_after: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.interval < self.stale_after < self.ttl < self.dead_after:
            raise ValueError("replica settings need 0 < interval < stale_after < ttl < dead_after")

    @property
    def settle(self) -> float:
        """How long a newcomer that found others waits before its first send.

        By then every other dispatcher has counted again (or stopped sending, being stale),
        lowered its share, and its sends at the old share have left the short windows.
        """
        return self.stale_after + SHORT_WINDOWS_SECONDS


def row_name(start: str) -> str:
    """The heartbeat row of one start of a dispatcher; its holder is the replica's name."""
    return PREFIX + start


def holder_name(name: str) -> str:
    """The replica's name as its rows hold it; a long name keeps its end, where its own part is."""
    return name[-HOLDER_LENGTH:]


def new_start() -> str:
    """What tells this start of a replica from its earlier ones: its claims carry it."""
    return uuid.uuid4().hex[:16]


async def announce(session: AsyncSession, *, start: str, name: str, until: datetime) -> None:
    """Writes or renews a dispatcher's row: it counts as live until `until`."""
    await set_coordination(session, name=row_name(start), until=until, holder=holder_name(name))


async def live(session: AsyncSession, *, now: datetime) -> int:
    """How many dispatchers have a row that is live at `now`."""
    count = await session.scalar(
        select(func.count())
        .select_from(Coordination)
        .where(Coordination.name.startswith(PREFIX, autoescape=True), Coordination.until > now)
    )
    return int(count or 0)


async def withdraw(session: AsyncSession, *, start: str, now: datetime) -> None:
    """Removes the dispatcher's row, and those of dispatchers long gone."""
    await session.execute(
        delete(Coordination).where(
            Coordination.name.startswith(PREFIX, autoescape=True),
            or_(Coordination.name == row_name(start), Coordination.until < now - FORGET_AFTER),
        )
    )


@dataclass
class Replicas:
    """One dispatcher's place among those sharing the database, kept in its pacer's share.

    Safe at the edges: a newcomer announces itself and, if it found others, waits `settle`
    before it sends; one that stops withdraws after its last send; one that dies stops
    counting when its row expires, and only then do the others raise their share (each
    window once its length has passed, see `Pacer.share`). A dead one's row is deleted, at
    the replica's own next start or once the others find it dead, and with it go its claims.
    """

    database: Database
    pacer: Pacer
    # Stable across restarts of the replica (bot/app.py), unlike `start`.
    name: str
    clock: Callable[[], datetime]
    settings: ReplicaSettings = field(default_factory=ReplicaSettings)
    metrics: Metrics | None = None
    # Moments on the pacer's clock.
    monotonic: Callable[[], float] = time.monotonic
    start: str = field(default_factory=new_start)
    _fresh_until: float = float("-inf")
    _watch: Watch = field(init=False)

    def __post_init__(self) -> None:
        self._watch = Watch(self.settings.dead_after, self.settings.ttl)

    @property
    def count(self) -> int:
        """How many dispatchers (this one included) shared the limits at the last count."""
        return self.pacer.sharers

    async def beat(self, *, joining: bool = False) -> int:
        """Renews this dispatcher's row, buries the dead, counts the live ones, sets the share.

        `joining`: this is the start's first beat, and the rows of the replica's earlier
        starts are its own: they are dead, however recently they beat.
        """
        # Taken before the count is read: whoever announced before this moment is in it.
        began = self.monotonic()
        now = self.clock()
        # Committed before the count: of two dispatchers joining at once, the second to commit
        # then counts the first (in one transaction, each could miss the other's row).
        async with self.database.transaction() as session:
            await announce(
                session,
                start=self.start,
                name=self.name,
                until=now + timedelta(seconds=self.settings.ttl),
            )
        async with self.database.transaction() as session:
            await self._bury(session, now=now, at=began, joining=joining)
            # Its own row was just renewed: a clock that jumped cannot leave it uncounted.
            count = max(1, await live(session, now=now))
        self.pacer.share(count, self.monotonic())
        self._fresh_until = began + self.settings.stale_after
        if self.metrics is not None:
            self.metrics.dispatchers(count, self.pacer.tenant_rate(self.monotonic()))
        return count

    async def _bury(
        self, session: AsyncSession, *, now: datetime, at: float, joining: bool
    ) -> None:
        """Deletes the rows of dead dispatchers, unless one was renewed since it was read."""
        found = await session.execute(
            select(Coordination.name, Coordination.until, Coordination.holder).where(
                Coordination.name.startswith(PREFIX, autoescape=True),
                Coordination.name != row_name(self.start),
            )
        )
        others = [(name, until, holder) for name, until, holder in found]
        dead: set[Heartbeat] = set(
            self._watch.dead([(name, until) for name, until, _ in others], now=now, at=at)
        )
        if joining:
            mine = holder_name(self.name)
            dead.update((name, until) for name, until, holder in others if holder == mine)
        for name, until in sorted(dead):
            log.warning(
                "a dispatcher is gone; what it had claimed is sent again",
                extra={"heartbeat": name, "until": until.isoformat()},
            )
            await session.execute(
                delete(Coordination).where(
                    and_(Coordination.name == name, Coordination.until == until)
                )
            )

    async def join(self) -> float:
        """Announces this dispatcher; returns how long to wait before its first send."""
        # Alone, nobody else sends: each sender has a live row (a stopped one withdrew after
        # its last send, a dead one stopped sending before its row expired, and the replica's
        # own earlier start is dead).
        return self.settings.settle if await self.beat(joining=True) > 1 else 0.0

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
            await withdraw(session, start=self.start, now=self.clock())
