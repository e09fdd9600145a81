"""Group commit for incoming ticket events: concurrent requests share one transaction, one writer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.config import Organisation
from bot.db import Database
from bot.notify.compose import Notifier
from bot.tickets.batch import apply_batch
from bot.tickets.events import PersonRef, TicketEvent
from bot.tickets.flows import Applied, apply_event
from bot.tickets.lifecycle import IllegalTransition

log = logging.getLogger(__name__)

_Pending = tuple[TicketEvent, asyncio.Future[Applied]]
_Written = list[Applied | BaseException]  # each event's outcome, or why it failed
OnUnmatched = Callable[[list[PersonRef]], None]


class EventWriter:
    """Applies events in batches: one writer, one transaction and one commit per batch.

    A request is answered only after the commit that holds its event, so nothing is acknowledged
    before it is durable. A batch is first applied as a batch (bot/tickets/batch.py: a few
    statements for all of it); if that fails, it is rolled back and applied again with each
    event in its own savepoint, so a failing event fails alone and the others still commit.
    SQLite has one writer anyway, and on PostgreSQL one commit per batch saves a round trip and
    a WAL flush per event.
    """

    def __init__(
        self,
        database: Database,
        organisation: Organisation,
        clock: Callable[[], datetime],
        *,
        notifier: Notifier | None = None,
        on_commit: Callable[[], None] | None = None,
        on_unmatched: OnUnmatched | None = None,
        max_batch: int = 200,
    ) -> None:
        """`on_commit` hears of each commit that wrote messages (the dispatcher looks at once);
        `on_unmatched` hears, after each commit, the reporters its events left unmatched."""
        self._database, self._organisation, self._clock = database, organisation, clock
        self._notifier, self._on_commit = notifier, on_commit
        self._on_unmatched = on_unmatched
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, event: TicketEvent) -> Applied:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="event-writer")
        future: asyncio.Future[Applied] = asyncio.get_running_loop().create_future()
        await self._queue.put((event, future))
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        while not self._queue.empty():
            _event, future = self._queue.get_nowait()
            future.cancel()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        done = await self._write_together(batch)
        if done is None:
            done = await self._write_one_by_one(batch)
        for (_event, future), result in zip(batch, done, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _write_together(self, batch: list[_Pending]) -> _Written | None:
        """The batch applied as a batch; None when one of its events needs the careful path."""
        events = [event for event, _future in batch]
        unmatched: list[PersonRef] = []
        try:
            async with self._database.transaction() as session:
                results = await apply_batch(
                    session,
                    events,
                    organisation=self._organisation,
                    now=self._clock(),
                    notifier=self._notifier,
                )
                for event, applied in zip(events, results, strict=True):
                    if event.reporter is not None and self._left_unmatched(applied):
                        unmatched.append(event.reporter)
        except Exception as error:  # rolled back: each event gets its own savepoint instead
            log.info("batch applied one by one", extra={"size": len(batch), "why": repr(error)})
            return None
        self._committed(unmatched, results)
        return list(results)

    def _committed(
        self, unmatched: list[PersonRef], results: Sequence[Applied | BaseException]
    ) -> None:
        wrote = any(isinstance(result, Applied) and result.messages for result in results)
        if wrote and self._on_commit is not None:
            self._on_commit()
        if unmatched and self._on_unmatched is not None:
            try:
                self._on_unmatched(unmatched)
            except Exception:  # the events are stored; only the late look-up is lost
                log.exception("could not follow up unmatched reporters")

    async def _write_one_by_one(self, batch: list[_Pending]) -> _Written:
        results: list[Applied | BaseException] = []
        unmatched: list[PersonRef] = []
        try:
            async with self._database.transaction() as session:
                now = self._clock()
                for event, _future in batch:
                    try:
                        async with session.begin_nested():
                            applied = await apply_event(
                                session,
                                event,
                                organisation=self._organisation,
                                now=now,
                                notifier=self._notifier,
                            )
                            results.append(applied)
                    except (IllegalTransition, ValueError) as error:
                        session.info.clear()  # memos may hold what the savepoint took back
                        results.append(error)
                    except Exception as error:  # this event's savepoint is gone, the rest go on
                        session.info.clear()
                        log.exception("event failed", extra={"ticket": event.ticket_key})
                        results.append(error)
                    else:
                        if event.reporter is not None and self._left_unmatched(applied):
                            unmatched.append(event.reporter)
        except Exception as error:  # the commit itself failed: nobody's event is stored
            log.exception("event batch failed", extra={"size": len(batch)})
            return [error] * len(batch)
        self._committed(unmatched, results)
        return results

    def _left_unmatched(self, applied: Applied) -> bool:
        # A duplicate or stale delivery did not set the reporter, so it says nothing new.
        if self._on_unmatched is None or applied.outcome != "applied":
            return False
        ticket = applied.ticket
        return ticket is not None and ticket.reporter_id is None and bool(ticket.reporter_unmatched)
