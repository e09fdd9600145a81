"""Builds the aiohttp application: its routes, and the start-up and shutdown of what it owns."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.commands import build_registry
from bot.config import Organisation, Settings
from bot.db import Database, utcnow
from bot.events.routes import Clock, event_routes
from bot.events.writer import EventWriter
from bot.teams.adapter import create_adapter, create_authentication
from bot.teams.endpoint import messages_route
from bot.teams.handler import EsmbotHandler
from bot.web.errors import error_middleware
from bot.web.health import health_routes

DATABASE = web.AppKey("database", Database)
WRITER = web.AppKey("writer", EventWriter)


def create_app(
    settings: Settings, organisation: Organisation, *, clock: Clock = utcnow
) -> web.Application:
    """Everything is built here and passed down: no module-level state anywhere else."""
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[error_middleware])
    database = Database(settings.database_url)
    app[DATABASE] = database
    writer = EventWriter(database, organisation, clock)
    app[WRITER] = writer
    authentication = create_authentication(settings)
    adapter = create_adapter(authentication)
    handler = EsmbotHandler(database=database, organisation=organisation, registry=build_registry())
    app.add_routes(
        [
            messages_route(adapter, authentication, handler),
            *event_routes(
                database=database,
                writer=writer,
                organisation=organisation,
                settings=settings,
                clock=clock,
            ),
            *health_routes(database),
        ]
    )
    app.cleanup_ctx.append(_database_lifetime)
    return app


async def _database_lifetime(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[WRITER].close()
    await app[DATABASE].close()
