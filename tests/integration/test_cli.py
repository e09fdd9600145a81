"""`python -m bot` as an operator runs it: serve, migrate, check, and refuse a bad configuration."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

from tests.integration.serving import ROOT, environment, free_port, serve


def test_serve_answers_healthz_within_15_seconds_and_stops_cleanly(tmp_path):
    port = free_port()
    process = serve(tmp_path, port)
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
    assert "esmbot listening on http://127.0.0.1:" in err


def test_a_bad_configuration_stops_start_up_naming_the_key(tmp_path):
    config = tmp_path / "esmbot.toml"
    config.write_text('[organisation]\ntime_zone = "Mars/Olympus"\n')

    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=ROOT,
        env=environment(tmp_path, ESMBOT_CONFIG=str(config)),
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
    environ = environment(tmp_path)

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
