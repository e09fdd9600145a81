"""`python -m bot serve` with ESMBOT_WORKERS: several processes serve one port, one that dies is
replaced, and SIGTERM stops them all."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.serving import ROOT, free_port, serve


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
        assert all(_healthy(port) for _ in range(20))  # whichever worker each is dealt to
    finally:
        parent.terminate()
        _out, err = parent.communicate(timeout=30)

    assert parent.returncode == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in replaced), "a worker outlived it"
    assert '"msg": "a serving process ended"' in err
    assert "Traceback" not in err
    assert "Unclosed" not in err and "was never awaited" not in err


def test_a_second_stop_signal_leaves_each_workers_shutdown_whole(tmp_path):
    # Ctrl-C and service managers signal the whole group; the parent then signals its
    # workers again. Each must still shut its app down in full.
    port = free_port()
    parent = serve(tmp_path, port, ESMBOT_WORKERS="2", LOG_LEVEL="INFO")
    try:
        assert _until(lambda: len(_children(parent.pid)) == 2), "two workers did not start"
        assert _until(lambda: _healthy(port)), "the port was not served"
        os.killpg(parent.pid, signal.SIGTERM)
    finally:
        _out, err = parent.communicate(timeout=30)

    assert parent.returncode == 0
    assert err.count('"msg": "stopped cleanly"') == 2, err[-2000:]
    assert "Traceback" not in err


def test_workers_end_with_their_parent_even_when_it_is_killed(tmp_path):
    port = free_port()
    parent = serve(tmp_path, port, ESMBOT_WORKERS="2")
    try:
        workers = _until(lambda: len(_children(parent.pid)) == 2 and _children(parent.pid))
        assert workers, "two workers did not start"
        assert _until(lambda: _healthy(port)), "the port was not served"
        parent.kill()
        parent.communicate(timeout=10)
        assert _until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers)), (
            "a worker outlived its killed parent"
        )
        assert not _healthy(port)
    finally:
        for pid in workers or ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# Each of the first six workers to start fails at once (as when the database is briefly
# down), every later one serves.
_FLAKY_START = """
import os, sys
from aiohttp import web
from bot.web.workers import serve

def make_app():
    for n in range(6):
        try:
            os.close(os.open(f"{sys.argv[2]}/start-{n}", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            continue
        raise RuntimeError("the database is not up yet")
    app = web.Application()
    app.router.add_get("/healthz", lambda request: web.json_response({"status": "ok"}))
    return app

sys.exit(serve(make_app, host="127.0.0.1", port=int(sys.argv[1]), workers=6))
"""


def test_one_failed_start_of_each_worker_does_not_stop_the_service(tmp_path):
    port = free_port()
    parent = subprocess.Popen(
        [sys.executable, "-c", _FLAKY_START, str(port), str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _until(lambda: _healthy(port)), "the port was not served"
        time.sleep(1.5)  # the six restarts are in; the old count stopped at the fifth
        assert parent.poll() is None, "the parent gave up"
        assert len(_children(parent.pid)) == 6
    finally:
        parent.terminate()
        _out, err = parent.communicate(timeout=30)

    assert parent.returncode == 0
    assert err.count("the database is not up yet") == 6


# Each answer names the process that served it.
_NAMING = """
import os, sys
from aiohttp import web
from bot.web.workers import serve

def make_app():
    app = web.Application()
    app.router.add_get("/healthz", lambda request: web.json_response({"status": "ok"}))
    app.router.add_get("/pid", lambda request: web.Response(text=str(os.getpid())))
    return app

sys.exit(serve(make_app, host="127.0.0.1", port=int(sys.argv[1]), workers=2))
"""


def _served_by(connections: list[http.client.HTTPConnection]) -> Counter[str]:
    for connection in connections:
        connection.request("GET", "/pid")
    return Counter(connection.getresponse().read().decode() for connection in connections)


def _pids_answering(port: int, count: int) -> list[str]:
    """Which process answered each of `count` connections opened one after another; a
    connection that failed is left out."""
    pids = []
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            pids.extend(_served_by([connection]))
        except OSError:
            pass
        finally:
            connection.close()
    return pids


def test_connections_opened_together_are_split_evenly_and_a_dead_worker_loses_none(tmp_path):
    port = free_port()
    parent = subprocess.Popen(
        [sys.executable, "-c", _NAMING, str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        workers = _until(lambda: len(_children(parent.pid)) == 2 and _children(parent.pid))
        assert workers, "two workers did not start"
        # Both serve once each has answered (one connection after another goes to each in turn).
        assert _until(lambda: set(_pids_answering(port, 4)) == {str(pid) for pid in workers})

        # A burst of keep-alive connections, as a client's pool opens them: all connected
        # before any is used, then each used three times.
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(8)]
        for connection in connections:
            connection.connect()
        served = [_served_by(connections) for _ in range(3)]
        for connection in connections:
            connection.close()
        assert served[0] == served[1] == served[2], "a kept-alive connection changed process"
        assert set(served[0]) == {str(pid) for pid in workers}
        assert sorted(served[0].values()) == [4, 4], served[0]

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        assert _until(lambda: victim not in _children(parent.pid), within=5), "not reaped"
        # Every new connection is answered: by the one left (or, once it has started, by the
        # dead one's replacement), none lost to the dead one.
        answers = _pids_answering(port, 20)
        assert len(answers) == 20 and str(victim) not in answers
        assert str(max(workers)) in answers
    finally:
        parent.terminate()
        _out, err = parent.communicate(timeout=30)
    assert parent.returncode == 0
    assert "Traceback" not in err
