"""Writes a report for the management channel once per dedupe key, whoever runs it how often."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.notify.compose import Notifier
from bot.notify.models import OutboxMessage
from bot.notify.routing import MANAGEMENT

log = logging.getLogger(__name__)

Compose = Callable[[AsyncSession], Awaitable[Mapping[str, object]]]


async def write_report_once(
    database: Database,
    notifier: Notifier,
    *,
    template: str,
    dedupe_key: str,
    compose: Compose,
    on_commit: Callable[[], None] | None = None,
) -> bool:
    """Renders `template` with what `compose` reads, unless the key was written; True if written.

    A key already there (another replica, an earlier run) costs one read and no composing.
    """
    async with database.transaction() as session:
        done = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if done is not None:
            log.info("the report was already written", extra={"dedupe_key": dedupe_key})
            return False
        channels = await notifier.channel(session, MANAGEMENT)
        if not channels:
            log.info("no report: no reachable channel is bound to management",
                     extra={"dedupe_key": dedupe_key})  # fmt: skip
            return False
        row = notifier.render_row(
            template=template,
            audience=MANAGEMENT,
            recipient=channels[0],
            dedupe_key=dedupe_key,
            view=None,
            extras=await compose(session),
        )
        written = await notifier.add_once(session, row)
    if written and on_commit is not None:
        on_commit()
    return written
