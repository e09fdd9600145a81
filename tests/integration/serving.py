"""`python -m bot serve` started as an operator would start it, on a free port, for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This environment without esmbot's settings, on a database of its own in tmp_path."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("Microsoft", "ESMBOT_", "DATABASE_URL"))
    }
    environ.update(
        {
            "DATABASE_URL": f"sqlite+inline:///{tmp_path / 'cli.db'}",
            "LOG_FORMAT": "json",
            **extra,
        }
    )
    return environ


def serve(tmp_path: Path, port: int, **extra: str) -> subprocess.Popen[str]:
    """The bot serving on 127.0.0.1:port, its output kept for the test to read."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=environment(tmp_path, PORT=str(port), HOST="127.0.0.1", PYTHONPATH=str(ROOT), **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a service manager starts it
    )
