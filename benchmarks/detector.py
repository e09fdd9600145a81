"""Detector benchmark: one spike-detection run over 100,000 open and 1,000,000 older tickets.

Run: .venv/bin/python benchmarks/detector.py [--database sqlite|postgresql|both]
     [--open 100000] [--history 1000000] [--repeat 20]
Seeds a fresh, migrated database with core bulk inserts: the older tickets spread over the past
year (about 76 in any forty minutes), the open ones over the past fortnight, in six modules
and three types; the last forty minutes hold the usual number and a spike of thirty checkout
incidents, which is unusual against the six or so a window usually has. It then times
`detect()` as the leader runs it, after one run rolled back as a warm-up: the run that raises
the spike's alert and writes its cards, and the runs after it.
"""

from __future__ import annotations

import argparse
import asyncio
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

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from databases import drop_database, fresh_database  # noqa: E402

from bot.app import TEMPLATES  # noqa: E402
from bot.config import load_organisation  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.directory.models import AudienceBinding, Conversation  # noqa: E402
from bot.notify.compose import Notifier  # noqa: E402
from bot.notify.render import Renderer  # noqa: E402
from bot.notify.views import Reader, SpikeAlert  # noqa: E402
from bot.problems.detector import detect  # noqa: E402
from bot.tickets.models import Ticket  # noqa: E402

PG_NAME = "esmbot_bench_detector"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday, 13:00 in Berlin
CHUNK = 10_000
MODULES = ("Checkout", "Payment", "Catalog", "Admin", "Shipping", "Customer accounts")
TYPES = ("incident", "incident", "service request", "bug")
SUMMARIES = (
    "Checkout fails with an error",
    "Cannot pay by card",
    "Product images are missing",
    "Admin page is blank",
    "Parcel tracking link is wrong",
    "Password reset mail does not arrive",
    "Printer out of toner",
    "Bezahlen geht nicht",
)
SPIKE = 30
WINDOWS_A_YEAR = 52 * 7 * 24 * 60 // 40


def ticket_rows(
    count: int, *, first: int, span: timedelta, status: str, rng: random.Random
) -> Iterator[dict[str, Any]]:
    for number in range(first, first + count):
        created = NOW - timedelta(seconds=rng.uniform(41 * 60, span.total_seconds()))
        yield _row(number, created, status, rng.choice(MODULES), rng.choice(TYPES), rng)


def _row(
    number: int, created: datetime, status: str, module: str, kind: str, rng: random.Random
) -> dict[str, Any]:
    return {
        "id": number,
        "key": f"SR-{number}",
        "type": kind,
        "summary": rng.choice(SUMMARIES),
        "description": "",
        "module": module,
        "priority": "P3",
        "status": status,
        "created_at": created,
        "updated_at": created,
        "paused_seconds": 0.0,
        "paused_business_seconds": 0.0,
        "reopen_count": 0,
        "interaction_count": 1,
        "source": "esmbot",
    }


def window_rows(first: int, trickle: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """The last forty minutes: the usual tickets, and thirty checkout incidents."""
    number = first
    for _ in range(trickle):
        created = NOW - timedelta(seconds=rng.uniform(0, 40 * 60))
        yield _row(number, created, "new", rng.choice(MODULES), rng.choice(TYPES), rng)
        number += 1
    for i in range(SPIKE):
        created = NOW - timedelta(seconds=80 * i)
        yield _row(number, created, "new", "Checkout", "incident", rng)
        number += 1


def chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def seed(database: Database, open_count: int, history: int) -> float:
    rng = random.Random(26)
    began = time.perf_counter()
    sources = (
        ticket_rows(history, first=1, span=timedelta(weeks=52), status="closed", rng=rng),
        ticket_rows(
            open_count, first=history + 1, span=timedelta(days=14), status="in_progress", rng=rng
        ),
        window_rows(history + open_count + 1, history // WINDOWS_A_YEAR, rng),
    )
    for rows in sources:
        for batch in chunks(rows, CHUNK):
            async with database.engine.begin() as connection:
                await connection.execute(insert(Ticket.__table__), batch)
    async with database.transaction() as session:
        for audience in ("agents", "management"):
            channel = Conversation(
                conversation_id=f"19:{audience}@thread.tacv2",
                scope="channel",
                service_url="http://127.0.0.1:9/",
                reference={"conversation": {"id": audience}},
            )
            session.add(channel)
            await session.flush()
            session.add(AudienceBinding(audience=audience, conversation_id=channel.id))
    if database.engine.dialect.name == "postgresql":
        async with database.engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    return time.perf_counter() - began


class _Undo(Exception):
    """Raised to roll a run back: the warm-up leaves the database as it found it."""


async def run(
    database: Database, notifier: Notifier, rules: Any, *, keep: bool = True
) -> tuple[float, list[int]]:
    began = time.perf_counter()
    try:
        async with database.transaction() as session:
            raised = await detect(session, rules=rules, now=NOW, notifier=notifier)
            elapsed = (time.perf_counter() - began) * 1000
            if not keep:
                raise _Undo
    except _Undo:
        pass
    return elapsed, raised


async def bench(kind: str, args: argparse.Namespace) -> list[str]:
    workdir = tempfile.mkdtemp(prefix="esmbot-detector-")
    url = await fresh_database(kind, workdir, PG_NAME)
    database = Database(url)
    try:
        seconds = await seed(database, args.open, args.history)
        print(
            f"[{kind}] seeded {args.open:,} open and {args.history:,} older tickets in {seconds:.0f} s"
        )
        organisation = load_organisation(ROOT / "esmbot.example.toml")
        renderer = Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone)
        notifier = Notifier(renderer, organisation)
        # The card's template is compiled once per process, as a server does at its first alert.
        renderer.render(
            "agents",
            "problem_alert",
            ticket=None,
            reader=Reader(),
            extras={"alert": SpikeAlert(0, "Checkout", 6, 0.4, 40, ())},
        )
        # A server has run the detector before the run that raises an alert: its statements
        # are compiled and the indexes read. One run rolled back stands for that.
        await run(database, notifier, organisation.problems, keep=False)
        first, raised = await run(database, notifier, organisation.problems)
        assert len(raised) == 1, f"the spike should raise one alert, not {raised}"
        later = [
            (await run(database, notifier, organisation.problems))[0] for _ in range(args.repeat)
        ]
        p95 = statistics.quantiles(later, n=20)[-1]
        line = f"| {kind} | {first:.0f} | {statistics.median(later):.0f} | {p95:.0f} | {min(later):.0f} |"
        print(line)
        return [line]
    finally:
        await database.close()
        await drop_database(kind, PG_NAME)
        shutil.rmtree(workdir, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    lines = [
        "| database | first run, ms (raises the alert) | later runs, median ms | p95 | min |",
        "|---|---|---|---|---|",
    ]
    for kind in kinds:
        lines += await bench(kind, args)
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
