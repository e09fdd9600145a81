"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.db import Database

log = logging.getLogger(__name__)

READINESS_TIMEOUT_SECONDS = 2.0


def health_routes(database: Database) -> list[web.RouteDef]:
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
        return web.json_response({"status": "ok", "database": "ok"})

    return [web.get("/healthz", healthz), web.get("/readyz", readyz)]
