"""Prometheus metrics for one app: its own registry, the delivery counters and the outbox gauges."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.db import Database
from bot.notify import outbox
from bot.notify.models import OutboxMessage

log = logging.getLogger(__name__)

NAMESPACE = "esmbot"
# A send to Teams takes tens of milliseconds when all is well; the sender gives up at 30 s.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DEPTH_TIMEOUT_SECONDS = 2.0


class Metrics:
    """Every metric of one app, in a registry of its own (several apps may share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        by_message = ("audience", "template")
        self._enqueued = Counter(
            "notifications_enqueued",
            "Messages written to the outbox.",
            by_message,
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._sent = Counter(
            "notifications_sent",
            "Messages Teams accepted.",
            by_message,
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._retried = Counter(
            "notifications_retried",
            "Failed sends put back to be tried again later.",
            by_message,
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._failed = Counter(
            "notifications_failed",
            "Messages given up on.",
            by_message,
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._latency = Histogram(
            "delivery_latency_seconds",
            "How long one call to Teams took, answered or not.",
            namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._responses = Counter(
            "teams_responses",
            "Answers from Teams by HTTP status: 2xx when accepted, none when no answer came.",
            ("status",),
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._events = Counter(
            "webhook_events",
            "Ticket events received, by source (jira, api) and outcome.",
            ("source", "outcome"),
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._outbox = _OutboxCollector()
        self.registry.register(self._outbox)

    def enqueued(self, rows: Iterable[OutboxMessage]) -> None:
        for row in rows:
            self._enqueued.labels(row.audience, row.template).inc()

    def sent(self, row: OutboxMessage) -> None:
        self._sent.labels(row.audience, row.template).inc()

    def retried(self, row: OutboxMessage) -> None:
        self._retried.labels(row.audience, row.template).inc()

    def failed(self, row: OutboxMessage) -> None:
        self._failed.labels(row.audience, row.template).inc()

    def teams_answered(self, status: int | None, seconds: float) -> None:
        """One call to Teams: `status` None means no answer (timeout, network), success is 2xx."""
        label = "none" if status is None else "2xx" if 200 <= status < 300 else str(status)
        self._responses.labels(label).inc()
        self._latency.observe(seconds)

    def event_received(self, source: str, outcome: str) -> None:
        self._events.labels(source, outcome).inc()

    def tally(self, session: AsyncSession) -> OutboxTally:
        """Notes the outbox rows this session writes, to count them once the commit held."""
        return OutboxTally(session)

    async def scrape(self, database: Database, now: datetime) -> bytes:
        """The text exposition, with the outbox gauges read from the database just now."""
        try:
            async with asyncio.timeout(DEPTH_TIMEOUT_SECONDS):
                async with database.transaction() as session:
                    count, oldest = await outbox.depth(session)
        except Exception as error:  # the counters are still worth serving; the gauges go quiet
            log.warning("could not read the outbox depth", exc_info=error)
            self._outbox.snapshot = None
        else:
            age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
            self._outbox.snapshot = (count, age)
        return generate_latest(self.registry)


class OutboxTally:
    """The outbox rows a session inserts; those still stored after the commit are counted.

    Rows inserted in a savepoint that rolled back lose their identity again, so a duplicate
    event or a failed one adds nothing.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._rows: list[OutboxMessage] = []
        event.listen(session.sync_session, "before_flush", self._note)

    def _note(self, session: Session, _context: object, _instances: object) -> None:
        self._rows.extend(row for row in session.new if isinstance(row, OutboxMessage))

    def committed(self) -> list[OutboxMessage]:
        return [row for row in self._rows if inspect(row).has_identity]


class _OutboxCollector(Collector):
    """Outbox depth and the age of its oldest waiting row, as read at the last scrape."""

    def __init__(self) -> None:
        self.snapshot: tuple[int, float] | None = None

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families(0, 0.0)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.snapshot is not None:
            yield from self._families(*self.snapshot)

    def _families(self, depth: int, age: float) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            f"{NAMESPACE}_outbox_depth",
            "Messages waiting to be sent (pending, or being sent right now).",
            value=depth,
        )
        yield GaugeMetricFamily(
            f"{NAMESPACE}_outbox_oldest_pending_age_seconds",
            "How long the oldest waiting message has waited; 0 when none waits.",
            value=age,
        )
