"""`python -m bot` as an operator runs it: serve, migrate, check, and refuse a bad configuration."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("Microsoft", "ESMBOT_", "DATABASE_URL"))
    }
    environ.update(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
            "LOG_FORMAT": "json",
            **extra,
        }
    )
    return environ


def test_serve_answers_healthz_within_15_seconds_and_stops_cleanly(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=_environment(tmp_path, PORT=str(port), HOST="127.0.0.1", PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = time.monotonic()
        body = None
        while time.monotonic() - started < 15 and body is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=1
                ) as response:
                    body = response.read().decode()
            except OSError:
                time.sleep(0.2)
        assert body == '{"status": "ok"}', "the bot did not serve /healthz within 15 s"
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=15)
    assert process.returncode in (0, -15)
    assert "Traceback" not in err
    assert "Unclosed" not in err and "was never awaited" not in err
    assert '"msg": "esmbot starting"' in err


def test_a_bad_configuration_stops_start_up_naming_the_key(tmp_path):
    config = tmp_path / "esmbot.toml"
    config.write_text('[organisation]\ntime_zone = "Mars/Olympus"\n')

    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=ROOT,
        env=_environment(tmp_path, ESMBOT_CONFIG=str(config)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert (
        f"{config}: [organisation].time_zone: 'Mars/Olympus' is not an IANA time zone"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_db_upgrade_then_check_reports_no_drift(tmp_path):
    environ = _environment(tmp_path)

    upgrade = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    check = subprocess.run(
        [sys.executable, "-m", "bot", "db", "check"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert upgrade.returncode == 0, upgrade.stderr
    assert (check.returncode, check.stdout.strip()) == (0, "no drift")
