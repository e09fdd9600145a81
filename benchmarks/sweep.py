"""Sweep benchmark: one sweep of due actions over 100,000 open tickets and 1,000,000 due-action rows.

Run: .venv/bin/python benchmarks/sweep.py [--database sqlite|postgresql|both] [--tickets 100000]
     [--rows-per-ticket 10] [--due 100,1000] [--repeat 30]
Seeds a fresh, migrated database (a temporary SQLite file, or its own PostgreSQL database that it
drops at the end) with core bulk inserts, then times `Sweeper.sweep()` as the scheduler runs it:
when nothing is due, and when N actions are due (nudges and breaches that really render and
write their cards into the outbox). It also prints the plan of the sweep's query.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from databases import drop_database, fresh_database  # noqa: E402

from bot.app import TEMPLATES  # noqa: E402
from bot.config import load_organisation  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.directory.models import AudienceBinding, Conversation  # noqa: E402
from bot.notify.compose import Notifier  # noqa: E402
from bot.notify.models import OutboxMessage  # noqa: E402
from bot.notify.render import Renderer  # noqa: E402
from bot.tickets.due_models import DueAction  # noqa: E402
from bot.tickets.models import Ticket  # noqa: E402
from bot.tickets.sweep import Sweeper  # noqa: E402

PG_NAME = "esmbot_bench_sweep"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday, 13:00 in Berlin
CHUNK = 10_000
# A ticket's plan as bot/tickets/planning.py makes it: three nudges and a breach per deadline,
# then a customer reminder and a survey. The first of each deadline's nudges is done already.
PLAN = (
    ("nudge", "first_response", 0.5), ("nudge", "first_response", 0.75),
    ("nudge", "first_response", 0.9), ("breach", "first_response", None),
    ("nudge", "resolution", 0.5), ("nudge", "resolution", 0.75),
    ("nudge", "resolution", 0.9), ("breach", "resolution", None),
    ("customer_reminder", None, 1.0), ("survey", None, None),
)  # fmt: skip
DONE_ALREADY = {0, 4}
STATUSES = ("new", "acknowledged", "in_progress", "in_progress", "waiting_for_vendor")
PRIORITIES = ("P1", "P2", "P3", "P3", "P3", "P4")


def ticket_rows(first: int, last: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for number in range(first, last + 1):
        # The first 5,000 are new and unanswered, opened 20 h ago: the ones made due later.
        unanswered = number <= 5_000 or rng.random() < 0.3
        created = (
            NOW - timedelta(hours=20)
            if number <= 5_000
            else NOW - timedelta(minutes=rng.randint(60, 14 * 24 * 60))
        )
        yield {
            "id": number,
            "key": f"SR-{number}",
            "type": "incident",
            "summary": f"Checkout fails with an error when paying by card ({number})",
            "description": "",
            "priority": "P3" if number <= 5_000 else rng.choice(PRIORITIES),
            "status": "new" if unanswered else rng.choice(STATUSES),
            "created_at": created,
            "updated_at": created,
            "first_response_at": None if unanswered else created + timedelta(hours=2),
            "first_response_due": created + timedelta(hours=48),
            "resolution_due": NOW + timedelta(minutes=rng.randint(60, 10 * 24 * 60)),
            "paused_seconds": 0.0,
            "paused_business_seconds": 0.0,
            "reopen_count": 0,
            "interaction_count": 1,
            "source": "esmbot",
        }


def action_rows(
    first: int, last: int, per_ticket: int, rng: random.Random
) -> Iterator[dict[str, Any]]:
    for ticket in range(first, last + 1):
        for step in range(per_ticket):
            kind, sla, fraction = PLAN[step % len(PLAN)]
            done = step in DONE_ALREADY
            due = (
                NOW - timedelta(minutes=rng.randint(60, 14 * 24 * 60))
                if done
                else NOW + timedelta(minutes=rng.randint(1, 10 * 24 * 60))
            )
            share = f"{fraction:g}" if fraction is not None else "-"
            yield {
                "id": (ticket - 1) * per_ticket + step + 1,
                "ticket_id": ticket,
                "dedupe_key": f"{ticket}:{kind}:{sla or '-'}:{share}:{step // len(PLAN)}",
                "kind": kind,
                "sla": sla,
                "fraction": fraction,
                "due_at": due,
                "status": "done" if done else "pending",
                "outcome": "nudged" if done else None,
                "created_at": NOW - timedelta(days=15),
                "done_at": due if done else None,
            }


def chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def seed(database: Database, tickets: int, per_ticket: int) -> float:
    """Core inserts in chunks, one transaction per chunk; returns the seconds taken."""
    rng = random.Random(7)
    began = time.perf_counter()
    for table, rows in (
        (Ticket.__table__, ticket_rows(1, tickets, rng)),
        (DueAction.__table__, action_rows(1, tickets, per_ticket, rng)),
    ):
        for batch in chunks(rows, CHUNK):
            async with database.engine.begin() as connection:
                await connection.execute(insert(table), batch)
    async with database.transaction() as session:
        # The nudges and breaches speak to the agents' and the management channel.
        for audience in ("agents", "management"):
            channel = Conversation(
                conversation_id=f"19:{audience}@thread.tacv2", scope="channel",
                service_url="http://127.0.0.1:9/", reference={"conversation": {"id": audience}},
            )  # fmt: skip
            session.add(channel)
            await session.flush()
            session.add(AudienceBinding(audience=audience, conversation_id=channel.id))
    if database.engine.dialect.name == "postgresql":
        # Autovacuum analyses a table after this many inserts; do not wait for it.
        async with database.engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    return time.perf_counter() - began


async def make_due(database: Database, first: int, count: int) -> None:
    """Brings `count` actions of unanswered tickets due: a fifth breaches, the rest nudges."""
    breaches = count // 5
    late = list(range(first, first + breaches))
    near = list(range(first + breaches, first + count))
    async with database.transaction() as session:
        await session.execute(
            update(Ticket).where(Ticket.id.in_(late)).values(first_response_due=NOW - timedelta(hours=1))
        )  # fmt: skip
        await session.execute(
            update(DueAction)
            .where(DueAction.ticket_id.in_(late), DueAction.kind == "breach",
                   DueAction.sla == "first_response")
            .values(due_at=NOW - timedelta(hours=1), status="pending")
        )  # fmt: skip
        await session.execute(
            update(DueAction)
            .where(DueAction.ticket_id.in_(near), DueAction.kind == "nudge",
                   DueAction.sla == "first_response", DueAction.fraction == 0.75)
            .values(due_at=NOW - timedelta(minutes=1), status="pending")
        )  # fmt: skip


async def due_now(database: Database) -> int:
    async with database.transaction() as session:
        return int(
            await session.scalar(
                select(func.count()).where(DueAction.status == "pending", DueAction.due_at <= NOW)
            )
            or 0
        )


async def plan_of_sweep(database: Database) -> str:
    """The plan of the sweep's query, as the database runs it."""
    dialect = database.engine.dialect.name
    query = (
        "SELECT * FROM due_actions WHERE status = 'pending' AND due_at <= :now "
        "ORDER BY due_at, id LIMIT 500"
    )
    async with database.engine.connect() as connection:
        if dialect == "postgresql":
            found = await connection.execute(
                text(f"EXPLAIN (ANALYZE, BUFFERS) {query} FOR UPDATE SKIP LOCKED"), {"now": NOW}
            )
            return "\n".join(row[0] for row in found)
        # SQLite stores the UTC timestamps as text; bind it the way the column type writes it.
        stamp = NOW.replace(tzinfo=None).isoformat(sep=" ")
        found = await connection.execute(text(f"EXPLAIN QUERY PLAN {query}"), {"now": stamp})
        return "\n".join(str(row[-1]) for row in found)


