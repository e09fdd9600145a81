"""Customer-turn benchmark: "status SR-n" typed in the 1:1 chat, until esmbot's reply reaches the connector double.

Run: .venv/bin/python benchmarks/customer_turn.py [--database sqlite|postgresql]
         [--target both|esmbot|floor|bare] [--turns 2000] [--concurrency 1 16] [--think 0]
Three processes on 127.0.0.1: the connector double (`bot/demo/connector.py`, which also knows
each customer's roster entry and notes when each reply arrives), the bot (esmbot's `create_app`,
or the floor: botbuilder's stock CloudAdapter echo bot, `echo_bot.py`, or the ceiling: a bare
aiohttp handler posting a fixed reply, `bare_bot.py`) and this one, the
customers. Each customer is their own Teams user in their own 1:1 chat with their own ticket, and
types the next message once the bot has answered the last (a closed loop; `--think S` has them
pause S seconds on average first, as people do). The latency is from sending the activity to the
reply's arrival at the double (both read the same monotonic clock); the throughput is the turns the bot finished per second. `--profile FILE` runs the bot under
cProfile and writes its figures to FILE.esmbot (or FILE.floor) when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from databases import KINDS, drop_database, fresh_database  # noqa: E402
from processes import cpu_seconds, free_port  # noqa: E402

PG_NAME = "esmbot_bench_customer_turn"
ORGANISATION = ROOT / "esmbot.example.toml"
SCRIPT = str(Path(__file__).resolve())


def people(count: int) -> list[Any]:
    from bot.demo.activities import TeamsUser

    return [
        TeamsUser.named(f"Customer {n}", f"customer{n}@bench.esmos.example")
        for n in range(1, count + 1)
    ]


# The connector double's process.


async def serve_connector(port: int, customers: int) -> None:
    from aiohttp import web

    from bot.demo.connector import ConnectorDouble

    double = ConnectorDouble()
    for user in people(customers):
        double.add_member(
            user.id, name=user.name, email=user.email, aad_object_id=user.aad_object_id
        )
    arrivals: dict[str, float] = {}

    @web.middleware
    async def stamp(request: web.Request, handler: Any) -> web.StreamResponse:
        arrived = time.monotonic()
        response = await handler(request)
        answered = request.match_info.get("activity")
        if request.method == "POST" and answered and response.status < 300:
            arrivals[answered] = arrived
        # Nothing here reads the recorded calls; dropping them keeps this process small.
        double.calls.clear()
        return response

    async def collect(_request: web.Request) -> web.Response:
        taken = dict(arrivals)
        arrivals.clear()
        return web.json_response(taken)

    double.app.middlewares.append(stamp)
    double.app.router.add_get("/bench/arrivals", collect)
    await double.start("127.0.0.1", port)
    try:
        await asyncio.Event().wait()
    finally:
        await double.close()


# esmbot's process.


def serve_esmbot(port: int, database_url: str) -> None:
    from aiohttp import web

    from bot.app import create_app
    from bot.config import Settings, load_organisation
    from bot.heap import freeze_startup_heap
    from bot.logs import configure_logging

    configure_logging("WARNING", "text")
    settings = Settings(database_url=database_url, host="127.0.0.1", port=port, log_level="WARNING")
    organisation = load_organisation(ORGANISATION)

    # Only the turn is measured: no outbox delivery or sweeps running beside it.
    app = create_app(settings, organisation, dispatch=False, schedule=False)
    app.on_startup.append(freeze_startup_heap)  # as `python -m bot serve` does
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, shutdown_timeout=5)


# The customers' process.


async def wait_listening(port: int, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


async def post(http: aiohttp.ClientSession, url: str, activity: dict[str, Any]) -> None:
    async with http.post(url, json=activity) as response:
        body = await response.read()
        if response.status >= 300:
            raise RuntimeError(f"the bot answered {response.status}: {body[:500]!r}")


async def seed(
    http: aiohttp.ClientSession, bot_url: str, service_url: str, users: list[Any], database: str
) -> dict[str, str]:
    """Installs the app for every customer (esmbot learns them as in Teams, roster included),
    then opens a ticket for each through esmbot's own ticket actions; returns user id → key."""
    from sqlalchemy import select

    from bot.app import TEMPLATES
    from bot.config import load_organisation
    from bot.db import Database, utcnow
    from bot.demo.activities import installation_update
    from bot.directory.models import Person
    from bot.notify.compose import Notifier
    from bot.notify.render import Renderer
    from bot.tickets.actions import TicketActions
    from bot.tickets.system import Draft, LocalStore

    for user in users:
        await post(http, bot_url, installation_update(user, service_url))
    organisation = load_organisation(ORGANISATION)
    renderer = Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone)
    db = Database(database)
    try:
        actions = TicketActions(
            database=db,
            system=LocalStore(),
            organisation=organisation,
            clock=utcnow,
            notifier=Notifier(renderer, organisation),
        )
        keys = {}
        for user in users:
            async with db.transaction() as session:
                person = await session.scalar(select(Person).where(Person.teams_user_id == user.id))
            if person is None or not person.email:
                raise RuntimeError(f"esmbot did not learn {user.name} from the installation")
            draft = Draft(
                summary=f"The label printer on floor {len(keys) + 1} jams",
                description="Every second label comes out crumpled.",
                module="OpenCart shop",
                impact="I cannot ship parcels.",
            )
            keys[user.id] = (await actions.open(draft, reporter=person)).ticket_key
        return keys
    finally:
        await db.close()


