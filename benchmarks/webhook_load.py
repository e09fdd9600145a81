"""Load benchmark: Jira webhooks posted to a running esmbot (or the floor server) over loopback.

Run: .venv/bin/python benchmarks/webhook_load.py [--database sqlite|postgresql] [--target esmbot|floor]
The server runs in its own process; this process only sends requests and measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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

from benchmarks.databases import KINDS, drop_database, fresh_database  # noqa: E402
from benchmarks.processes import cpu_seconds, free_port, reference_for, wait_ready  # noqa: E402
from tests import jira_payloads as jp  # noqa: E402

DATABASE = "esmbot_bench"


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
    target: str, database_url: str, port: int, workdir: str, connections: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FLOOR_POOL_SIZE": str(connections),
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
    # The log goes to a file: a pipe nobody reads until the end fills, and the server then
    # stops at its next line.
    log = open(os.path.join(workdir, "server.log"), "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=log)


async def seed_recipients(database_url: str, service_url: str) -> None:
    """Lena has a 1:1 chat and the agents' channel is bound: events then render their cards.

    Their messages go to a connector double at `service_url`, at the pace Teams allows.
    """
    from bot.db import Database
    from bot.demo.activities import TeamsUser, channel_conversation_id
    from bot.directory.models import AudienceBinding, Conversation, Person

    user = TeamsUser.named("Lena Learner", "lena.learner@esmos.example")
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            lena = Person(name=user.name, email=user.email, teams_user_id=user.id, locale="en-US")
            session.add(lena)
            await session.flush()
            chat = reference_for(service_url, user)
            agents = reference_for(service_url, user, channel="agents")
            channel = Conversation(
                conversation_id=channel_conversation_id("agents"),
                scope="channel",
                service_url=service_url,
                reference=agents,
            )
            session.add_all(
                [
                    Conversation(conversation_id=chat["conversation"]["id"], scope="personal",
                                 service_url=service_url, reference=chat, person_id=lena.id),
                    channel,
                ]
            )  # fmt: skip
            await session.flush()
            session.add(AudienceBinding(audience="agents", conversation_id=channel.id))
    finally:
        await database.close()


def start_connector(port: int, workdir: str) -> subprocess.Popen[bytes]:
    script = str(ROOT / "benchmarks" / "connector_server.py")
    return subprocess.Popen(
        [sys.executable, script, "--port", str(port)],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def run(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as workdir:
        database_url = await fresh_database(args.database, workdir, DATABASE)
        connector = None
        if args.recipients:
            connector_port = free_port()
            connector = start_connector(connector_port, workdir)
            await wait_ready(f"http://127.0.0.1:{connector_port}/bench/stats")
            await seed_recipients(database_url, f"http://127.0.0.1:{connector_port}/")
        port = free_port()
        server = start_server(args.target, database_url, port, workdir, args.connections)
        try:
            await wait_ready(f"http://127.0.0.1:{port}/healthz")
            path = "/api/events/jira" if args.target == "esmbot" else "/insert"
            bodies = payloads(args.events + args.warmup)
            await load(f"http://127.0.0.1:{port}{path}", bodies[: args.warmup], args.connections)
            cpu, own = cpu_seconds(server.pid), time.process_time()
            elapsed, latencies, statuses = await load(
                f"http://127.0.0.1:{port}{path}", bodies[args.warmup :], args.connections
            )
            cpu, own = cpu_seconds(server.pid) - cpu, time.process_time() - own
        finally:
            server.terminate()
            server.wait(timeout=20)
            err = Path(workdir, "server.log").read_bytes()  # noqa: ASYNC240 - the run is over
            if connector is not None:
                connector.terminate()
                connector.wait(timeout=20)
            await drop_database(args.database, DATABASE)
        if any(status >= 300 for status in statuses):
            raise RuntimeError(f"errors during the run: {statuses}\n{err.decode()[-2000:]}")
    latencies.sort()
    return {
        "target": args.target,
        "database": args.database,
        "connections": args.connections,
        "recipients": args.recipients,
        "events": len(latencies),
        "events_per_second": round(len(latencies) / elapsed),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        # What one event costs the server, whatever else the machine was doing meanwhile.
        "server_cpu_ms_per_event": round(cpu / len(latencies) * 1000, 3),
        "load_cpu_ms_per_event": round(own / len(latencies) * 1000, 3),
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=KINDS, default="sqlite")
    parser.add_argument("--target", choices=["esmbot", "floor"], default="esmbot")
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=600)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--recipients",
        action="store_true",
        help="seed the reporter's chat and the agents' channel, so that events render cards",
    )
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