async def run_sweep(sweeper: Sweeper) -> tuple[float, int]:
    """One pass of the scheduler's sweep job: batches until less than a batch was due."""
    began, handled = time.perf_counter(), 0
    while True:
        done = await sweeper.sweep()
        handled += done
        if done < sweeper.batch:
            return (time.perf_counter() - began) * 1000, handled


async def bench(kind: str, args: argparse.Namespace) -> list[str]:
    workdir = tempfile.mkdtemp(prefix="esmbot-sweep-")
    url = await fresh_database(kind, workdir, PG_NAME)
    database = Database(url)
    lines = []
    try:
        seconds = await seed(database, args.tickets, args.rows_per_ticket)
        rows = args.tickets * args.rows_per_ticket
        print(
            f"[{kind}] seeded {args.tickets:,} tickets and {rows:,} due actions in {seconds:.0f} s"
        )
        organisation = load_organisation(ROOT / "esmbot.example.toml")
        renderer = Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone)
        sweeper = Sweeper(database, organisation, Notifier(renderer, organisation), lambda: NOW)
        print(f"[{kind}] plan of the sweep's query:\n{await plan_of_sweep(database)}")

        assert await due_now(database) == 0
        await run_sweep(sweeper)  # warm: connections, statement caches, templates
        idle = [(await run_sweep(sweeper))[0] for _ in range(args.repeat)]
        p95 = statistics.quantiles(idle, n=20)[-1]
        lines.append(
            f"| {kind} | 0 | {statistics.median(idle):.2f} | {p95:.2f} | {min(idle):.2f} | – |"
        )
        print(lines[-1])

        first = 1
        for count in args.due:
            await make_due(database, first, count)
            first += count
            assert await due_now(database) == count, "the benchmark's data is off"
            elapsed, handled = await run_sweep(sweeper)
            async with database.transaction() as session:
                written = await session.scalar(select(func.count()).select_from(OutboxMessage))
            assert handled == count and await due_now(database) == 0
            lines.append(f"| {kind} | {count:,} | {elapsed:.0f} | – | – | {elapsed / count:.2f} |")
            print(f"{lines[-1]}  ({written:,} outbox rows so far)")
        return lines
    finally:
        await database.close()
        await drop_database(kind, PG_NAME)
        shutil.rmtree(workdir, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rows-per-ticket", type=int, default=10)
    parser.add_argument("--due", type=lambda v: [int(n) for n in v.split(",")], default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if sum(args.due) > 5_000 or sum(args.due) > args.tickets:
        parser.error("the due actions come from the first 5,000 (unanswered) tickets")
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    print(f"load average before: {os.getloadavg()}")
    lines = ["| database | due | median ms | p95 ms | min ms | ms per due action |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for kind in kinds:
        lines += await bench(kind, args)
    print(f"load average after: {os.getloadavg()}")
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
