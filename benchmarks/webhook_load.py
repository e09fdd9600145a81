"""Load benchmark: Jira webhooks posted to a running esmbot (or the bare floor server) over loopback.

Run: .venv/bin/python benchmarks/webhook_load.py [--database sqlite|postgresql] [--target esmbot|floor]
The server runs in its own process; this process only sends requests and measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import jira_payloads as jp  # noqa: E402

PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def payloads(count: int) -> list[bytes]:
    """A realistic mix: each issue is created, then moved and commented on."""
    start = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    reporter = jp.user("Lena Learner", account_id="acc-lena", email="lena.learner@esmos.example")
    agent = jp.user("Alex Agent", account_id="acc-alex")
    bodies = []
    number = 0
    while len(bodies) < count:
        number += 1
        issue = jp.issue(f"SR-{number}", reporter=reporter)
        at = start + timedelta(seconds=number)
        bodies.append(jp.created(issue, at=at))
        bodies.append(
            jp.moved(issue, "To Do", "In Progress", at=at + timedelta(minutes=1), by=agent)
        )
        bodies.append(
            jp.comment(
                issue,
                "On it",
                at=at + timedelta(minutes=2),
                author=agent,
                comment_id=str(90000 + number),
            )
        )
    return [json.dumps(body).encode() for body in bodies[:count]]


async def wait_ready(url: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server at {url} did not come up")


async def load(
    url: str, bodies: list[bytes], connections: int
) -> tuple[float, list[float], dict[int, int]]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                began = time.perf_counter()
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as response:
                    await response.read()
                latencies.append(time.perf_counter() - began)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return elapsed, latencies, statuses


def start_server(
    target: str, database_url: str, port: int, workdir: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    command = (
        [sys.executable, "-m", "bot", "serve"]
        if target == "esmbot"
        else [sys.executable, str(ROOT / "benchmarks" / "floor_server.py")]
    )
    return subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def fresh_postgres(name: str) -> str:
    from sqlalchemy import text

    from bot.db import create_engine

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", pool_size=1)
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


async def run(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as workdir:
        if args.database == "sqlite":
            database_url = f"sqlite+aiosqlite:///{workdir}/bench.db"
        else:
            database_url = await fresh_postgres("esmbot_bench")
        if args.target == "esmbot":
            from bot.migrate import upgrade

            await upgrade(database_url)
        port = free_port()
        server = start_server(args.target, database_url, port, workdir)
        try:
            await wait_ready(f"http://127.0.0.1:{port}/healthz")
            path = "/api/events/jira" if args.target == "esmbot" else "/insert"
            bodies = payloads(args.events + args.warmup)
            await load(f"http://127.0.0.1:{port}{path}", bodies[: args.warmup], args.connections)
            elapsed, latencies, statuses = await load(
                f"http://127.0.0.1:{port}{path}", bodies[args.warmup :], args.connections
            )
        finally:
            server.terminate()
            _out, err = server.communicate(timeout=20)
        if any(status >= 300 for status in statuses):
            raise RuntimeError(f"errors during the run: {statuses}\n{err.decode()[-2000:]}")
    latencies.sort()
    return {
        "target": args.target,
        "database": args.database,
        "connections": args.connections,
        "events": len(latencies),
        "events_per_second": round(len(latencies) / elapsed),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--target", choices=["esmbot", "floor"], default="esmbot")
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=600)
    parser.add_argument("--connections", type=int, default=16)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
