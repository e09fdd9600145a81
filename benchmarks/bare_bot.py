"""The ceiling: no bot at all, only aiohttp answering each activity with a fixed reply.

Run: .venv/bin/python benchmarks/bare_bot.py --port 3979
It reads the activity, posts one text reply to its conversation at the service URL through one
kept client session, and answers 200: what any bot in Python on this machine, with the same
customers and connector double beside it, cannot beat.
"""

from __future__ import annotations

import json

import aiohttp
from aiohttp import web
from processes import serve_on_port  # the script runs from benchmarks/


def create_app() -> web.Application:
    app = web.Application()
    sessions: list[aiohttp.ClientSession] = []

    async def keep_session(_app: web.Application):  # type: ignore[no-untyped-def]
        sessions.append(aiohttp.ClientSession())
        yield
        await sessions[0].close()

    async def messages(request: web.Request) -> web.Response:
        activity = json.loads(await request.read())
        conversation = activity["conversation"]["id"]
        reply = {
            "type": "message",
            "text": activity.get("text", ""),
            "replyToId": activity["id"],
            "conversation": activity["conversation"],
            "from": activity["recipient"],
            "recipient": activity["from"],
        }
        url = (
            f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{conversation}"
            f"/activities/{activity['id']}"
        )
        async with sessions[0].post(url, json=reply) as response:
            await response.read()
        return web.Response(status=200)

    app.cleanup_ctx.append(keep_session)
    app.router.add_post("/api/messages", messages)
    return app


if __name__ == "__main__":
    serve_on_port(create_app, __doc__)
