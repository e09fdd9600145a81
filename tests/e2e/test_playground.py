"""esmbot in Microsoft 365 Agents Playground: installed, chatted with, mentioned, then proactive."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import ConversationReference
from sqlalchemy import select

from bot.app import DATABASE, TEMPLATES, create_app
from bot.config import Organisation, Settings
from bot.demo.script import picked
from bot.directory.models import Conversation
from bot.notify.render import Renderer
from bot.teams.adapter import create_adapter, create_authentication

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_BIN = ROOT / "playground" / "node_modules" / ".bin" / "agentsplayground"
# One budget for starting the playground and every step after it, so a hang cannot stall CI.
BUDGET_SECONDS = 60.0
LISTENING = re.compile(r"Listening on (\d+)")


@dataclass
class Playground:
    """The running playground: its HTTP API, and what the bot sent as the chat page would show it."""

    url: str
    port: int
    session: aiohttp.ClientSession
    deadline: float
    received: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _seen: dict[str, int] = field(default_factory=dict)

    async def get(self, path: str) -> Any:
        async with asyncio.timeout_at(self.deadline), self.session.get(self.url + path) as response:
            assert response.status == 200, f"GET {path}: {response.status} {await response.text()}"
            return await response.json(content_type=None)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        async with (
            asyncio.timeout_at(self.deadline),
            self.session.post(self.url + path, json=body) as response,
        ):
            text = await response.text()
            assert response.status == 200, f"POST {path}: {response.status} {text}"
            return json.loads(text) if text else None

    async def install(self, conversation_id: str) -> None:
        """What Teams sends when a person adds the app: the playground's own template, unchanged."""
        template = await self.get(
            f"/_internal/v1/customActivities/template?conversationId={conversation_id}&type=install"
        )
        await self.post("/_internal/v1/customActivities", template)

    async def say(self, conversation_id: str, text: str, **extra: Any) -> dict[str, Any]:
        """A message typed by the signed-in user, as the chat page posts it."""
        return await self.post(
            f"/_conversation/v1/conversations/{conversation_id}/messages",
            {"from": {"id": "user-id-0"}, "text": text, "textFormat": "plain", **extra},
        )

    async def pick(self, conversation_id: str, card: dict[str, Any], title: str) -> None:
        """Picks the answer `title` in the card's choice set and presses its Next (Action.Submit),
        as the chat page sends it."""
        content = card["attachments"][0]["content"]
        sent = picked(content, title)
        assert sent is not None, f"the card offers no {title!r}: {content}"
        await self.post(
            "/_conversation/v1/submit",
            {
                "conversation": {"id": conversation_id},
                "from": {"id": "user-id-0"},
                "replyToId": card["messageId"],
                "value": sent,
            },
        )

    async def next_bot_message(self, conversation_id: str) -> dict[str, Any]:
        """The bot's next message in this conversation that this test has not looked at yet."""
        index = self._seen.get(conversation_id, 0)

        def in_conversation() -> list[dict[str, Any]]:
            return [
                event["message"]
                for event in self.received
                if event["actionConversationId"] == conversation_id
            ]

        try:
            async with asyncio.timeout_at(self.deadline), self.arrived:
                await self.arrived.wait_for(lambda: len(in_conversation()) > index)
        except TimeoutError:
            sent = [(e["actionConversationId"], e["message"].get("text")) for e in self.received]
            pytest.fail(f"no new message from the bot reached {conversation_id}; it sent {sent}")
        self._seen[conversation_id] = index + 1
        return in_conversation()[index]

    async def read_stream(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        # The same stream the chat page renders from; it holds messages until a client connects.
        async for frame in ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                continue
            event = json.loads(frame.data)
            if event.get("action") == "createMessage":
                async with self.arrived:
                    self.received.append(event)
                    self.arrived.notify_all()


@pytest.fixture
def playground_command() -> list[str]:
    """The installed playground; without it the test is skipped, except in CI where it must run."""
    missing = []
    if shutil.which("node") is None:
        missing.append("node is not on PATH")
    if not PLAYGROUND_BIN.is_file():
        missing.append(f"{PLAYGROUND_BIN.relative_to(ROOT)} is missing (run make playground-deps)")
    if missing:
        reason = "Agents Playground unavailable: " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI requires it")
        pytest.skip(reason)
    return [str(PLAYGROUND_BIN)]


@dataclass
class RunningBot:
    """esmbot's real application, served on a real socket."""

    app: web.Application
    url: str


@pytest.fixture
async def bot(settings: Settings, organisation: Organisation) -> AsyncIterator[RunningBot]:
    """A real socket rather than aiohttp's test client, since the playground is another process."""
    app = create_app(settings, organisation)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield RunningBot(app=app, url=f"http://127.0.0.1:{runner.addresses[0][1]}")
    finally:
        await runner.cleanup()


@pytest.fixture
async def playground(
    playground_command: list[str],
    bot: RunningBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Playground]:
    # The bot in this process calls the playground's connector on localhost: never via a proxy.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    deadline = asyncio.get_running_loop().time() + BUDGET_SECONDS
    workdir = tmp_path / "playground"
    workdir.mkdir()
    output_path = workdir / "output.txt"
    environ = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none"}
    with _process_group(
        [
            *playground_command,
            "start",
            "-e",
            f"{bot.url}/api/messages",
            "-c",
            "msteams",
            "-p",
            str(_free_port()),
            "--dt",
        ],
        output=output_path,
        cwd=workdir,
        env=environ,
    ) as process:
        # It takes another port when the one asked for is busy, so its own word counts.
        port = await _listening_port(process, output_path, deadline)
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            try:
                async with asyncio.timeout_at(deadline):
                    await _ping(session, url)
                    ws = await session.ws_connect(f"{url}/_ws_conversation/v1/conversations/stream")
            except TimeoutError:
                pytest.fail(f"the playground on port {port} did not answer within the budget")
            chat = Playground(url=url, port=port, session=session, deadline=deadline)
            reader = asyncio.create_task(chat.read_stream(ws))
            try:
                yield chat
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
                await ws.close()


@contextlib.contextmanager
def _process_group(
    command: list[str], *, output: Path, **options: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs a command in its own process group and ends the whole group, whatever happened."""
    with open(output, "wb") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **options,
        )
    try:
        yield process
    finally:
        for sig, grace in ((signal.SIGTERM, 3), (signal.SIGKILL, 3)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _listening_port(process: subprocess.Popen[bytes], output: Path, deadline: float) -> int:
    try:
        async with asyncio.timeout_at(deadline):
            while True:
                found = LISTENING.search(await _read(output))
                if found:
                    return int(found.group(1))
                if process.poll() is not None:
                    break
                await asyncio.sleep(0.05)
    except TimeoutError:
        pass
    pytest.fail(f"the playground did not start: {(await _read(output))[-2000:]}")


async def _read(path: Path) -> str:
    return await asyncio.to_thread(path.read_text, errors="replace")


async def _ping(session: aiohttp.ClientSession, url: str) -> None:
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{url}/_debug/ping") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_bot_talks_to_a_person_in_the_agents_playground(
    playground: Playground, bot: RunningBot, settings: Settings, organisation: Organisation
):
    config = (await playground.get("/_internal/v1/config"))["config"]
    bot_id, bot_name = config["bot"]["id"], config["bot"]["name"]
    personal = config["personalChat"]["id"]
    general = config["teams"][0]["channels"][0]["id"]

    # (a) Adding the app to the personal scope: the welcome appears in the chat.
    await playground.install(personal)
    welcome = await playground.next_bot_message(personal)
    assert welcome["from"]["id"] == bot_id
    card = welcome["attachments"][0]["content"]
    assert f"I'm {bot_name}. I help you describe a problem with {organisation.service}" in str(card)

    # (b) A message the bot cannot place gets the friendly fallback, which says what it can do.
    await playground.say(personal, "ok")
    fallback = (await playground.next_bot_message(personal))["text"]
    assert fallback.startswith("I'm not sure what you mean.") and "my tickets" in fallback

    # (c) A question with fixed answers is an Adaptive Card: an answer picked on it and sent with
    # Next (Action.Submit) is taken; the older card's answer is not taken for the next question.
    await playground.say(personal, "Checkout fails with an error when paying by card")
    kind = await playground.next_bot_message(personal)
    assert kind["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "imBack" not in json.dumps(kind)
    await playground.pick(personal, kind, "Incident")
    area = await playground.next_bot_message(personal)
    assert "Which part of OpenCart is affected?" in json.dumps(area)
    await playground.pick(personal, kind, "Bug")
    retry = (await playground.next_bot_message(personal))["text"]
    assert retry.startswith("Please pick one of the answers"), retry
    await playground.pick(personal, area, "Checkout")
    impact = (await playground.next_bot_message(personal))["text"]
    assert impact.startswith("How does it affect your work?"), impact
    await playground.say(personal, "cancel")
    assert "dropped the new ticket" in (await playground.next_bot_message(personal))["text"]

    # (d) In a channel the bot hears only a mention, and must read the text without it.
    mention = f"<at>{bot_name}</at>"
    posted = await playground.say(
        general,
        f"{mention} help subscribe",
        mentions=[{"mentioned": {"id": bot_id, "name": bot_name}, "text": mention}],
    )
    thread = posted["postConversationId"]
    assert thread.startswith(f"{general};messageid=")
    reply = (await playground.next_bot_message(thread))["text"]
    assert reply.startswith("/subscribe: "), reply
    assert "Usage: /subscribe" in reply

    # (e) Later, unprompted: the stored reference and the real CloudAdapter reach the same chat.
    async with bot.app[DATABASE].transaction() as session:
        stored = await session.scalar(
            select(Conversation.reference).where(Conversation.conversation_id == personal)
        )
    assert stored is not None, "the bot did not remember the personal chat"
    reference = ConversationReference().deserialize(stored)
    assert reference.service_url == f"http://localhost:{playground.port}/_connector"
    renderer = Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone)
    adapter = create_adapter(create_authentication(settings), renderer)
    proactive = "Ticket ESM-1 was updated while you were away."

    async def send(turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(proactive))

    async with asyncio.timeout_at(playground.deadline):
        await adapter.continue_conversation(reference, send, settings.app_id)
    assert (await playground.next_bot_message(personal))["text"] == proactive


PLAYGROUND_CONFIG = ROOT / "playground" / "esmbot.toml"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("organisation", [PLAYGROUND_CONFIG], indirect=True)
async def test_with_the_playground_configuration_its_user_tries_every_side(
    playground: Playground, organisation: Organisation
):
    config = (await playground.get("/_internal/v1/config"))["config"]
    bot_id, bot_name = config["bot"]["id"], config["bot"]["name"]
    personal = config["personalChat"]["id"]
    general, announcements = (channel["id"] for channel in config["teams"][0]["channels"][:2])
    mention = f"<at>{bot_name}</at>"
    mentions = [{"mentioned": {"id": bot_id, "name": bot_name}, "text": mention}]

    # The manager's side: binding the playground's channels, which only a manager may do.
    for channel, audience in ((general, "agents"), (announcements, "management")):
        posted = await playground.say(
            channel, f"{mention} /subscribe {audience}", mentions=mentions
        )
        reply = (await playground.next_bot_message(posted["postConversationId"]))["text"]
        assert reply.startswith(f"This channel now receives the {audience} messages"), reply

    # The agent's side in the user's own 1:1: the desk's queue answers, not the customer chat.
    await playground.say(personal, "/queue")
    queue = await playground.next_bot_message(personal)
    assert queue["text"] == "No open tickets. Enjoy the quiet.", queue
