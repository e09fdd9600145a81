"""Serves one web application from this process until it is told to stop."""

from __future__ import annotations

import asyncio
import logging
import signal
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
    # No log line per request: the ones refused or failed are logged by bot/web/errors.py.
    runner = web.AppRunner(
        make_app(), handle_signals=False, access_log=None, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    try:
        shared, own = ports
        sites = [web.TCPSite(runner, host, shared, backlog=BACKLOG, reuse_port=reuse_port or None)]
        if own is not None:
            sites.append(web.TCPSite(runner, host, own))
        for site in sites:
            try:
                await site.start()
            except OSError as error:
                raise _CannotListen(f"{site.name}: {error.strerror or error}") from None
        await stopping.wait()
    finally:
        await runner.cleanup()
