"""Serves one web application from several processes that share its listening socket."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

AppFactory = Callable[[], web.Application]

# A worker that ends sooner than this after it started is failing, not unlucky ...
FAILING_WITHIN_SECONDS = 10.0
# ... and after this many such ends in a row the parent stops, rather than restart it for ever.
FAILURES_TOLERATED = 5
RESTART_PAUSE_SECONDS = 1.0
BACKLOG = 1024


def serve(
    make_app: AppFactory, *, host: str, port: int, workers: int, shutdown_timeout: float = 10
) -> int:
    """Serves until SIGTERM or Ctrl-C and returns the exit status.

    One worker serves in this process. More are forked from it once the socket is bound, each
    building its own application (its own database pool, dispatcher and scheduler: a replica,
    as one on another machine would be); the kernel hands each new connection to one of them.
    Python runs one thread of Python at a time, so this is how one host uses all its cores.
    """
    if workers <= 1:
        _run(make_app(), shutdown_timeout, host=host, port=port)
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


class Supervisor:
    """Keeps `count` workers serving on `listener`: starts them, starts another for one that
    ends, and stops them all when it is told to stop."""

    def __init__(
        self, make_app: AppFactory, listener: socket.socket, count: int, shutdown_timeout: float
    ) -> None:
        self._make_app, self._listener = make_app, listener
        self._count, self._shutdown_timeout = count, shutdown_timeout
        # Forked, not spawned: a worker inherits the bound socket and the configuration loaded.
        self._context = multiprocessing.get_context("fork")
        self._stopping = False

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        workers = {slot: self._start(slot) for slot in range(self._count)}
        log.info("serving processes started", extra={"workers": self._count})
        status, failures = 0, 0
        try:
            while not self._stopping:
                ended = set(wait([worker.sentinel for worker, _ in workers.values()], 0.5))
                for slot, (worker, began) in list(workers.items()):
                    if self._stopping or worker.sentinel not in ended:
                        continue
                    worker.join()
                    lived = time.monotonic() - began
                    failures = failures + 1 if lived < FAILING_WITHIN_SECONDS else 0
                    log.error(
                        "a serving process ended",
                        extra={"pid": worker.pid, "exit_code": worker.exitcode,
                               "seconds": round(lived, 1)},
                    )  # fmt: skip
                    if failures >= FAILURES_TOLERATED:
                        log.error("serving processes keep failing; stopping")
                        status, self._stopping = 1, True
                        break
                    time.sleep(RESTART_PAUSE_SECONDS)
                    if not self._stopping:
                        workers[slot] = self._start(slot)
        finally:
            self._stop_all([worker for worker, _ in workers.values()])
        return status

    def _start(self, slot: int) -> tuple[BaseProcess, float]:
        worker = self._context.Process(
            target=_work,
            args=(self._make_app, self._listener, self._shutdown_timeout),
            name=f"esmbot-worker-{slot}",
        )
        worker.start()
        return worker, time.monotonic()

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def _stop_all(self, workers: list[BaseProcess]) -> None:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: aiohttp shuts the app down as on Ctrl-C
        deadline = time.monotonic() + self._shutdown_timeout + 5
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                log.error("a serving process did not stop; killed", extra={"pid": worker.pid})
                worker.kill()
                worker.join()


def _work(make_app: AppFactory, listener: socket.socket, shutdown_timeout: float) -> None:
    # The parent's handlers came along with the fork; aiohttp installs its own once it runs.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _run(make_app(), shutdown_timeout, sock=listener)


def _run(app: web.Application, shutdown_timeout: float, **where: Any) -> None:
    # No log line per request: the ones refused or failed are logged by bot/web/errors.py.
    web.run_app(app, print=None, access_log=None, shutdown_timeout=shutdown_timeout, **where)
