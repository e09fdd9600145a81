"""`python -m bot serve` with ESMBOT_WORKERS: several processes serve one port, one that dies is
replaced, and SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.serving import free_port, serve


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _until(condition: Callable[[], Any], within: float = 20.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def test_workers_share_the_port_a_dead_one_is_replaced_and_sigterm_stops_all(tmp_path):
    port = free_port()
    parent = serve(tmp_path, port, ESMBOT_WORKERS="2")
    try:
        workers = _until(lambda: len(_children(parent.pid)) == 2 and _children(parent.pid))
        assert workers and len(workers) == 2, "two serving processes did not start"
        assert _until(lambda: _healthy(port)), "the port was not served"

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = _until(
            lambda: (now := _children(parent.pid)) and len(now) == 2 and victim not in now and now
        )
        assert replaced and victim not in replaced and len(replaced) == 2
        assert all(_healthy(port) for _ in range(20))  # whoever the kernel hands each to
    finally:
        parent.terminate()
        _out, err = parent.communicate(timeout=30)

    assert parent.returncode == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in replaced), "a worker outlived it"
    assert '"msg": "a serving process ended"' in err
    assert "Traceback" not in err
    assert "Unclosed" not in err and "was never awaited" not in err
