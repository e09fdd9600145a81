"""The spike detector's run: counts now and in past weeks, groups by words, and raises alerts.

It runs on the leader (scheduler/), reads the window's tickets and the same window's counts in
past weeks, and writes each alert with its outbox rows in one transaction. A ticket is counted
in one alert only, and a group whose alert is open, was dismissed lately, or has a problem
already does not fire again.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, exists, func, insert, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.config.problem_rules import ProblemRules
from bot.db import Database
from bot.notify.compose import Notifier
from bot.notify.views import AlertTicket, SpikeAlert
from bot.problems.closing import resolve_linked
from bot.problems.models import ProblemAlert, ProblemAlertTicket, ProblemLink
from bot.problems.records import DECLARED, DISMISSED, OPEN
from bot.problems.similarity import best_match, group_texts, weighted_concepts
from bot.problems.spikes import is_spike, spikes, usual_rate
from bot.tickets.lifecycle import OPEN_STATUSES
from bot.tickets.models import PROBLEM, Ticket
from bot.tickets.system import TicketSystem

log = logging.getLogger(__name__)

TEMPLATE = "agents/problem_alert"
AUDIENCES = ("agents", "management")
WEEK = timedelta(days=7)
# Tickets a run reads for grouping by words at most: a flood beyond it is a spike by count.
_WORDS_LIMIT = 2000

Key = tuple[str, str]  # (module or "", type)


@dataclass(frozen=True)
class Found:
    """A group to raise: its signature, what it is about, its tickets and its usual count."""

    signature: str
    about: str
    module: str | None
    tickets: tuple[Row[Any], ...]
    usual: float


async def detect(
    session: AsyncSession, *, rules: ProblemRules, now: datetime, notifier: Notifier | None
) -> list[int]:
    """One run: raises every unusual group of the window; returns the new alerts' ids."""
    start = now - rules.window
    tickets = list((await session.execute(_window_tickets(start, now))).all())
    if len(tickets) < rules.min_count:
        return []
    past = await _past_counts(session, rules=rules, start=start, end=now)
    quiet = await _quiet_signatures(session, rules=rules, now=now)
    open_problems = await _open_problems(session)
    by_key: dict[Key, list[Row[Any]]] = defaultdict(list)
    for ticket in tickets:
        by_key[(ticket.module or "", ticket.type)].append(ticket)
    found: list[Found] = []
    counts = {key: len(group) for key, group in by_key.items() if key[0]}
    problem_modules = {problem.module for problem in open_problems if problem.module}
    for spike in spikes(counts, past, rules):
        module, kind = spike.key
        signature = f"module:{module}|{kind}"
        if signature in quiet or module in problem_modules:
            continue
        found.append(Found(signature, module, module, tuple(by_key[spike.key]), spike.usual))
    taken = {ticket.id for group in found for ticket in group.tickets}
    # A module whose group is quiet stays quiet when its tickets are grouped by words too.
    hushed = {
        key for key in by_key if f"module:{key[0]}|{key[1]}" in quiet or key[0] in problem_modules
    }
    rest = [
        ticket
        for ticket in tickets
        if ticket.id not in taken and (ticket.module or "", ticket.type) not in hushed
    ]
    found += _word_groups(
        rest[:_WORDS_LIMIT],
        rules=rules,
        past=past,
        quiet=quiet,
        open_problems=open_problems,
    )
    return [
        await _raise(session, group, rules=rules, now=now, notifier=notifier) for group in found
    ]


def _window_tickets(start: datetime, end: datetime) -> Any:
    counted = exists().where(ProblemAlertTicket.ticket_id == Ticket.id)
    linked = exists().where(ProblemLink.ticket_id == Ticket.id)
    return (
        select(
            Ticket.id,
            Ticket.key,
            Ticket.summary,
            Ticket.description,
            Ticket.module,
            Ticket.type,
            Ticket.created_at,
        )
        .where(
            Ticket.created_at > start,
            Ticket.created_at <= end,
            Ticket.type != PROBLEM,
            ~counted,
            ~linked,
        )
        .order_by(Ticket.created_at, Ticket.id)
    )


async def _past_counts(
    session: AsyncSession, *, rules: ProblemRules, start: datetime, end: datetime
) -> dict[Key, list[int]]:
    """The same window's counts per (module, type) in each past week since the first ticket."""
    first = await session.scalar(select(func.min(Ticket.created_at)))
    weeks = [
        k for k in range(1, rules.history_weeks + 1) if first is not None and end - k * WEEK > first
    ]
    if not weeks:
        return {}
    parts = [
        select(literal(k).label("week"), Ticket.module, Ticket.type, func.count().label("n"))
        .where(
            Ticket.created_at > start - k * WEEK,
            Ticket.created_at <= end - k * WEEK,
            Ticket.type != PROBLEM,
        )
        .group_by(Ticket.module, Ticket.type)
        for k in weeks
    ]
    counts: dict[Key, list[int]] = defaultdict(lambda: [0] * len(weeks))
    for week, module, kind, n in await session.execute(union_all(*parts)):
        counts[(module or "", kind)][weeks.index(week)] = n
    return dict(counts)


