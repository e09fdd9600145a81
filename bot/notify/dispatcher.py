"""Delivers the outbox to Teams: paced to Teams' limits, retried with backoff, never sent twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.directory.models import Conversation
from bot.notify import outbox
from bot.notify.claims import Claimant, hand_back
from bot.notify.compose import Notifier
from bot.notify.delivery import DeliveryError, Reopen, Send, Sent
from bot.notify.metrics import Metrics
from bot.notify.models import OutboxMessage
from bot.notify.pacing import Pacer
from bot.notify.replicas import Replicas
from bot.notify.template_error import TemplateError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliverySettings:
    """How hard the dispatcher tries; the defaults follow Microsoft's guidance for Teams bots."""

    batch: int = 100
    in_flight: int = 8
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    lease: timedelta = timedelta(seconds=120)
    idle_poll: float = 1.0
    # A row whose conversation has no free slot for this long goes back to wait in the database.
    defer_after: float = 2.0


@dataclass
class Dispatcher:
    """Claims due rows, sends them through `send` (handed over by the app), records the outcome."""

    database: Database
    send: Send
    reopen: Reopen
    notifier: Notifier
    clock: Callable[[], datetime]
    settings: DeliverySettings = field(default_factory=DeliverySettings)
    pacer: Pacer = field(default_factory=Pacer)
    # The replica's stable name: the same after a restart (see Replicas.name).
    name: str = "dispatcher"
    metrics: Metrics = field(default_factory=Metrics)
    # The other dispatchers on the database, whose sends share Teams' limits with this one's;
    # None when this is known to be the only one (a test driving one dispatcher by hand).
    replicas: Replicas | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)
    # Sends pass the pacer's final check one at a time, in the order their slots came.
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if self.replicas is not None and self.replicas.name != self.name:
            raise ValueError("a dispatcher and its heartbeat must bear the same replica name")

    @property
    def claimant(self) -> Claimant:
        """What its claims say of it: with a heartbeat, which start of the replica made them."""
        return Claimant(self.name, None if self.replicas is None else self.replicas.start)

    def wake(self) -> None:
        """New rows were written: look now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the round in hand, then return from run(): no delivery is cut off half-way."""
        self._wake.set()
        self._stopped.set()

    async def run(self) -> None:
        beating, settle = None, 0.0
        if self.replicas is not None:
            settle = await self._join(self.replicas)
            # Beating while it settles, so that it is fresh when it starts.
            beating = asyncio.create_task(
                self.replicas.keep_beating(self._stopped), name="heartbeat"
            )
        try:
            await self._pause(settle)
            while not self._stopped.is_set():
                try:
                    handled = await self.run_once()
                except Exception:  # the loop must survive a bad moment of the database
                    log.exception("dispatch round failed")
                    handled = 0
                if handled == 0 and not self._stopped.is_set():
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.settings.idle_poll)
        finally:
            if beating is not None and not self._stopped.is_set():  # cancelled: no time to be tidy
                beating.cancel()
        # Only after a clean stop: a cancelled dispatcher's row simply expires.
        if beating is not None:
            await beating  # it ends with its current beat, if any
        if self.replicas is not None:
            try:
                await self.replicas.leave()
            except Exception:
                log.exception("could not withdraw the dispatcher; its row expires instead")

    async def _join(self, replicas: Replicas) -> float:
        """Announces this dispatcher; returns how long it must wait before its first send."""
        while not self._stopped.is_set():
            try:
                return await replicas.join()
            except Exception:  # no database yet: nothing can be claimed either
                log.exception("could not announce the dispatcher")
                await self._pause(replicas.settings.interval)
        return 0.0

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    async def run_once(self) -> int:
        """One round: claim what is due and deliver it; returns how many rows it handled."""
        if self.replicas is not None and not self.replicas.fresh(time.monotonic()):
            return 0  # the database is slow to answer the heartbeat: claim nothing meanwhile
        now = self.clock()
        async with self.database.transaction() as session:
            brake = await outbox.brake_until(session)
            if brake is not None and brake > now:
                await asyncio.sleep(min((brake - now).total_seconds(), self.settings.idle_poll))
                return 0
            # Rows a dead dispatcher held go out before newer ones, in the same round.
            handed_back = await hand_back(
                session, claimant=self.claimant, now=now, heartbeats=self.replicas is not None
            )
            rows = await outbox.claim(
                session,
                now=now,
                limit=self._round_size(),
                lease=self.settings.lease,
                claimant=self.claimant,
            )
            for row in rows:
                if outbox.is_redraw(row) and row.replaces_activity_id is None:
                    # Found now, not when the row was written: the card may have been pending then.
                    card = await outbox.ticket_card(session, row)
                    row.replaces_activity_id = card or outbox.POST_ANEW
            wanted = {row.conversation_id for row in rows}
            found = await session.scalars(select(Conversation).where(Conversation.id.in_(wanted)))
            conversations = {conversation.id: conversation for conversation in found}
        if handed_back:
            log.warning(
                "messages of a dispatcher that died are sent again", extra={"rows": handed_back}
            )
            self.metrics.resent_after_crash(handed_back)
        if not rows:
            return 0
        limit = asyncio.Semaphore(self.settings.in_flight)
        await asyncio.gather(
            *(
                self._deliver(row, conversations.get(row.conversation_id or 0), limit)
                for row in rows
            )
        )
        return len(rows)

    def _round_size(self) -> int:
        """As many rows as this dispatcher's share lets it send before it would hand them back.

        What it claims beyond that waits in the database for whichever dispatcher has room
        first; handed back, it would wait for this one's own next free slot instead.
        """
        fits = self.pacer.tenant_rate(time.monotonic()) * self.settings.defer_after
        if not math.isfinite(fits):  # no tenant limit
            return self.settings.batch
        return max(1, min(self.settings.batch, math.ceil(fits)))

    async def _deliver(
        self, row: OutboxMessage, conversation: Conversation | None, limit: asyncio.Semaphore
    ) -> None:
        if conversation is None or not conversation.reachable:
            await self._fail(row, "the conversation is unreachable", notify=False)
            return
        key = conversation.conversation_id
        now = time.monotonic()
        wait = self.pacer.earliest(key, now) - now
        if wait > self.settings.defer_after:
            await self._hold_back(row, delay=wait)
            return
        try:  # a drafted row is rendered once it is about to leave (bot/notify/drafts.py)
            activity = self.notifier.activity_of(row)
        except TemplateError as error:
            log.error("a message could not be written", extra={"row": row.id, "error": str(error)})
            await self._fail(row, f"could not be written: {error}", notify=True)
            return
        slot = self.pacer.reserve(key, now)
        await asyncio.sleep(max(0.0, slot - time.monotonic()))
        async with self._turn:
            # The slot was planned before the sends ahead were answered; a late answer or a
            # pause of the process can push it back a little (see Pacer.clear_to_send).
            now = time.monotonic()
            while (ready := self.pacer.clear_to_send(key, now)) > now:
                await asyncio.sleep(ready - now)
                now = time.monotonic()
            # Without a recent count a newcomer may have gone unnoticed: the share may be too big.
            unsure = self.replicas is not None and not self.replicas.fresh(now)
            if not unsure:
                self.pacer.started(key, now)
        if unsure and self.replicas is not None:
            await self._hold_back(row, delay=self.replicas.settings.interval)
            return
        async with limit:
            started = time.monotonic()
            try:
                sent = await self.send(
                    conversation.reference, activity, row.replaces_activity_id or None
                )
                answered = time.monotonic()
            except DeliveryError as error:
                self.metrics.teams_answered(error.status, time.monotonic() - started)
                await self._handle(row, conversation, error)
                return
            finally:
                # Answered or failed, it is no longer on its way (an error counts a bit late).
                self.pacer.answered(key, time.monotonic())
            # First of all, and still in its slot: until this commits, a crash would have the
            # message sent again, so the next send waits for it rather than it for the next
            # send's work (a 1,000-row broadcast: about 30 ms instead of 230 ms on SQLite).
            await self._mark_sent(row, sent, activity)
        self.metrics.teams_answered(200, answered - started)
        log.debug("delivered", extra={"row": row.id, "ms": round((answered - started) * 1000, 1)})
        self.metrics.sent(row)

    async def _mark_sent(self, row: OutboxMessage, sent: Sent, activity: dict[str, Any]) -> None:
        """Records the delivery in a transaction of its own: one statement, nothing else."""
        values: dict[str, Any] = {
            "status": outbox.SENT,
            "sent_at": self.clock(),
            "sent_activity_id": sent.activity_id,
            "last_error": None,
        }
        if row.draft is not None:  # what was sent, in place of its draft
            values.update(activity=activity, draft=None)
        # Whoever holds the row now: Teams took it, so it is sent (if the claim was handed
        # back meanwhile, this keeps it from going out again).
        async with self.database.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(values)
                .execution_options(synchronize_session=False)
            )

    async def _handle(
        self, row: OutboxMessage, conversation: Conversation, error: DeliveryError
    ) -> None:
        log.info(
            "delivery failed",
            extra={
                "row": row.id,
                "status": error.status,
                "code": error.code,
                "attempt": row.tries,
            },
        )
        if error.status == 429:
            pause = error.retry_after if error.retry_after is not None else self._backoff(row.tries)
            async with self.database.transaction() as session:
                await outbox.apply_brake(
                    session, until=self.clock() + timedelta(seconds=pause), holder=self.name
                )
        if row.replaces_activity_id and error.status in (400, 404):
            # The card to update is gone or too old to edit; a 404 for a deleted chat shows
            # again on the new post and is handled there.
            await self._retry(
                row,
                delay=0,
                error=f"{error.status} on update: posting anew",
                replaces_activity_id=outbox.POST_ANEW,
            )
            return
        if error.status == 403:
            await self._unreachable(
                conversation, f"Teams refused ({error.code or 403}): the bot was blocked or removed"
            )
            await self._fail(row, f"403 {error.code}".strip(), notify=True)
            return
        if error.status == 404 and not row.chat_reopened and await self._reopen(conversation):
            await self._retry(
                row, delay=0, error="404: the chat was re-created", chat_reopened=True
            )
            return
        if error.status == 404:
            await self._unreachable(conversation, "the conversation no longer exists")
            await self._fail(row, f"404 {error.code}".strip(), notify=True)
            return
        if not error.retryable or row.tries >= self.settings.max_attempts:
            await self._fail(row, f"{error.status or 'no answer'}: {error}", notify=True)
            return
        delay = error.retry_after if error.retry_after is not None else self._backoff(row.tries)
        await self._retry(row, delay=delay, error=f"{error.status or 'no answer'}: {error}")

    def _backoff(self, attempts: int) -> float:
        # Exponential with full jitter, so that replicas retrying together spread out.
        ceiling = min(
            self.settings.backoff_cap, self.settings.backoff_base * 2 ** max(0, attempts - 1)
        )
        return random.uniform(ceiling / 2, ceiling)

    async def _retry(self, row: OutboxMessage, *, delay: float, error: str, **values: Any) -> None:
        """Tried and failed: due again after `delay`, with what the failure taught in `values`."""
        if await self._hand_back(row, delay=delay, last_error=error[:2000], **values):
            self.metrics.retried(row)

    async def _hold_back(self, row: OutboxMessage, *, delay: float) -> None:
        """Pacing has no slot for the row soon enough: it waits in the database, not tried."""
        await self._hand_back(row, delay=delay, held_back=OutboxMessage.held_back + 1)

    async def _hand_back(self, row: OutboxMessage, *, delay: float, **values: Any) -> bool:
        """Makes a row this dispatcher still holds pending again; False if it no longer held it."""
        async with self.database.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, self.claimant.holds())
                .values(
                    status=outbox.PENDING,
                    next_attempt_at=self.clock() + timedelta(seconds=delay),
                    **values,
                )
                .execution_options(synchronize_session=False)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _fail(self, row: OutboxMessage, error: str, *, notify: bool) -> None:
        async with self.database.transaction() as session:
            stored = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.id == row.id, self.claimant.holds())
            )
            if stored is None:  # handed back meanwhile: another dispatcher has it now
                return
            stored.status, stored.last_error = outbox.FAILED, error[:2000]
            if notify and row.audience != "agents" and not _in_broadcast_progress(row):
                await self._tell_agents(session, stored)
        self.metrics.failed(row)

    async def _tell_agents(self, session: AsyncSession, failed: OutboxMessage) -> None:
        """The desk hears once that a message did not arrive (not for its own channel: no loops)."""
        key = f"delivery-failed-{failed.id}"
        # A row retried from the CLI may fail again: the desk was told already.
        if await session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
            return
        # The agents' channel, or else each agent's 1:1 chat.
        recipients = await self.notifier.audience_recipients(session, "agents")
        self.notifier.add(
            session,
            [
                self.notifier.render_row(
                    template="agents/delivery_failed",
                    audience="agents",
                    recipient=recipient,
                    dedupe_key=key if index == 0 else f"{key}:{recipient.conversation_id}",
                    view=None,
                    extras={
                        "recipient": failed.audience,
                        "message": failed.template,
                        "error": failed.last_error or "",
                        "attempts": failed.tries,
                    },
                    ticket_id=failed.ticket_id,
                )
                for index, recipient in enumerate(recipients)
            ],
        )

    async def _unreachable(self, conversation: Conversation, reason: str) -> None:
        async with self.database.transaction() as session:
            stored = await session.get(Conversation, conversation.id)
            if stored is not None:
                stored.reachable, stored.unreachable_reason = False, reason

    async def _reopen(self, conversation: Conversation) -> bool:
        """A deleted 1:1 chat is opened again once; a user must not stay unreachable for good."""
        if conversation.scope != "personal":
            return False
        reference = await self.reopen(conversation.reference)
        if reference is None:
            return False
        async with self.database.transaction() as session:
            stored = await session.get(Conversation, conversation.id)
            if stored is None:
                return False
            stored.reference = reference
            stored.conversation_id = reference["conversation"]["id"]
        return True


def _in_broadcast_progress(row: OutboxMessage) -> bool:
    # A broadcast's progress counts its customers' failures (blocked chats as unreachable):
    # a card for each would flood the desk's channel when a broadcast meets many of them.
    return row.broadcast_id is not None and row.audience == "customer"
