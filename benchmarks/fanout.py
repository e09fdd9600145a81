"""Fan-out benchmark: a planned outage to N customer chats through esmbot's outbox and dispatcher.

Run: .venv/bin/python benchmarks/fanout.py [--target esmbot|floor] [--database sqlite|postgresql]
        [--customers 10000] [--replicas 2]
The connector double (enforcing Teams' limits, answering 429 past them) and the bot
(`python -m bot serve`, one process per replica, all on one database) each run in their own
process on 127.0.0.1; this process seeds the database, starts the broadcast in it, watches its
progress and reads the bots' peak memory. `--target floor` sends the same messages with
`fanout_floor.py` instead. The outage's service name carries a tag of this run, and the double
counts only messages that hold it: whatever else the bot sends meanwhile (a weekly report its
scheduler catches up on) is reported as `others`, not taken for a duplicate.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from databases import KINDS, drop_database, fresh_database  # noqa: E402
from processes import cpu_seconds, free_port, reference_for, wait_ready  # noqa: E402

PG_NAME = "esmbot_bench_fanout"
CEILING = 30.0  # messages per second: Teams' limit for one bot in a tenant
LOCALES = ("en-US", "en-US", "de-DE", "en-GB", "de-AT")
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata")


async def seed(database_url: str, service_url: str, customers: int) -> None:
    """N customers with one personal chat each, and a management channel."""
    from sqlalchemy import insert, select

    from bot.db import Database
    from bot.demo.activities import TENANT_ID, TeamsUser, channel_conversation_id
    from bot.directory.models import AudienceBinding, Conversation, Person

    template = reference_for(service_url, TeamsUser.named("Template", "template@esmos.example"))
    people = [
        {
            "teams_user_id": f"29:bench-{n}",
            "aad_object_id": f"00000000-0000-4000-8000-{n:012d}",
            "name": f"Customer {n}",
            "email": f"customer{n}@esmos.example",
            "tenant_id": TENANT_ID,
            "roles": [],
            "locale": LOCALES[n % len(LOCALES)],
            "time_zone": ZONES[n % len(ZONES)],
        }
        for n in range(customers)
    ]
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            for start in range(0, customers, 1000):
                await session.execute(insert(Person), people[start : start + 1000])
            ids = dict((await session.execute(select(Person.teams_user_id, Person.id))).all())
            chats = []
            for n, person in enumerate(people):
                reference = copy.deepcopy(template)
                reference["user"].update(id=person["teams_user_id"], name=person["name"])
                reference["user"]["aadObjectId"] = person["aad_object_id"]
                reference["conversation"]["id"] = f"a:bench-{n}"
                chats.append(
                    {
                        "conversation_id": f"a:bench-{n}",
                        "scope": "personal",
                        "tenant_id": TENANT_ID,
                        "service_url": service_url,
                        "reference": reference,
                        "person_id": ids[person["teams_user_id"]],
                    }
                )
            for start in range(0, customers, 1000):
                await session.execute(insert(Conversation), chats[start : start + 1000])
            manager = TeamsUser.named("Danielle CTO", "danielle@esmos.example")
            channel = Conversation(
                conversation_id=channel_conversation_id("management"),
                scope="channel",
                tenant_id=TENANT_ID,
                service_url=service_url,
                reference=reference_for(service_url, manager, channel="management"),
            )
            session.add(channel)
            await session.flush()
            session.add(AudienceBinding(audience="management", conversation_id=channel.id))
    finally:
        await database.close()


async def start_broadcast(database_url: str, tag: str) -> tuple[str, float]:
    """Starts the broadcast as the bot would; returns its id and how long the fan-out took."""
    from bot.app import TEMPLATES
    from bot.config import load_organisation
    from bot.db import Database, utcnow
    from bot.notify.broadcast import start_outage_broadcast
    from bot.notify.compose import Notifier
    from bot.notify.render import Renderer
    from bot.notify.views import Outage

    organisation = load_organisation(ROOT / "esmbot.example.toml")
    notifier = Notifier(
        Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone), organisation
    )
    start = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    outage = Outage(f"OpenCart shop {tag}", start, start + timedelta(hours=3), "Database upgrade.")
    database = Database(database_url)
    try:
        began = time.perf_counter()
        async with database.transaction() as session:
            broadcast_id = await start_outage_broadcast(
                session, notifier=notifier, outage=outage, requested_by_person_id=None, now=utcnow()
            )
        return broadcast_id, time.perf_counter() - began
    finally:
        await database.close()


async def watch(database_url: str, broadcast_id: str, within: float) -> tuple[Any, int, float]:
    """Polls the progress until nothing is pending; returns it, the unsent rows, the time."""
    from sqlalchemy import func, select

    from bot.db import Database
    from bot.notify.broadcast import broadcast_progress
    from bot.notify.models import OutboxMessage

    database = Database(database_url)
    began = time.monotonic()
    try:
        while True:
            async with database.transaction() as session:
                progress = await broadcast_progress(session, broadcast_id)
            if progress.finished or time.monotonic() - began > within:
                break
            await asyncio.sleep(2.0)
        async with database.transaction() as session:
            unsent = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status != "sent")
            )
        return progress, int(unsent or 0), time.monotonic() - began
    finally:
        await database.close()


def proc_status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as handle:
        return dict(line.split(":", 1) for line in handle if ":" in line)


async def stats(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}bench/stats") as response:
        return await response.json()


def start(command: list[str], env: dict[str, str], workdir: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def run_esmbot(
    args: argparse.Namespace, connector_url: str, tag: str, env: dict[str, str], workdir: str
) -> dict[str, Any]:
    """Seeds the database, starts the bots, writes the broadcast and waits for its delivery."""
    from bot.notify.replicas import ReplicaSettings

    within = args.customers / CEILING * 2 + 120  # twice the ideal time: a stuck run ends
    database_url = await fresh_database(args.database, workdir, PG_NAME)
    bot_ports = [free_port() for _ in range(args.replicas)]
    bots: list[subprocess.Popen[bytes]] = []
    try:
        seeded = time.perf_counter()
        await seed(database_url, connector_url, args.customers)
        seeded = time.perf_counter() - seeded
        bot_env = {**env, "DATABASE_URL": database_url, "HOST": "127.0.0.1"}
        for port in bot_ports:
            command = [sys.executable, "-m", "bot", "serve"]
            bots.append(start(command, {**bot_env, "PORT": str(port)}, workdir))
        for port in bot_ports:
            await wait_ready(f"http://127.0.0.1:{port}/healthz")
        if len(bots) > 1:  # measure the replicas sharing the limits, not one of them joining
            await asyncio.sleep(ReplicaSettings().settle + ReplicaSettings().interval)
        broadcast_id, enqueue_seconds = await start_broadcast(database_url, tag)
        progress, unsent, wall = await watch(database_url, broadcast_id, within)
        peaks = [int(proc_status(bot.pid)["VmHWM"].split()[0]) / 1024 for bot in bots]
        cpu = sum(cpu_seconds(bot.pid) for bot in bots)
    finally:
        for bot in bots:
            bot.terminate()
        errors = "".join(bot.communicate(timeout=30)[1].decode() for bot in bots)
        await drop_database(args.database, PG_NAME)
    return {
        "database": args.database,
        "replicas": args.replicas,
        "seed_seconds": round(seeded, 1),
        "enqueue_seconds": round(enqueue_seconds, 2),
        "wall_seconds": round(wall, 1),
        "unsent": unsent,
        "progress": progress.as_dict(),
        "peak_rss_mb": round(max(peaks), 1),  # of the largest replica
        "cpu_seconds": round(cpu, 1),  # of all replicas together
        "bot_errors": errors.strip().splitlines()[-5:],
    }


async def run_floor(
    args: argparse.Namespace, connector_url: str, tag: str, env: dict[str, str], workdir: str
) -> dict[str, Any]:
    """Runs the floor to its end; it reports its own memory and CPU time."""
    from bot.demo.activities import channel_conversation_id

    script = str(ROOT / "benchmarks" / "fanout_floor.py")
    command = [sys.executable, script, "--service-url", connector_url,
               "--customers", str(args.customers), "--tag", tag,
               "--channel", channel_conversation_id("management")]  # fmt: skip
    floor = await asyncio.create_subprocess_exec(
        *command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await floor.communicate()
    if floor.returncode != 0:
        raise RuntimeError(f"the floor failed:\n{err.decode()[-2000:]}")
    done = json.loads(out)
    return {
        # From its first send to its last, as esmbot's side is timed: no start-up in it.
        "wall_seconds": round(done["seconds"], 1),
        "unsent": 0,
        "peak_rss_mb": done["peak_rss_mb"],
        "cpu_seconds": done["cpu_seconds"],
    }


async def run(args: argparse.Namespace) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    tag = f"run-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as workdir:
        connector_port = free_port()
        connector_url = f"http://127.0.0.1:{connector_port}/"
        script = str(ROOT / "benchmarks" / "connector_server.py")
        command = [sys.executable, script, "--port", str(connector_port), "--tag", tag]
        connector = start(command, env, workdir)
        try:
            await wait_ready(f"{connector_url}bench/stats")
            target = run_esmbot if args.target == "esmbot" else run_floor
            figures = await target(args, connector_url, tag, env, workdir)
            await asyncio.sleep(1.0)  # a late duplicate would arrive now
            double = await stats(connector_url)
        finally:
            connector.terminate()
            connector.communicate(timeout=30)
    expected = args.customers + 1  # every customer and the management channel
    rate = (double["accepted"] - 1) / double["span_seconds"] if double["span_seconds"] else 0.0
    return {
        "target": args.target,
        "customers": args.customers,
        "delivery_seconds": round(double["span_seconds"], 1),
        "messages_per_second": round(rate, 2),
        "percent_of_ceiling": round(rate / CEILING * 100, 1),
        "busiest_second": double["busiest_second"],
        "throttled_429": double["throttled"],
        "lost": expected - double["conversations"] + figures.pop("unsent"),
        "duplicates": double["accepted"] - double["conversations"],
        "others": double["others"],  # sent meanwhile, not part of this run
        **figures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", choices=["esmbot", "floor"], default="esmbot")
    parser.add_argument("--database", choices=KINDS, default="sqlite")
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--replicas", type=int, default=1, help="bot processes on one database")
    args = parser.parse_args()
    if args.replicas > 1 and args.database != "postgresql":
        parser.error("several replicas share a PostgreSQL database; SQLite has one dispatcher")
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
