"""Connections accepted once, by the parent, and handed to the serving processes in turn.

Processes that all accept from one shared socket split the connections by who wakes first:
one process takes a burst of new connections while the other sleeps, and a client's keep-alive
connections then stay where they landed. Seen with 16 customers on two processes: 15 on one and
1 on the other, and the 15 waited 3–4 times as long for each reply. Dealing each new connection
to the next process that is serving (as Node's cluster module does) splits them evenly.

The parent passes each connection's descriptor over a Unix socket pair per process
(SCM_RIGHTS); a process says it is serving by sending READY on its end, and is dealt no
connection before that, nor after its end is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

READY = b"ready"
# Packets keep one descriptor to one message; where the system has none, datagrams do the same.
_KIND = getattr(socket, "SOCK_SEQPACKET", socket.SOCK_DGRAM)
# How many connections one wake takes at most, so that a burst of new connections keeps
# neither a serving process from the requests it has in hand nor the parent from its workers.
_TAKEN_AT_ONCE = 64
# After accept fails for want of resources (descriptors, memory), the connections wait in the
# backlog this long rather than have the parent try again at once, for ever.
_ACCEPT_PAUSE_SECONDS = 0.1


def channel() -> tuple[socket.socket, socket.socket]:
    """A new pair: the parent's end, and the serving process's."""
    parents, workers = socket.socketpair(socket.AF_UNIX, _KIND)
    parents.setblocking(False)
    return parents, workers


class Dealer:
    """The parent's side: knows each process's end and whether it serves yet, and deals every
    connection waiting on the listener to the next one that does."""

    def __init__(self, listener: socket.socket) -> None:
        listener.setblocking(False)
        self._listener = listener
        self._ends: dict[int, socket.socket] = {}  # slot → the parent's end
        self._serving: list[int] = []  # slots that said READY, in the order of dealing
        self._next = 0
        self._accepts_from = 0.0  # monotonic time; see _ACCEPT_PAUSE_SECONDS

    def join(self, slot: int, end: socket.socket) -> None:
        """A process started for `slot`, with this end; it is dealt connections once READY."""
        self.leave(slot)
        self._ends[slot] = end

    def leave(self, slot: int) -> None:
        """The process of `slot` ended: its end is closed and it is dealt nothing more."""
        end = self._ends.pop(slot, None)
        if end is not None:
            end.close()
        if slot in self._serving:
            self._serving.remove(slot)

    def ends(self) -> list[socket.socket]:
        return list(self._ends.values())

    def close(self) -> None:
        """Deals nothing more: every end is closed (the processes are being stopped)."""
        for slot in list(self._ends):
            self.leave(slot)

    def watched(self) -> list[Any]:
        """What the parent waits on for this: the ends of processes not serving yet and, once
        one serves, the listener (until then connections wait in its backlog)."""
        starting = [end for slot, end in self._ends.items() if slot not in self._serving]
        if self._serving and time.monotonic() >= self._accepts_from:
            return [*starting, self._listener]
        return starting

    def ready(self, ready: list[Any]) -> None:
        """Handles what `wait` found ready among `watched()`."""
        for slot, end in list(self._ends.items()):
            if end in ready and slot not in self._serving:
                self._hear(slot, end)
        if self._listener in ready:
            self._deal()

    def _hear(self, slot: int, end: socket.socket) -> None:
        try:
            said = end.recv(len(READY))
        except BlockingIOError:
            return
        except OSError:
            said = b""
        if said == READY:
            self._serving.append(slot)
        elif not said:  # the process closed its end while starting: it is ending
            self.leave(slot)

    def _deal(self) -> None:
        for _ in range(_TAKEN_AT_ONCE):
            if not self._serving:
                return
            try:
                connection, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # e.g. out of descriptors: the rest wait in the backlog
                log.error("could not accept a connection", extra={"error": str(error)})
                self._accepts_from = time.monotonic() + _ACCEPT_PAUSE_SECONDS
                return
            with connection:
                self._hand(connection)

    def _hand(self, connection: socket.socket) -> None:
        """To the next serving process; one whose end is gone (it is ending) or full (it is
        stuck) is passed over, the former for good."""
        passed_over = 0
        while passed_over < len(self._serving):
            self._next %= len(self._serving)
            slot = self._serving[self._next]
            try:
                socket.send_fds(self._ends[slot], [b"c"], [connection.fileno()])
            except BlockingIOError:
                self._next += 1
                passed_over += 1
                continue
            except OSError:
                self.leave(slot)
                continue
            self._next += 1
            return
        log.error("no serving process could take a connection; it was closed")


class HandedSite(web.BaseSite):
    """A process's side: serves the connections dealt to it on `end`, and says READY once it
    does. Stopping it closes the end, so the parent deals it nothing more."""

    __slots__ = ("_end", "_name", "_opening")

    def __init__(self, runner: web.BaseRunner, end: socket.socket, name: str) -> None:
        super().__init__(runner)
        end.setblocking(False)
        self._end, self._name = end, name
        self._opening: set[asyncio.Task[Any]] = set()

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        await super().start()
        asyncio.get_running_loop().add_reader(self._end.fileno(), self._take)
        # A parent that has closed its end is stopping every process, this one included.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._end.send(READY)

    async def stop(self) -> None:
        with contextlib.suppress(ValueError, OSError):  # already closed: the parent went first
            asyncio.get_running_loop().remove_reader(self._end.fileno())
        self._end.close()
        for opening in self._opening:
            opening.cancel()
        await super().stop()

    def _take(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(_TAKEN_AT_ONCE):
            try:
                message, descriptors, _flags, _address = socket.recv_fds(self._end, 1, 1)
            except BlockingIOError:
                return
            if not message:  # the parent is gone; the process is being stopped with it
                loop.remove_reader(self._end.fileno())
                return
            for descriptor in descriptors:
                task = loop.create_task(self._open(socket.socket(fileno=descriptor)))
                self._opening.add(task)
                task.add_done_callback(self._opening.discard)

    async def _open(self, connection: socket.socket) -> None:
        server = self._runner.server
        assert server is not None  # BaseSite checked it
        connection.setblocking(False)
        try:
            await asyncio.get_running_loop().connect_accepted_socket(server, connection)
        except (OSError, RuntimeError):  # the client left, or the loop is closing
            connection.close()
