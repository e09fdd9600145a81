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
import os
import select
import signal
import socket
import time
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

READY = b"ready"
# Packets keep one descriptor to one message; where the system has none, datagrams do the same.
_KIND = getattr(socket, "SOCK_SEQPACKET", socket.SOCK_DGRAM)
# The parent's send buffer on each end. The parent deals only to an end that polls writable,
# which here means about ten connections on their way (with the kernel's default, about 70),
# so that a process that is stuck takes only a few with it before it is passed over.
_SEND_BUFFER_BYTES = 16384
# How many connections one wake takes at most, so that a burst of new connections keeps
# neither a serving process from the requests it has in hand nor the parent from its workers.
_TAKEN_AT_ONCE = 64
# While every serving process's end is full, the parent looks again this often; connections
# wait in the listener's backlog meanwhile.
_FULL_PAUSE_SECONDS = 0.001
# After accept fails for want of resources (descriptors, memory), the connections wait in the
# backlog this long rather than have the parent try again at once, for ever.
_ACCEPT_PAUSE_SECONDS = 0.1
# What a send on an end whose process has closed it (died, or is stopping) fails with.
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionRefusedError)


def channel() -> tuple[socket.socket, socket.socket]:
    """A new pair: the parent's end, and the serving process's."""
    parents, workers = socket.socketpair(socket.AF_UNIX, _KIND)
    parents.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER_BYTES)
    parents.setblocking(False)
    return parents, workers


class Dealer:
    """The parent's side: knows each process's end and whether it serves yet, and deals every
    connection waiting on the listener to the next one that does and has room for it."""

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

    def watched(self) -> tuple[list[Any], float | None]:
        """What the parent waits on for this, and how long at most (None: as long as it likes).

        The ends of processes not serving yet and, once one serves and has room, the listener;
        until then connections wait in its backlog, and the parent looks again soon.
        """
        starting = [end for slot, end in self._ends.items() if slot not in self._serving]
        if not self._serving:
            return starting, None
        if not self._with_room():
            return starting, _FULL_PAUSE_SECONDS
        paused = self._accepts_from - time.monotonic()
        if paused > 0:
            return starting, paused
        return [*starting, self._listener], None

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

    def _with_room(self) -> list[int]:
        """The serving slots whose ends can take a connection now."""
        ends = {self._ends[slot]: slot for slot in self._serving}
        _, writable, _ = select.select([], list(ends), [], 0)
        return [ends[end] for end in writable]

    def _deal(self) -> None:
        for _ in range(_TAKEN_AT_ONCE):
            with_room = self._with_room()
            if not with_room:  # the rest wait in the backlog
                return
            try:
                connection, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return  # none waiting, or one that gave up before it was taken
            except OSError as error:  # e.g. out of descriptors: the rest wait in the backlog
                log.error("could not accept a connection", extra={"error": str(error)})
                self._accepts_from = time.monotonic() + _ACCEPT_PAUSE_SECONDS
                return
            with connection:
                self._hand(connection, with_room)

    def _hand(self, connection: socket.socket, with_room: list[int]) -> None:
        """To the next serving process in turn that has room. One whose end is gone (it died,
        or is stopping) is dealt nothing more; one that cannot take this connection for
        another reason is passed over for it alone."""
        tries = len(self._serving)
        while tries > 0 and self._serving:
            tries -= 1
            self._next %= len(self._serving)
            slot = self._serving[self._next]
            self._next += 1
            if slot not in with_room:
                continue
            try:
                socket.send_fds(self._ends[slot], [b"c"], [connection.fileno()])
                return
            except BlockingIOError:
                continue
            except _GONE:
                self.leave(slot)
                self._next -= 1  # the slots after it moved up by one
            except OSError as error:  # e.g. too many descriptors in flight
                log.warning("a serving process could not be handed a connection",
                            extra={"error": str(error)})  # fmt: skip
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
                message, descriptors, flags, _address = socket.recv_fds(self._end, 1, 1)
            except BlockingIOError:
                return
            except OSError:
                message, descriptors, flags = b"", [], 0
            if not message:
                # The parent closed this end: it is stopping, or it has given this process up.
                # Either way the process stops (and, if the parent lives on, is started anew).
                loop.remove_reader(self._end.fileno())
                os.kill(os.getpid(), signal.SIGTERM)
                return
            if flags & socket.MSG_CTRUNC:  # the connection did not fit: out of descriptors
                log.error("a connection handed to this process was lost")
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
