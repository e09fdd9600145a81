"""Serves one web application from this process until it is told to stop."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger(__name__)

AppFactory = Callable[[], web.Application]

BACKLOG = 1024
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def serve(
    make_app: AppFactory,
    *,
    host: str,
    port: int,
    reuse_port: bool = False,
    own_port: int | None = None,
    shutdown_timeout: float = 10,
) -> int:
    """Serves until SIGTERM or Ctrl-C, then shuts the app down in full; returns the exit status.

    With `reuse_port` several processes on one host may listen on the same port, and the
    kernel spreads new connections among them (SO_REUSEPORT); each is a replica of its own,
    and `own_port`, this process's alone, is where Prometheus scrapes its counters.
    """
    ports = (port, own_port)
    try:
        asyncio.run(_serve_until_stopped(make_app, host, ports, reuse_port, shutdown_timeout))
    except _CannotListen as error:
        log.error("could not listen", extra={"host": host, "port": port, "reason": str(error)})
        return 1
    return 0


class _CannotListen(Exception):
    """The port is taken (without ESMBOT_REUSE_PORT on both sides), or the address is not ours."""


async def _serve_until_stopped(
    make_app: AppFactory,
    host: str,
    ports: tuple[int, int | None],
    reuse_port: bool,
    shutdown_timeout: float,
) -> None:
    # aiohttp's own signal handlers stay in place during the shutdown, so a second signal
    # (Ctrl-C pressed twice, a service manager signalling the whole group) would abort it:
    # requests in flight dropped, cleanup never run. Here any further signal changes nothing.
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stopping.set)
    # The ports are taken before the app starts: a second process started on a taken port
    # must stop before its dispatcher and scheduler join the others (its heartbeat under the
    # same replica name would pass for a restart of the live one, whose claims would go out
    # again).
    shared, own = ports
    sockets = [_listen(host, shared, reuse_port)]
    try:
        if own is not None:
            sockets.append(_listen(host, own, reuse_port=False))
    except _CannotListen:
        sockets[0].close()
        raise
    # No log line per request: the ones refused or failed are logged by bot/web/errors.py.
    runner = web.AppRunner(
        make_app(), handle_signals=False, access_log=None, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    try:
        for sock in sockets:
            await web.SockSite(runner, sock, backlog=BACKLOG).start()
        await stopping.wait()
    finally:
        await runner.cleanup()
        for sock in sockets:
            sock.close()


def _listen(host: str, port: int, reuse_port: bool) -> socket.socket:
    try:
        return socket.create_server(
            (host, port), backlog=BACKLOG, reuse_port=reuse_port, family=_family(host)
        )
    except OSError as error:
        raise _CannotListen(f"{host}:{port}: {error.strerror or error}") from None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
