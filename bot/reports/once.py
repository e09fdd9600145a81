"""Writes a report for the management channel once per dedupe key, whoever runs it how often."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.db import Database
from bot.notify.compose import Notifier
from bot.notify.models import OutboxMessage
from bot.notify.routing import MANAGEMENT
from bot.reports.links import ReportLinks

log = logging.getLogger(__name__)

Compose = Callable[[AsyncSession], Awaitable[Mapping[str, object]]]


@dataclass
class ManagementReport:
    """A leader's job that writes one card for the management channel per period, once.

    Its outbox row's dedupe key names the period, so a second replica, a leader that changed
    hands or a run repeated after a restart finds the period done and writes nothing.
    """

    database: Database
    organisation: Organisation
    notifier: Notifier
    clock: Callable[[], datetime]
    on_commit: Callable[[], None] | None = None
    # Signs the link to the period's PDF that a report's card carries; None: no link.
    links: ReportLinks | None = None

    async def write_once(self, *, template: str, dedupe_key: str, compose: Compose) -> bool:
        """Renders `template` with what `compose` reads, unless the key was written; True if written.

        A key already there (another replica, an earlier run) costs one read and no composing.
        """
        # The figures are read in a reading transaction: ticket events never wait behind a
        # report; only the outbox row is written, and add_once keeps it once per key.
        async with self.database.reading() as session:
            done = await session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
            )
            if done is not None:
                log.info("the report was already written", extra={"dedupe_key": dedupe_key})
                return False
            # The management channel, or else each manager's 1:1 chat.
            recipients = await self.notifier.audience_recipients(session, MANAGEMENT)
            if not recipients:
                # Counted, as every message nobody receives is; /readyz already names the gap.
                if self.notifier.metrics is not None:
                    self.notifier.metrics.unaddressed(MANAGEMENT, template)
                log.warning("no report: nobody of management can be reached",
                            extra={"dedupe_key": dedupe_key})  # fmt: skip
                return False
            extras = await compose(session)
        async with self.database.transaction() as session:
            written = False
            for index, recipient in enumerate(recipients):
                key = dedupe_key if index == 0 else f"{dedupe_key}:{recipient.conversation_id}"
                row = self.notifier.render_row(
                    template=template,
                    audience=MANAGEMENT,
                    recipient=recipient,
                    dedupe_key=key[:256],
                    view=None,
                    extras=extras,
                )
                written = await self.notifier.add_once(session, row) or written
        if written and self.on_commit is not None:
            self.on_commit()
        return written
