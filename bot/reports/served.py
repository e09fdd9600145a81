"""The PDF a signed link opens: the days it names, in its language, read as the link is opened."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from bot.config import Organisation
from bot.db import Database
from bot.notify.render import Renderer
from bot.notify.views import Reader
from bot.reports.history import period_report
from bot.reports.links import ReportLink
from bot.reports.pdf import render_pdf
from bot.reports.span import span


@dataclass(frozen=True)
class ReportPdfs:
    """Makes the PDF of a checked link from the database as it is now."""

    database: Database
    organisation: Organisation
    renderer: Renderer
    clock: Callable[[], datetime]

    async def __call__(self, link: ReportLink) -> bytes:
        covered = span(link.first, link.last, self.organisation.time_zone)
        now = self.clock()
        report = await period_report(
            self.database,
            start=covered.start,
            end=covered.end,
            now=now,
            organisation=self.organisation,
        )
        words = self.renderer.phrases(Reader(locale=link.language))
        return await asyncio.to_thread(
            partial(render_pdf, words=words, organisation=self.organisation, now=now), report
        )
