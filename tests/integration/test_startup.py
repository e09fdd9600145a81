"""`python -m bot serve` starts by saying where it listens, refuses what it must not serve with,
warns about what is open, and then keeps quiet while idle."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import SCHEDULER, create_app
from bot.coordination import record_handled
from bot.logs import configure_logging
from tests.integration.serving import ROOT, environment, free_port

APP = {"MicrosoftAppId": "00000000-0000-0000-0000-00000000beef", "MicrosoftAppPassword": "pw"}
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _start(tmp_path: Path, port: int, **extra: str) -> subprocess.Popen[str]:
    environ = environment(tmp_path, PORT=str(port), PYTHONPATH=str(ROOT), **extra)
    environ.pop("HOST", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=environ,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def _served(port: int, process: subprocess.Popen[str], within: float = 20.0) -> list[str]:
    """Waits for /healthz on loopback, stops the bot and returns its log lines."""
    deadline = time.monotonic() + within
    up = False
    try:
        while not up and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    up = True
            except OSError:
                time.sleep(0.1)
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=15)
    assert up, f"the bot did not serve /healthz on 127.0.0.1:{port}: {err}"
    return err.splitlines()


def test_the_first_line_says_where_it_listens_and_local_mode_stays_on_loopback(tmp_path):
    port = free_port()

    lines = _served(port, _start(tmp_path, port, LOG_FORMAT=""))

    # Not a terminal: JSON lines, the first of them saying where the bot is.
    first = json.loads(lines[0])
    assert first["msg"] == (
        f"esmbot listening on http://127.0.0.1:{port} — local mode, "
        f"SQLite {tmp_path / 'cli.db'}, the example organisation (no esmbot.toml)"
    )
    warnings = [json.loads(line)["msg"] for line in lines if '"warning"' in line]
    assert any("/api/events/jira takes events from anyone" in w for w in warnings), warnings
    assert not any("beyond loopback" in w for w in warnings)


def test_outside_local_mode_without_tenants_start_up_stops_naming_the_key(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=ROOT,
        env=environment(tmp_path, **APP),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "[organisation].tenants is required when MicrosoftAppId is set" in result.stderr
    assert "Traceback" not in result.stderr


def test_with_the_apps_tenant_it_serves_and_names_the_jira_webhook_refused(tmp_path):
    port = free_port()

    lines = _served(port, _start(tmp_path, port, MicrosoftAppTenantId=TENANT, **APP))

    assert json.loads(lines[0])["msg"].startswith(
        f"esmbot listening on http://0.0.0.0:{port} — app {APP['MicrosoftAppId']}, SQLite"
    )
    warnings = [json.loads(line)["msg"] for line in lines if '"warning"' in line]
    assert any(
        w.startswith("/api/events/jira is refused: set JIRA_WEBHOOK_SECRET") for w in warnings
    )


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """The process's logging as `serve` configures it, into a buffer; restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    chatty = {name: logging.getLogger(name).level for name in ("apscheduler", "alembic")}
    buffer = io.StringIO()
    configure_logging("INFO", "json", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], root.level = handlers, level
        for name, previous in chatty.items():
            logging.getLogger(name).setLevel(previous)


async def test_an_idle_bot_logs_nothing_at_info(
    aiohttp_client, settings, organisation, database, connector, logged
):
    app = create_app(settings, organisation)
    async with database.transaction() as session:
        # The leader's jobs have run already: nothing is due, as on most minutes of a day.
        for job in app[SCHEDULER].jobs.values():
            await record_handled(
                session, name=job.record, moment=datetime(2100, 1, 1, tzinfo=UTC), holder="earlier"
            )

    await aiohttp_client(app)
    async with asyncio.timeout(10):  # the sweep and the lease both run as the scheduler starts
        while True:
            if app[SCHEDULER].is_leader:
                break
            await asyncio.sleep(0.02)
    # A second pass waits for the first one's look at the jobs; stopping lets the sweep finish.
    await app[SCHEDULER].renew_lease()
    await app[SCHEDULER].stop()

    assert logged.getvalue() == ""
