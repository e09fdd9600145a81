"""The floor: botbuilder's stock CloudAdapter echo bot, as Microsoft's aiohttp sample builds it.

Run: .venv/bin/python benchmarks/echo_bot.py --port 3979
It binds to 127.0.0.1, runs without an app id (no tokens, as esmbot in the benchmark) and answers
every message with its own text.
"""

from __future__ import annotations

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.integration import aiohttp_error_middleware
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from processes import serve_on_port  # the script runs from benchmarks/


class Config:
    """The settings the sample reads; empty credentials mean an unauthenticated local bot."""

    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(turn_context.activity.text))


def create_app() -> web.Application:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    return app


if __name__ == "__main__":
    serve_on_port(create_app, __doc__)
