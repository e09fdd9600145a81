"""The fan-out floor: the simplest program that sends one message to each of N chats within Teams' limits.

Run: .venv/bin/python benchmarks/fanout_floor.py --service-url URL --customers N --channel ID
         [--tag TEXT] [--rate 30]
It uses no esmbot code and no database: one aiohttp session posts a fixed text to the chats
`a:bench-0` … `a:bench-(N-1)` and to the channel, one at a time, and starts a send only once
the one `rate` sends before it was answered a second ago; a 429 is sent again after its
Retry-After. It prints what it
did and its own peak memory and CPU time as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from collections import deque

import aiohttp


async def send_all(service_url: str, conversations: list[str], text: str, rate: int) -> int:
    """Sends `text` to every conversation in order; returns how many 429s it was answered."""
    throttled = 0
    # When the last `rate` sends were answered: a send starts a second after the oldest of them
    # was answered, so no second at Teams' end, however late a send arrives, holds more.
    answered: deque[float] = deque(maxlen=rate)
    async with aiohttp.ClientSession() as session:
        for conversation in conversations:
            url = f"{service_url.rstrip('/')}/v3/conversations/{conversation}/activities"
            body = {"type": "message", "text": text}
            while True:
                if len(answered) == rate:
                    await asyncio.sleep(max(0.0, answered[0] + 1.0 - time.monotonic()))
                async with session.post(url, json=body) as response:
                    await response.read()
                answered.append(time.monotonic())
                if response.status != 429:
                    response.raise_for_status()
                    break
                throttled += 1
                await asyncio.sleep(float(response.headers.get("Retry-After", 1)))
    return throttled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--service-url", required=True)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--channel", required=True, help="the management channel's conversation")
    parser.add_argument("--tag", default="", help="put in the text, so the double knows the run's")
    parser.add_argument("--rate", type=int, default=30, help="sends per second at most")
    args = parser.parse_args()
    conversations = [*(f"a:bench-{n}" for n in range(args.customers)), args.channel]
    text = f"Planned outage of the OpenCart shop {args.tag}: Saturday 20:00–23:00."
    began = time.monotonic()
    throttled = asyncio.run(send_all(args.service_url, conversations, text, args.rate))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "sent": len(conversations),
                "throttled_429": throttled,
                "seconds": round(time.monotonic() - began, 1),
                "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