async def turns(
    http: aiohttp.ClientSession,
    bot_url: str,
    service_url: str,
    users: list[Any],
    keys: dict[str, str],
    count: int,
    think: float = 0.0,
) -> tuple[dict[str, tuple[str, float]], float]:
    """Each customer asks about their ticket, again and again, until `count` turns are done,
    pausing `think` seconds on average (exponentially distributed) after each answer; returns
    who sent each activity and when, and how long all of them took."""
    from bot.demo.activities import personal_message

    sent: dict[str, tuple[str, float]] = {}
    left = count
    pauses = random.Random(len(users))  # the same pauses for esmbot and the floor

    async def customer(user: Any) -> None:
        nonlocal left
        while left > 0:
            left -= 1
            activity = personal_message(user, f"status {keys[user.id]}", service_url)
            sent[activity["id"]] = (user.id, time.monotonic())
            await post(http, bot_url, activity)
            if think > 0:
                await asyncio.sleep(pauses.expovariate(1 / think))

    began = time.monotonic()
    await asyncio.gather(*(customer(user) for user in users))
    return sent, time.monotonic() - began


async def phase(
    http: aiohttp.ClientSession,
    urls: tuple[str, str],
    users: list[Any],
    keys: dict[str, str],
    args: argparse.Namespace,
    pids: tuple[int, int],
) -> dict[str, Any]:
    bot_url, service_url = urls
    await turns(http, bot_url, service_url, users, keys, args.warmup)
    await arrivals(service_url)
    # The bot's CPU, and the harness's own (this process and the connector double), which
    # shares the machine's cores with the bot.
    bot_pid, connector_pid = pids
    cpu, harness = cpu_seconds(bot_pid), _harness_cpu(connector_pid)
    sent, elapsed = await turns(http, bot_url, service_url, users, keys, args.turns, args.think)
    cpu, harness = cpu_seconds(bot_pid) - cpu, _harness_cpu(connector_pid) - harness
    arrived = await arrivals(service_url)
    missing = [activity for activity in sent if activity not in arrived]
    if missing:
        raise RuntimeError(f"{len(missing)} turns got no reply at the double")
    waits: dict[str, list[float]] = {}
    for activity, (user, began) in sent.items():
        waits.setdefault(user, []).append(arrived[activity] - began)
    latencies = sorted(wait for each in waits.values() for wait in each)
    # How evenly the customers are served: the quickest and the slowest one's median.
    medians = sorted(statistics.median(each) for each in waits.values())
    return {
        "customers": len(users),
        "think_seconds": args.think,
        "turns": len(latencies),
        "turns_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "customer_p50_ms": [round(medians[0] * 1000, 1), round(medians[-1] * 1000, 1)],
        "bot_cpu_ms_per_turn": round(cpu / len(latencies) * 1000, 2),
        "harness_cpu_ms_per_turn": round(harness / len(latencies) * 1000, 2),
    }


def _harness_cpu(connector_pid: int) -> float:
    own = os.times()
    return own.user + own.system + cpu_seconds(connector_pid)


