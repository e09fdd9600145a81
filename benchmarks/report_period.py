"""A month's service-level report over many tickets: how long the figures and the PDF take.

Seeds the database with `seed-history` (once: a database that already holds as many synthetic
tickets is reused), then reads the last 30 days' report three times and makes its PDF three
times, and prints one JSON document with the medians.

    PYTHONPATH=. .venv/bin/python benchmarks/report_period.py --tickets 100000 --weeks 52 \
        --database sqlite+inline:////tmp/report.db
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.app import TEMPLATES
from bot.config import load_organisation
from bot.db import Database
from bot.demo.seed import seed_history
from bot.migrate import run_upgrade
from bot.notify.render import Renderer
from bot.notify.views import Reader
from bot.reports.history import period_report
from bot.reports.pdf import render_pdf
from bot.tickets.models import Ticket

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


async def measure(url: str, tickets: int, weeks: int, runs: int) -> dict[str, object]:
    organisation = load_organisation(ROOT / "esmbot.example.toml")
    database = Database(url)
    try:
        async with database.reading() as session:
            have = await session.scalar(select(func.count()).select_from(Ticket))
        seeded = 0.0
        if (have or 0) < tickets:
            began = time.perf_counter()
            await seed_history(
                database, organisation, tickets=tickets - (have or 0), weeks=weeks, now=NOW
            )
            seeded = time.perf_counter() - began
        reads, pdfs = [], []
        words = Renderer(TEMPLATES, "en", organisation.time_zone).phrases(Reader(locale="de"))
        for _ in range(runs):
            began = time.perf_counter()
            report = await period_report(
                database,
                start=NOW - timedelta(days=30),
                end=NOW,
                now=NOW,
                organisation=organisation,
            )
            reads.append(time.perf_counter() - began)
            began = time.perf_counter()
            render_pdf(report, words=words, organisation=organisation, now=NOW)
            pdfs.append(time.perf_counter() - began)
        return {
            "database": url.split(":", 1)[0],
            "tickets": max(have or 0, tickets),
            "month_tickets": report.current.created.total,
            "seed_seconds": round(seeded, 1),
            "report_seconds": round(statistics.median(reads), 3),
            "pdf_seconds": round(statistics.median(pdfs), 3),
            "targets": {"report_seconds": 1.0, "pdf_seconds": 2.0},
        }
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite+inline:////tmp/esmbot-report.db")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    run_upgrade(args.database)
    print(json.dumps(asyncio.run(measure(args.database, args.tickets, args.weeks, args.runs))))


if __name__ == "__main__":
    main()
