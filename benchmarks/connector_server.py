"""The connector double in its own process, enforcing Teams' limits, with its tallies at GET /bench/stats.

Run: .venv/bin/python benchmarks/connector_server.py --port 8123 [--tag TEXT]
It binds to 127.0.0.1 only. The stats say how many of the run's messages (those whose body holds
the tag) were accepted, in how many conversations, when the first and last arrived, and how many
other messages came (a report the bot's scheduler sent meanwhile is not the run's), and how many
calls got a 429.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.demo.connector import ConnectorDouble  # noqa: E402

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Tally:
    """Counts accepted messages as they arrive, so the stats never walk the list of calls."""

    def __init__(self, double: ConnectorDouble, tag: str) -> None:
        self.double = double
        self.tag = tag.encode()
        self.accepted = 0
        self.others = 0
        self.conversations: set[str] = set()
        self.first: float | None = None
        self.last: float | None = None
        # The busiest second seen, over accepted messages (the limits keep it at or under 30).
        self._recent: list[float] = []
        self.busiest_second = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        is_send = request.method == "POST" and request.path.endswith("/activities")
        if is_send and response.status < 300:
            now = time.monotonic()
            # The busiest second counts every send, tagged or not: Teams' limit does too.
            self._recent = [t for t in self._recent if t > now - 1.0] + [now]
            self.busiest_second = max(self.busiest_second, len(self._recent))
            self._forget_bodies()
            # The body was read by the double already; aiohttp hands back the same bytes.
            if self.tag not in await request.read():
                self.others += 1
                return response
            self.accepted += 1
            self.conversations.add(request.match_info.get("conversation", ""))
            self.first = now if self.first is None else self.first
            self.last = now
        return response

    def _forget_bodies(self) -> None:
        # The bodies are not needed here; dropping them keeps this process small. Calls
        # interleave, so the last few are cleared rather than assuming which one is ours.
        for call in self.double.calls[-8:]:
            call.body = {}

    async def stats(self, _request: web.Request) -> web.Response:
        span = (self.last - self.first) if self.first and self.last else 0.0
        return web.json_response(
            {
                "accepted": self.accepted,
                "others": self.others,
                "conversations": len(self.conversations),
                "throttled": self.double.throttled,
                "calls": len(self.double.calls),
                "span_seconds": span,
                "busiest_second": self.busiest_second,
            }
        )


async def serve(port: int, tag: str) -> None:
    double = ConnectorDouble(enforce_limits=True)
    tally = Tally(double, tag)
    double.app.middlewares.append(tally.middleware)
    double.app.router.add_get("/bench/stats", tally.stats)
    await double.start("127.0.0.1", port)
    print(double.url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await double.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tag", default="", help="counts only messages whose body holds it")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.tag))


if __name__ == "__main__":
    main()
