"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.db import Database

log = logging.getLogger(__name__)

READINESS_TIMEOUT_SECONDS = 2.0


def health_routes(
    database: Database, *, gaps: Callable[[], Awaitable[list[str]]] | None = None
) -> list[web.RouteDef]:
    """`gaps` names the audiences no channel is bound to: their messages go to people 1:1,
    which works, so the service stays ready and only says so."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(database.ping(), READINESS_TIMEOUT_SECONDS)
        except Exception as error:  # any failure means "not ready", and the reason is logged
            log.warning("database not reachable", exc_info=error)
            return web.json_response(
                {"status": "unavailable", "database": "unreachable"}, status=503
            )
        answer: dict[str, object] = {"status": "ok", "database": "ok"}
        if gaps is not None:
            try:
                unbound = await asyncio.wait_for(gaps(), READINESS_TIMEOUT_SECONDS)
            except Exception as error:  # the database answered a ping: this is not worth a 503
                log.warning("could not read the channel bindings", exc_info=error)
            else:
                if unbound:
                    answer["unbound_audiences"] = unbound
        return web.json_response(answer)

    return [web.get("/healthz", healthz), web.get("/readyz", readyz)]