async def arrivals(service_url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as http, http.get(f"{service_url}bench/arrivals") as answer:
        return dict(await answer.json())


def start(command: list[str], workdir: str, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    # A file, not a pipe: a process that logs a lot must not stall on a full pipe.
    with open(os.path.join(workdir, f"{name}.log"), "wb") as log:
        return subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=log)


def stop(
    process: subprocess.Popen[bytes] | None, workdir: str, name: str, how: int = signal.SIGINT
) -> str:
    """Interrupts the process as Ctrl-C would (so a profiler writes its file); returns its log."""
    if process is None:
        return ""
    process.send_signal(how)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with open(os.path.join(workdir, f"{name}.log"), "rb") as log:
        return log.read().decode(errors="replace")


async def measure(target: str, args: argparse.Namespace) -> dict[str, Any]:
    users = people(max(args.concurrency))
    with tempfile.TemporaryDirectory() as workdir:
        connector_port, bot_port = free_port(), free_port()
        service_url = f"http://127.0.0.1:{connector_port}/"
        bot_url = f"http://127.0.0.1:{bot_port}/api/messages"
        customers = ["--customers", str(len(users))]
        connector = start(
            [sys.executable, SCRIPT, "connector", "--port", str(connector_port), *customers],
            workdir,
            "connector",
        )
        bot = None
        database = None
        try:
            await wait_listening(connector_port)
            runner = [sys.executable]
            if args.profile:
                runner += ["-m", "cProfile", "-o", f"{args.profile}.{target}"]
            if target == "esmbot":
                database = await fresh_database(args.database, workdir, PG_NAME)
                command = [SCRIPT, "esmbot", "--port", str(bot_port), "--database-url", database]
            else:
                script = "echo_bot.py" if target == "floor" else "bare_bot.py"
                command = [str(ROOT / "benchmarks" / script), "--port", str(bot_port)]
            bot = start(runner + command, workdir, "bot")
            await wait_listening(bot_port)
            connector_limit = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector_limit) as http:
                if target == "esmbot":
                    keys = await seed(http, bot_url, service_url, users, database)
                else:
                    keys = {user.id: f"SR-{n}" for n, user in enumerate(users, 1)}
                figures = [
                    await phase(
                        http,
                        (bot_url, service_url),
                        users[:c],
                        keys,
                        args,
                        (bot.pid, connector.pid),
                    )
                    for c in args.concurrency
                ]
        finally:
            errors = stop(bot, workdir, "bot")
            # Not SIGINT: a shell that runs this in the background starts it with SIGINT
            # ignored, and the double would then be waited for until the timeout.
            stop(connector, workdir, "connector", signal.SIGTERM)
            if database is not None and args.database == "postgresql":
                await drop_database(args.database, PG_NAME)
    logged = [line for line in errors.splitlines() if "Traceback" in line or "ERROR" in line]
    return {
        "target": target,
        "database": args.database if target == "esmbot" else None,
        "phases": figures,
        "bot_errors": logged[:5],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load = os.getloadavg()
    targets = ["esmbot", "floor"] if args.target == "both" else [args.target]
    results = [await measure(target, args) for target in targets]
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "load_average_at_start": [round(value, 2) for value in load],
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "results": results,
    }
    if len(results) == 2:
        ours, floor = (result["phases"] for result in results)
        report["throughput_ratio"] = {
            str(a["customers"]): round(a["turns_per_second"] / b["turns_per_second"], 2)
            for a, b in zip(ours, floor, strict=True)
        }
    return report


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "connector":
        role = argparse.ArgumentParser()
        role.add_argument("--port", type=int, required=True)
        role.add_argument("--customers", type=int, required=True)
        options = role.parse_args(sys.argv[2:])
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_connector(options.port, options.customers))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "esmbot":
        role = argparse.ArgumentParser()
        role.add_argument("--port", type=int, required=True)
        role.add_argument("--database-url", required=True)
        options = role.parse_args(sys.argv[2:])
        serve_esmbot(options.port, options.database_url)
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=KINDS, default="sqlite")
    parser.add_argument("--target", choices=["both", "esmbot", "floor", "bare"], default="both")
    parser.add_argument("--turns", type=int, default=2000, help="measured turns per phase")
    parser.add_argument("--warmup", type=int, default=200, help="turns before each phase")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a customer pauses after each answer (0: types again at once)",
    )
    parser.add_argument("--profile", help="run the bot under cProfile, writing to FILE.<target>")
    args = parser.parse_args()
    args.profile = os.path.abspath(args.profile) if args.profile else None
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
