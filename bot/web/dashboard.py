"""The dashboard tab: its pages, and its data for the signed-in viewer (401 without)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

from bot.config import Organisation
from bot.db import Database
from bot.reports.dashboard import dashboard, person_id_of, view_of
from bot.reports.span import SpanError, read_day, span
from bot.web.errors import json_error
from bot.web.tab_sso import TabTokens, Unauthorised

PAGES = Path(__file__).resolve().parent.parent.parent / "templates" / "dashboard"
DEFAULT_DAYS = 30


def dashboard_routes(
    *,
    database: Database,
    organisation: Organisation,
    tokens: TabTokens | None,
    clock: Callable[[], datetime],
    words_for: Callable[[str], dict[str, str]],
) -> list[web.RouteDef]:
    """`tokens` None is local mode: the tab opens without sign-in, as /api/messages does."""
    page = (PAGES / "index.html").read_bytes()
    configure_page = (PAGES / "configure.html").read_bytes()

    async def index(_request: web.Request) -> web.Response:
        return web.Response(body=page, content_type="text/html", charset="utf-8")

    async def configure(_request: web.Request) -> web.Response:
        return web.Response(body=configure_page, content_type="text/html", charset="utf-8")

    async def data(request: web.Request) -> web.Response:
        now = clock()
        zone = organisation.time_zone
        language = request.query.get("lang") or organisation.default_locale
        try:
            last = read_day(request.query.get("to", now.astimezone(zone).date().isoformat()))
            first_text = request.query.get("from")
            first = read_day(first_text) if first_text else last - timedelta(days=DEFAULT_DAYS - 1)
            covered = span(first, last, zone)
        except SpanError as error:
            return json_error(
                400, f"from and to must be days, the first not after the last ({error.key})"
            )
        if tokens is None:
            view, person_id = "manager", None
        else:
            try:
                viewer = await tokens.viewer(request.headers.get("Authorization"))
            except Unauthorised as error:
                # The page says so in the viewer's words; nothing of the desk's data goes with it.
                return web.json_response(
                    {"error": str(error), "words": words_for(language)},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            roles = organisation.roles_of(
                aad_object_id=viewer.object_id, email=viewer.email, tenant_id=viewer.tenant_id
            )
            view = view_of(roles)
            person_id = await person_id_of(database, object_id=viewer.object_id, email=viewer.email)
        body = await dashboard(
            database, organisation=organisation, view=view, person_id=person_id,
            start=covered.start, end=covered.end, now=now,
        )  # fmt: skip
        body["words"] = words_for(language)
        return web.json_response(body, headers={"Cache-Control": "private, no-store"})

    return [
        web.get("/dashboard", index),
        web.get("/dashboard/configure", configure),
        web.get("/dashboard/data", data),
    ]