async def _quiet_signatures(
    session: AsyncSession, *, rules: ProblemRules, now: datetime
) -> set[str]:
    """Groups that do not fire: an open alert or a lately dismissed one, or a problem still open."""
    since = now - rules.quiet_after_dismissal
    problem_open = exists().where(
        Ticket.id == ProblemAlert.problem_id,
        Ticket.status.in_(sorted(str(status) for status in OPEN_STATUSES)),
    )
    rows = await session.scalars(
        select(ProblemAlert.signature).where(
            ((ProblemAlert.status.in_((OPEN, DISMISSED))) & (ProblemAlert.raised_at >= since))
            | ((ProblemAlert.status == DISMISSED) & (ProblemAlert.decided_at >= since))
            | ((ProblemAlert.status == DECLARED) & problem_open)
        )
    )
    return set(rows)


async def _open_problems(session: AsyncSession) -> list[Row[Any]]:
    found: Any = await session.execute(
        select(Ticket.key, Ticket.summary, Ticket.module).where(
            Ticket.type == PROBLEM,
            Ticket.status.in_(sorted(str(status) for status in OPEN_STATUSES)),
        )
    )
    return list(found.all())


def _word_groups(
    tickets: Sequence[Row[Any]],
    *,
    rules: ProblemRules,
    past: dict[Key, list[int]],
    quiet: set[str],
    open_problems: Sequence[Row[Any]],
) -> list[Found]:
    """Tickets across modules (or with none) that say the same thing, when they are unusual."""
    if len(tickets) < rules.min_count:
        return []
    rows = {ticket.id: ticket for ticket in tickets}
    texts = [(ticket.id, _text(ticket)) for ticket in tickets]
    problems = [(problem.key, problem.summary) for problem in open_problems]
    found = []
    for members in group_texts(texts, threshold=rules.similarity):
        if len(members) < rules.min_count:
            continue
        group = tuple(rows[member] for member in members)
        concepts: Counter[str] = Counter()
        for ticket in group:
            concepts.update(weighted_concepts(_text(ticket)))
        if not concepts:
            continue  # alike in letters only: not enough to call it one thing
        about = concepts.most_common(1)[0][0]
        signature = f"words:{about}"
        if signature in quiet or best_match(_text(group[0]), problems, threshold=rules.similarity):
            continue
        keys = Counter((ticket.module or "", ticket.type) for ticket in group)
        usual = sum(usual_rate(past.get(key, ()), rules) for key in keys)
        if is_spike(len(group), usual, rules):
            module = keys.most_common(1)[0][0][0] or None
            found.append(Found(signature, about, module, group, usual))
    return found


def _text(ticket: Row[Any]) -> str:
    return f"{ticket.summary} {ticket.description or ''}"


async def _raise(
    session: AsyncSession,
    group: Found,
    *,
    rules: ProblemRules,
    now: datetime,
    notifier: Notifier | None,
) -> int:
    alert = ProblemAlert(
        signature=group.signature[:256],
        module=group.module,
        observed=len(group.tickets),
        usual=group.usual,
        window_minutes=int(rules.window.total_seconds() // 60),
        raised_at=now,
        first_ticket_at=min(ticket.created_at for ticket in group.tickets),
        status=OPEN,
    )
    session.add(alert)
    await session.flush()
    await session.execute(
        insert(ProblemAlertTicket),
        [{"alert_id": alert.id, "ticket_id": ticket.id} for ticket in group.tickets],
    )
    log.info(
        "spike",
        extra={"signature": group.signature, "observed": alert.observed, "usual": group.usual},
    )
    if notifier is not None:
        await tell_desk(session, notifier, alert, group.about, group.tickets)
    return alert.id


async def tell_desk(
    session: AsyncSession,
    notifier: Notifier,
    alert: ProblemAlert,
    about: str,
    tickets: Sequence[Row[Any]],
) -> int:
    """The alert's card to the agents' and management channels, once each; how many rows."""
    view = SpikeAlert(
        alert_id=alert.id,
        about=about,
        observed=alert.observed,
        usual=alert.usual,
        minutes=alert.window_minutes,
        tickets=tuple(AlertTicket(t.key, t.summary, t.module) for t in tickets),
    )
    written = 0
    for audience in AUDIENCES:
        recipients = await notifier.channel(session, audience)
        if not recipients and notifier.metrics is not None:
            notifier.metrics.unaddressed(audience, TEMPLATE)
        for recipient in recipients:
            row = notifier.render_row(
                template=TEMPLATE,
                audience=audience,
                recipient=recipient,
                dedupe_key=f"problem-alert:{alert.id}:{recipient.conversation_id}",
                view=None,
                extras={"alert": view},
            )
            written += await notifier.add_once(session, row)
    if not written:
        log.warning("a spike alert reached no channel", extra={"alert": alert.id})
    return written


@dataclass
class Detector:
    """The leader's job: the linked tickets of solved problems resolved (if esmbot.toml says
    so), then one detection run in its own transaction, then the dispatcher woken."""

    database: Database
    organisation: Organisation
    notifier: Notifier | None
    clock: Callable[[], datetime]
    on_commit: Callable[[], None] | None = None
    system: TicketSystem | None = None

    async def run(self) -> list[int]:
        if self.system is not None:
            await resolve_linked(self.database, self.organisation, self.system, now=self.clock())
        async with self.database.transaction() as session:
            raised = await detect(
                session,
                rules=self.organisation.problems,
                now=self.clock(),
                notifier=self.notifier,
            )
        if raised and self.on_commit is not None:
            self.on_commit()
        return raised
