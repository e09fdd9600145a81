"""Compose-box benchmark: ticket searches and card refreshes over 100,000 tickets, over HTTP.

Run: .venv/bin/python benchmarks/compose_search.py [--database sqlite|postgresql|both]
     [--tickets 100000] [--requests 300]
Seeds a fresh, migrated database (a temporary SQLite file, or its own PostgreSQL database that
it drops at the end) with 100,000 tickets of 2,000 customers, assigned among 10 agents, then
serves esmbot (`create_app`, local mode) on a loopback port and posts the invokes Teams sends:
`composeExtension/query` (an agent's words, key, status, "mine" and first run; a customer's
first run and words) and `adaptiveCard/action` refreshes (an agent's and the reporter's), one
at a time, timing each answer. Prints one JSON document: p50 and p99 per kind, per database.
The client runs in the same process, on the same loop: its own work counts in the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

import aiohttp
from aiohttp import web
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from databases import drop_database, fresh_database  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.config import Settings, load_organisation  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.demo.activities import TeamsUser, card_execute, ticket_search  # noqa: E402
from bot.directory.models import Person  # noqa: E402
from bot.tickets.models import Ticket  # noqa: E402

PG_NAME = "esmbot_bench_compose"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CHUNK = 10_000
CUSTOMERS = 2_000
AGENTS = 10
STATUSES = ("new", "acknowledged", "in_progress", "waiting_for_customer", "resolved", "closed")
WORDS = ("Checkout", "Payment", "Catalog", "Admin", "Shipping", "Invoice", "Login", "Export")
AGENT = TeamsUser.named("Alex Agent", "alex@esmos.example")
REPORTER = TeamsUser.named("Customer 7", "customer7@esmos.example")
REPORTER_ID = AGENTS + 1 + 7


def people_rows() -> Iterator[dict[str, Any]]:
    """Ten agents (the first is Alex, an agent in esmbot.example.toml) and the customers; the
    customer with id REPORTER_ID is REPORTER."""
    for number in range(1, CUSTOMERS + AGENTS + 1):
        if number == 1:
            user = AGENT
        elif number == REPORTER_ID:
            user = REPORTER
        else:
            kind = "agent" if number <= AGENTS else "customer"
            user = TeamsUser.named(f"Person {number}", f"{kind}{number}@esmos.example")
        yield {
            "id": number,
            "aad_object_id": user.aad_object_id,
            "teams_user_id": user.id,
            "name": user.name,
            "email": user.email,
            "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "roles": ["agents"] if number == 1 else [],
            "locale": "en-US",
            "time_zone": "Europe/Berlin",
            "created_at": NOW,
            "updated_at": NOW,
        }


def ticket_rows(count: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for number in range(1, count + 1):
        created = NOW - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        status = rng.choice(STATUSES)
        yield {
            "id": number,
            "key": f"SR-{number}",
            "type": "incident",
            "summary": f"{rng.choice(WORDS)} {rng.choice(WORDS).lower()} fails ({number})",
            "description": "",
            "module": rng.choice(WORDS),
            "priority": rng.choice(("P1", "P2", "P3", "P3", "P4")),
            "status": status,
            "reporter_id": AGENTS + 1 + (number % CUSTOMERS),
            "assignee_id": None if status == "new" else 1 + (number % AGENTS),
            "created_at": created,
            "updated_at": created + timedelta(minutes=rng.randint(0, 600)),
            "first_response_due": created + timedelta(hours=48),
            "resolution_due": created + timedelta(days=5),
            "paused_seconds": 0.0,
            "paused_business_seconds": 0.0,
            "reopen_count": 0,
            "interaction_count": 1,
            "source": "esmbot",
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


async def seed(url: str, tickets: int) -> None:
    database = Database(url)
    try:
        for table, rows in (
            (Person.__table__, people_rows()),
            (Ticket.__table__, ticket_rows(tickets, random.Random(27))),
        ):
            for batch in chunks(rows, CHUNK):
                async with database.engine.begin() as connection:
                    await connection.execute(insert(table), batch)
        if database.engine.dialect.name == "postgresql":
            async with database.engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
    finally:
        await database.close()


def requests(service_url: str, tickets: int) -> list[tuple[str, dict[str, Any]]]:
    """The invokes, by kind; the refreshed ticket is one of REPORTER's."""
    hers = next(n for n in range(1, tickets + 1) if AGENTS + 1 + (n % CUSTOMERS) == REPORTER_ID)
    return [
        ("search_agent_words", ticket_search(AGENT, service_url, "checkout fails")),
        ("search_agent_key", ticket_search(AGENT, service_url, f"SR-{tickets // 2}")),
        ("search_agent_status", ticket_search(AGENT, service_url, "waiting for the requester")),
        ("search_agent_mine", ticket_search(AGENT, service_url, "mine")),
        ("search_agent_first_run", ticket_search(AGENT, service_url, None)),
        ("search_customer_first_run", ticket_search(REPORTER, service_url, None)),
        ("search_customer_words", ticket_search(REPORTER, service_url, "payment")),
        ("refresh_agent", _refresh(AGENT, service_url, hers)),
        ("refresh_reporter", _refresh(REPORTER, service_url, hers)),
    ]


def _refresh(user: TeamsUser, service_url: str, number: int) -> dict[str, Any]:
    data = {"action": "refresh", "ticket": f"SR-{number}"}
    return card_execute(user, service_url, "refresh", data, chat="bench", trigger="automatic")


async def measure(url: str, tickets: int, rounds: int) -> dict[str, Any]:
    organisation = load_organisation(ROOT / "esmbot.example.toml")
    settings = Settings(database_url=url, log_level="WARNING")
    app = create_app(settings, organisation, schedule=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    endpoint = f"http://127.0.0.1:{port}/api/messages"
    timings: dict[str, list[float]] = {}
    try:
        async with aiohttp.ClientSession() as client:
            kinds = requests("http://127.0.0.1:9/", tickets)
            for round_ in range(rounds + 3):  # three warm-up rounds
                for kind, activity in kinds:
                    began = time.perf_counter()
                    async with client.post(endpoint, json=activity) as response:
                        body = await response.json()
                    took = (time.perf_counter() - began) * 1000
                    assert response.status == 200, body
                    assert "composeExtension" in body or body.get("statusCode") == 200, body
                    if round_ >= 3:
                        timings.setdefault(kind, []).append(took)
    finally:
        await runner.cleanup()
    return {kind: _figures(values) for kind, values in timings.items()}


def _figures(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p99_ms": round(p99, 2)}


async def run(kind: str, tickets: int, rounds: int) -> dict[str, Any]:
    workdir = tempfile.mkdtemp(prefix="esmbot-compose-")
    try:
        url = await fresh_database(kind, workdir, PG_NAME)
        began = time.perf_counter()
        await seed(url, tickets)
        seeded = round(time.perf_counter() - began, 1)
        return {"seed_seconds": seeded, **await measure(url, tickets, rounds)}
    finally:
        await drop_database(kind, PG_NAME)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="rounds of each kind")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = {kind: asyncio.run(run(kind, args.tickets, args.requests)) for kind in kinds}
    print(json.dumps({"tickets": args.tickets, "results": results}, indent=2))


if __name__ == "__main__":
    main()
