"""Serves one web application from several processes that share its listening socket."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

from aiohttp import web

from bot.web.handoff import Dealer, HandedSite, channel

log = logging.getLogger(__name__)

AppFactory = Callable[[], web.Application]

# A worker that ends sooner than this after it started is failing, not unlucky ...
FAILING_WITHIN_SECONDS = 10.0
# ... and after this many such ends in a row of one worker, the parent stops, rather than
# restart it for ever.
FAILURES_TOLERATED = 5
RESTART_PAUSE_SECONDS = 1.0
BACKLOG = 1024
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
# prctl(2): the signal a process gets when the thread that forked it ends.
PR_SET_PDEATHSIG = 1


def serve(
    make_app: AppFactory, *, host: str, port: int, workers: int, shutdown_timeout: float = 10
) -> int:
    """Serves until SIGTERM or Ctrl-C and returns the exit status.

    With one worker the application is served from this process. More are forked from it once
    the socket is bound, each building its own application (its own database pool, dispatcher
    and scheduler: a replica, as one on another machine would be); this process accepts each
    new connection and hands it to them in turn (bot/web/handoff.py). Python runs one thread
    of Python at a time, so this is how one host uses all its cores.
    """
    if workers <= 1:
        asyncio.run(
            _serve_until_stopped(
                make_app,
                shutdown_timeout,
                lambda runner: web.TCPSite(runner, host, port, backlog=BACKLOG),
            )
        )
        return 0
    listener = bind(host, port)
    try:
        return Supervisor(make_app, listener, workers, shutdown_timeout).run()
    finally:
        listener.close()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(BACKLOG)
    return listener


async def _serve_until_stopped(
    make_app: AppFactory,
    shutdown_timeout: float,
    site_of: Callable[[web.AppRunner], web.BaseSite],
) -> None:
    """Serves the app until the first SIGTERM or SIGINT, then shuts it down in full.

    aiohttp's own handlers stay in place during the shutdown, so a second signal (Ctrl-C in a
    terminal and systemd both signal every process of the group, and the supervisor signals
    its workers too) would abort it: requests in flight dropped, cleanup never run. Here
    any further signal changes nothing.
    """
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stopping.set)
    # A forked worker starts with these signals held back (Supervisor._start): one sent
    # meanwhile arrives now, at the handlers above.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    # No log line per request: the ones refused or failed are logged by bot/web/errors.py.
    runner = web.AppRunner(
        make_app(), handle_signals=False, access_log=None, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    try:
        await site_of(runner).start()
        await stopping.wait()
    finally:
        await runner.cleanup()


class Supervisor:
    """Keeps `count` workers serving on `listener`: starts them, starts another for one that
    ends, and stops them all when it is told to stop."""

    def __init__(
        self, make_app: AppFactory, listener: socket.socket, count: int, shutdown_timeout: float
    ) -> None:
        self._make_app, self._listener = make_app, listener
        self._dealer = Dealer(listener)
        host, port = listener.getsockname()[:2]
        self._name = f"http://{host}:{port}"
        self._count, self._shutdown_timeout = count, shutdown_timeout
        # Forked, not spawned: a worker inherits its end of the channel and the configuration loaded.
        self._context = multiprocessing.get_context("fork")
        self._stopping = False

    def run(self) -> int:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._stop)
        running = {slot: self._start(slot) for slot in range(self._count)}
        log.info("serving processes started", extra={"workers": self._count})
        failures = dict.fromkeys(running, 0)  # quick ends in a row, per worker
        due: dict[int, float] = {}  # when each ended worker is started again
        status = 0
        try:
            while not self._stopping:
                now = time.monotonic()
                for slot in [slot for slot, at in due.items() if at <= now]:
                    del due[slot]
                    running[slot] = self._start(slot)
                pause = max(0.0, min([0.5, *(at - now for at in due.values())]))
                # With none running (all wait to be started again) this only sleeps.
                sentinels = [worker.sentinel for worker, _ in running.values()]
                watched, within = self._dealer.watched()
                if within is not None:
                    pause = min(pause, within)
                ready = wait([*sentinels, *watched], pause)
                self._dealer.ready(ready)
                ended = set(ready)
                for slot, (worker, began) in list(running.items()):
                    if self._stopping or worker.sentinel not in ended:
                        continue
                    worker.join()
                    del running[slot]
                    self._dealer.leave(slot)
                    lived = time.monotonic() - began
                    failures[slot] = failures[slot] + 1 if lived < FAILING_WITHIN_SECONDS else 0
                    log.error(
                        "a serving process ended",
                        extra={"pid": worker.pid, "exit_code": worker.exitcode,
                               "seconds": round(lived, 1)},
                    )  # fmt: skip
                    if failures[slot] >= FAILURES_TOLERATED:
                        log.error("a serving process keeps failing; stopping")
                        status, self._stopping = 1, True
                        break
                    due[slot] = time.monotonic() + RESTART_PAUSE_SECONDS
        finally:
            self._stop_all([worker for worker, _ in running.values()])
        return status

    def _start(self, slot: int) -> tuple[BaseProcess, float]:
        parents_end, workers_end = channel()
        worker = self._context.Process(
            target=_work,
            # The fork copies every descriptor; the worker closes those that are not its own.
            args=(self._make_app, workers_end, self._name, self._shutdown_timeout, os.getpid(),
                  [self._listener, parents_end, *self._dealer.ends()]),
            name=f"esmbot-worker-{slot}",
        )  # fmt: skip
        # Held back until the worker's own handlers are in place: one that came before would
        # run this process's handler in the worker and be lost.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            worker.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            workers_end.close()
        self._dealer.join(slot, parents_end)
        return worker, time.monotonic()

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def _stop_all(self, workers: list[BaseProcess]) -> None:
        # New connections are refused from now on, not queued for workers that are leaving.
        self._listener.close()
        self._dealer.close()
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: the worker shuts its app down in full
        deadline = time.monotonic() + self._shutdown_timeout + 5
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                log.error("a serving process did not stop; killed", extra={"pid": worker.pid})
                worker.kill()
                worker.join()


def _work(
    make_app: AppFactory,
    end: socket.socket,
    name: str,
    shutdown_timeout: float,
    parent: int,
    parents_descriptors: list[socket.socket],
) -> None:
    _end_with(parent)
    for descriptor in parents_descriptors:
        descriptor.close()
    asyncio.run(
        _serve_until_stopped(
            make_app, shutdown_timeout, lambda runner: HandedSite(runner, end, name)
        )
    )


def _end_with(parent: int) -> None:
    """Has the kernel send SIGTERM to this worker if its parent dies, even by SIGKILL: a
    worker left behind would keep the port, and the next start would find it taken."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: an orphan stays until it is stopped
        return
    if os.getppid() != parent:  # it died before the line above
        os.kill(os.getpid(), signal.SIGTERM)
