"""GET /reports/pdf: the PDF a signed link names, while the link is valid (410 once it is not)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.reports.links import LinkExpired, LinkForged, ReportLink, ReportLinks
from bot.web.errors import json_error

log = logging.getLogger(__name__)

MakePdf = Callable[[ReportLink], Awaitable[bytes]]


def report_pdf_routes(links: ReportLinks, make_pdf: MakePdf) -> list[web.RouteDef]:
    async def pdf(request: web.Request) -> web.StreamResponse:
        try:
            link = links.check(request.query)
        except LinkExpired:
            return json_error(410, "this report link has expired; ask for the report again")
        except LinkForged as error:
            return json_error(403, f"not a valid report link: {error}")
        body = await make_pdf(link)
        name = f"report-{link.first.isoformat()}-{link.last.isoformat()}.pdf"
        return web.Response(
            body=body,
            content_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="{name}"',
                "Cache-Control": "private, no-store",
            },
        )

    return [web.get("/reports/pdf", pdf)]
