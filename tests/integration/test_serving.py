"""`python -m bot serve` as one process: several may share a port with ESMBOT_REUSE_PORT, and a
second stop signal does not cut the shutdown short."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.serving import free_port, serve


def _until(condition: Callable[[], Any], within: float = 20.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


def _healthy(port: int, path: str = "/healthz") -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _listens(pid: int, port: int) -> bool:
    """Whether the process holds a socket listening on 127.0.0.1:port (read from /proc)."""
    wanted = f"0100007F:{port:04X}"
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in inodes:
                    return True
    return False


def test_two_processes_share_a_port_with_reuse_port_and_one_serves_on_when_the_other_stops(
    tmp_path,
):
    port, own = free_port(), (free_port(), free_port())
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = serve(tmp_path / "a", port, ESMBOT_REUSE_PORT="1", ESMBOT_OWN_PORT=str(own[0]))
    second = None
    try:
        assert _until(lambda: _healthy(port)), "the first process did not serve the port"
        second = serve(tmp_path / "b", port, ESMBOT_REUSE_PORT="1", ESMBOT_OWN_PORT=str(own[1]))
        assert _until(lambda: _listens(second.pid, port) or second.poll() is not None)
        assert second.poll() is None, second.communicate(timeout=10)[1][-2000:]
        assert _listens(first.pid, port)
        # Each one's own counters, on a port of its own.
        assert _until(lambda: _healthy(own[1], "/metrics")), "no metrics on the own port"
        assert _listens(first.pid, own[0]) and _listens(second.pid, own[1])
        assert not _listens(first.pid, own[1]) and not _listens(second.pid, own[0])
        first.terminate()
        first.communicate(timeout=30)
        assert _until(lambda: _healthy(port)), "the second process did not serve on"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.communicate(timeout=30)
    assert first.returncode == 0
    assert second.returncode == 0


def test_a_second_stop_signal_leaves_the_shutdown_whole(tmp_path):
    port = free_port()
    process = serve(tmp_path, port, LOG_LEVEL="INFO")
    try:
        assert _until(lambda: _healthy(port)), "the port was not served"
        # Ctrl-C pressed twice, or a service manager signalling the whole group and then again.
        os.killpg(process.pid, signal.SIGTERM)
        os.killpg(process.pid, signal.SIGINT)
    finally:
        _out, err = process.communicate(timeout=30)

    assert process.returncode == 0, err[-2000:]
    assert '"msg": "stopped cleanly"' in err, err[-2000:]
    assert "Traceback" not in err


def test_a_taken_port_stops_start_up_with_a_clear_message_before_the_app_starts(tmp_path):
    port = free_port()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = serve(tmp_path / "a", port)
    # The second shares the first's database and replica name, as a second start by mistake
    # would: had its dispatcher started, its heartbeat would have replaced the first's.
    shared = {"DATABASE_URL": f"sqlite+inline:///{tmp_path / 'a' / 'cli.db'}"}
    try:
        assert _until(lambda: _healthy(port)), "the first process did not serve the port"
        before = _until(lambda: _heartbeats(tmp_path / "a" / "cli.db"))
        second = serve(tmp_path / "b", port, **shared)
        _out, err = second.communicate(timeout=30)
        after = _heartbeats(tmp_path / "a" / "cli.db")
    finally:
        first.terminate()
        first.communicate(timeout=30)
    assert second.returncode == 1
    assert '"msg": "could not listen"' in err and "address already in use" in err.lower()
    assert "Traceback" not in err
    assert before and after == before, "the second start touched the first's heartbeat"


def _heartbeats(path: Path) -> list[str]:
    """The dispatchers' heartbeat rows: their names, one per start."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(
            "SELECT name FROM coordination WHERE name LIKE 'dispatcher:%' ORDER BY name"
        )
        return [name for (name,) in rows]
