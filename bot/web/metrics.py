"""`GET /metrics`: the app's Prometheus metrics in the text format every scraper reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.db import Database
from bot.notify.metrics import Metrics

# The 0.0.4 text format: what Prometheus and every compatible scraper understands.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def metrics_routes(
    metrics: Metrics, database: Database, clock: Callable[[], datetime]
) -> list[web.RouteDef]:
    async def scrape(_request: web.Request) -> web.Response:
        body = await metrics.scrape(database, clock())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return [web.get("/metrics", scrape)]
