"""What every benchmark needs to run its parts as processes on loopback: ports, readiness, references."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp


def cpu_seconds(pid: int) -> float:
    """The CPU time, user and system, a process has used so far, read from /proc."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(url: str, within: float = 30) -> None:
    """Returns once `url` answers 200; a server that does not come up ends the run."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server at {url} did not come up")


def reference_for(service_url: str, user: Any, *, channel: str | None = None) -> dict[str, Any]:
    """The reference esmbot stores for this chat, made by the same code as for a real install."""
    from botbuilder.schema import Activity

    from bot.demo.activities import installation_update
    from bot.teams.sightings import conversation_sighting

    activity = Activity().deserialize(installation_update(user, service_url, channel=channel))
    return conversation_sighting(activity).reference


def serve_on_port(create_app: Callable[[], Any], description: str | None) -> None:
    """Runs a bot of the harness on 127.0.0.1 at the port its command line names."""
    from aiohttp import web

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    web.run_app(create_app(), host="127.0.0.1", port=port, print=None, access_log=None)
