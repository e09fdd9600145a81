"""Prometheus metrics for one app: its own registry, the delivery counters and the outbox gauges."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import Counter as Counts
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

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
        self._resent = Counter(
            "outbox_resent_after_crash",
            "Messages a dispatcher had claimed when it died, handed back to be sent again: Teams "
            "may have taken some of them already, the only messages that can arrive twice.",
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
        self._unmatched = Counter(
            "reporters_unmatched",
            "Stored ticket events whose reporter matched nobody esmbot knows, after any Jira look-up.",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._unaddressed = Counter(
            "messages_unaddressed",
            "Messages not written because nobody receives them (no channel bound for the audience,"
            " nobody reachable), or because what they speak of went to nobody, by template.",
            ("audience", "template"),
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._unreached = Counter(
            "people_unreached",
            "Messages for a person esmbot has no chat with and could not reach, by reason"
            " (no_graph: Graph is not set up; forbidden, not_in_directory, blocked, ...: what"
            " Graph answered).",
            ("reason",),
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._refused = Counter(
            "activities_refused",
            "Teams activities answered and forgotten, by reason (tenant: one esmbot does not serve).",
            ("reason",),
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._dispatchers = Gauge(
            "dispatchers",
            "Dispatchers sharing Teams' limits on this database, as this one last counted them.",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._tenant_share = Gauge(
            "tenant_share_per_second",
            "The messages per second this dispatcher may send to the tenant: its share.",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._outbox = _OutboxCollector()
        self.registry.register(self._outbox)
        self._tallies: weakref.WeakKeyDictionary[Session, OutboxTally] = weakref.WeakKeyDictionary()
        self._counted: weakref.WeakSet[OutboxMessage] = weakref.WeakSet()

    def enqueued(self, rows: Iterable[OutboxMessage]) -> None:
        """Counts rows written to the outbox, each once however often it is reported."""
        for row in rows:
            if row not in self._counted:
                self._counted.add(row)
                self._enqueued.labels(row.audience, row.template).inc()

    def enqueued_values(self, audience: str, template: str, count: int) -> None:
        """Counts rows written as plain values, which have no object to tell them apart."""
        self._enqueued.labels(audience, template).inc(count)

    def unaddressed(self, audience: str, template: str) -> None:
        self._unaddressed.labels(audience, template).inc()

    def unreached(self, reason: str, count: int = 1) -> None:
        self._unreached.labels(reason).inc(count)

    def sent(self, row: OutboxMessage) -> None:
        self._sent.labels(row.audience, row.template).inc()

    def retried(self, row: OutboxMessage) -> None:
        self._retried.labels(row.audience, row.template).inc()

    def failed(self, row: OutboxMessage) -> None:
        self._failed.labels(row.audience, row.template).inc()

    def resent_after_crash(self, rows: int) -> None:
        self._resent.inc(rows)

    def teams_answered(self, status: int | None, seconds: float) -> None:
        """One call to Teams: `status` None means no answer (timeout, network), success is 2xx."""
        label = "none" if status is None else "2xx" if 200 <= status < 300 else str(status)
        self._responses.labels(label).inc()
        self._latency.observe(seconds)

    def dispatchers(self, count: int, tenant_share: float) -> None:
        """What the last heartbeat found: how many dispatchers, and this one's tenant rate."""
        self._dispatchers.set(count)
        self._tenant_share.set(tenant_share)

    def event_received(self, source: str, outcome: str) -> None:
        self._events.labels(source, outcome).inc()

    def activity_refused(self, reason: str) -> None:
        self._refused.labels(reason).inc()

    def reporter_unmatched(self, events: int = 1) -> None:
        self._unmatched.inc(events)

    def tally(self, session: AsyncSession) -> OutboxTally:
        """The session's one tally: its outbox rows are counted right after its commit."""
        sync = session.sync_session
        tally = self._tallies.get(sync)
        if tally is None:
            tally = self._tallies[sync] = OutboxTally(sync, self)
        return tally

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
    """The outbox rows a session writes; those still stored when it commits count as enqueued.

    Rows inserted in a savepoint that rolled back lose their identity again, so a duplicate
    event or a failed one adds nothing; rows inserted as plain values are forgotten with the
    transaction that took them back. A transaction that rolls back counts nothing.
    """

    def __init__(self, session: Session, metrics: Metrics) -> None:
        self._metrics, self._session = metrics, weakref.ref(session)
        self._rows: list[OutboxMessage] = []
        # (the transaction that wrote them, audience, template, how many)
        self._inserted: list[tuple[SessionTransaction | None, str, str, int]] = []
        self._unreached: list[tuple[SessionTransaction | None, str, int]] = []
        event.listen(session, "before_flush", self._note)
        event.listen(session, "after_commit", self._count)
        event.listen(session, "after_soft_rollback", self._forget)

    def inserted(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Rows written as plain values rather than objects (see Notifier.insert)."""
        session = self._session()
        transaction = (
            (session.get_nested_transaction() or session.get_transaction()) if session else None
        )
        rows = list(rows)
        counts = Counts((str(row["audience"]), str(row["template"])) for row in rows)
        self._inserted.extend(
            (transaction, audience, template, count)
            for (audience, template), count in counts.items()
        )
        # A row written as failed is a person not reached: its error is the reason.
        reasons = Counts(
            str(row.get("last_error")) for row in rows if row.get("status") == outbox.FAILED
        )
        self._unreached.extend((transaction, reason, count) for reason, count in reasons.items())

    def committed(self) -> list[OutboxMessage]:
        return [row for row in self._rows if inspect(row).has_identity]

    def _note(self, session: Session, _context: object, _instances: object) -> None:
        self._rows.extend(row for row in session.new if isinstance(row, OutboxMessage))

    def _count(self, session: Session) -> None:
        if session.get_nested_transaction() is not None:
            return  # a savepoint was released: the transaction may still roll back
        self._metrics.enqueued(self.committed())
        for _transaction, audience, template, count in self._inserted:
            self._metrics.enqueued_values(audience, template, count)
        self._inserted.clear()
        for _transaction, reason, count in self._unreached:
            self._metrics.unreached(reason, count)
        self._unreached.clear()

    def _forget(self, _session: Session, previous: SessionTransaction) -> None:
        self._inserted = [entry for entry in self._inserted if not _within(entry[0], previous)]
        self._unreached = [entry for entry in self._unreached if not _within(entry[0], previous)]


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


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
