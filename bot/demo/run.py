"""`python -m bot demo`: plays the scripted scenes against the real bot and prints what each saw."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from aiohttp import web

from bot.app import create_app
from bot.config import Settings, load_organisation
from bot.demo.connector import ConnectorDouble, Recorded
from bot.demo.script import (
    CAST,
    CHANNELS,
    SCENES,
    CastMember,
    Channel,
    Scene,
    conversation_labels,
)
from bot.migrate import upgrade

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "esmbot.example.toml"
WIDTH = 100
INDENT = "    "
REPLY_WITHIN = 5.0  # seconds; the bot answers in milliseconds, so this only catches a hang


class DemoFailed(Exception):
    """The bot did not behave as the script expects; the message says at which step."""


def run_demo(out: TextIO = sys.stdout) -> int:
    """Plays every scene on a fresh bot and database; 0 when all went as scripted, else 1."""
    with _quiet_logging():
        try:
            asyncio.run(play(SCENES, CAST, CHANNELS, out))
        except DemoFailed as error:
            out.write(f"\nThe demo stopped: {error}\n")
            return 1
        except BrokenPipeError:
            # The reader left early (`| head`); the demo itself went fine.
            _silence(out)
    return 0


def _silence(out: TextIO) -> None:
    """Points a closed stdout at /dev/null, so that Python's last flush does not fail too."""
    if out is sys.stdout:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


@contextmanager
def _quiet_logging() -> Iterator[None]:
    # The bot logs every turn at INFO; here the conversation is the output, not the log.
    # msrest warns about every channelData field Teams sends that botbuilder's models do not
    # declare (teamsTeamId, eventType…): harmless, and it would bury the demo.
    levels = {"": logging.WARNING, "msrest.serialization": logging.ERROR}
    loggers = {name: logging.getLogger(name) for name in levels}
    previous = {name: logger.level for name, logger in loggers.items()}
    for name, logger in loggers.items():
        logger.setLevel(levels[name])
    try:
        yield
    finally:
        for name, logger in loggers.items():
            logger.setLevel(previous[name])


async def play(
    scenes: Sequence[Scene], cast: Sequence[CastMember], channels: Sequence[Channel], out: TextIO
) -> None:
    """Serves the real app on a loopback port and drives it through the scenes."""
    started = time.monotonic()
    labels = conversation_labels(cast, channels)
    organisation = load_organisation(EXAMPLE_CONFIG)
    connector = ConnectorDouble()
    await connector.start()
    try:
        for member in cast:
            user = member.user
            connector.add_member(
                user.id, name=user.name, email=user.email, aad_object_id=user.aad_object_id
            )
        with tempfile.TemporaryDirectory(prefix="esmbot-demo-") as folder:
            database_url = f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}"
            await upgrade(database_url)
            settings = Settings(database_url=database_url, log_level="WARNING", log_format="text")
            runner = web.AppRunner(create_app(settings, organisation), access_log=None)
            await runner.setup()
            try:
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                port = runner.addresses[0][1]
                _header(out, port, cast)
                async with aiohttp.ClientSession() as http:
                    endpoint = f"http://127.0.0.1:{port}/api/messages"
                    for number, scene in enumerate(scenes, start=1):
                        await _play_scene(
                            http, endpoint, connector, cast, labels, number, scene, out
                        )
            finally:
                # Closes the app's database before its folder is removed.
                await runner.cleanup()
    finally:
        await connector.close()
    _record(out, connector.sent(), labels)
    out.write(f"\nPlayed {len(scenes)} scenes in {time.monotonic() - started:.1f} s. ")
    out.write("To chat with esmbot yourself: make playground (see README.md).\n")


def _header(out: TextIO, port: int, cast: Sequence[CastMember]) -> None:
    title = "esmbot demo: the stories of SCENARIOS.md, played against the real bot"
    out.write(f"{title}\n{'=' * len(title)}\n")
    _paragraph(
        out,
        f"esmbot listens on http://127.0.0.1:{port}/api/messages with a throwaway SQLite "
        "database and the example organisation (esmbot.example.toml). Teams is played by an "
        "in-process double of Microsoft's Bot Connector: nothing leaves this machine.",
    )
    out.write("\nThe cast:\n")
    width = max(len(member.label) for member in cast)
    for member in cast:
        line = f"{member.label:<{width}}  {member.role} ({member.user.email})"
        _paragraph(out, line, INDENT, INDENT + " " * (width + 2))


async def _play_scene(
    http: aiohttp.ClientSession,
    endpoint: str,
    connector: ConnectorDouble,
    cast: Sequence[CastMember],
    where: dict[str, str],
    number: int,
    scene: Scene,
    out: TextIO,
) -> None:
    heading = f"{number}. {scene.title}"
    out.write(f"\n{heading}\n{'-' * len(heading)}\n")
    _paragraph(out, scene.intro)
    out.write("\n")
    labels = {member.user.id: member.label for member in cast}
    for step in scene.steps:
        description = step.does.describe(labels.get(step.who.id, step.who.name))
        _paragraph(out, description, "", INDENT)
        before = len(connector.sent())
        activities = step.does.activities(step.who, connector.url)
        for activity in activities:
            await _post(http, endpoint, activity, description)
        try:
            sent = await connector.wait_for(before + step.replies, within=REPLY_WITHIN)
        except AssertionError:
            raise DemoFailed(
                f'"{description}" should have made esmbot send {step.replies} message(s) '
                f"within {REPLY_WITHIN:g} s, and it sent {len(connector.sent()) - before}"
            ) from None
        own = {activity["conversation"]["id"].split(";")[0] for activity in activities}
        for message in sent[before:]:
            place = "" if message.conversation_id in own else f" in {_where(where, message)}"
            line = f"esmbot{place}: {' '.join(_fallback(message).split())}"
            out.write(
                INDENT + textwrap.shorten(line, WIDTH - len(INDENT), placeholder=" ...") + "\n"
            )


async def _post(
    http: aiohttp.ClientSession, endpoint: str, activity: dict[str, Any], description: str
) -> None:
    async with http.post(endpoint, json=activity) as response:
        if response.status >= 300:
            body = (await response.text())[:300]
            raise DemoFailed(f'esmbot refused "{description}" with HTTP {response.status}: {body}')


def _record(out: TextIO, messages: Sequence[Recorded], where: dict[str, str]) -> None:
    """Every message the bot sent, grouped by the conversation that received it, in order."""
    title = "What each stakeholder saw"
    out.write(f"\n{title}\n{'=' * len(title)}\n")
    grouped: dict[str, list[Recorded]] = {}
    for message in messages:
        grouped.setdefault(_where(where, message), []).append(message)
    for label, received in grouped.items():
        out.write(f"\n{label}\n")
        for number, message in enumerate(received, start=1):
            first = f"{INDENT}{number}. "
            rest = " " * len(first)
            for index, line in enumerate(_fallback(message).splitlines() or [""]):
                _paragraph(out, line, first if index == 0 else rest, rest)


def _where(labels: dict[str, str], message: Recorded) -> str:
    return labels.get(message.conversation_id, message.conversation_id)


def _fallback(message: Recorded) -> str:
    """What a person reads: the text, or for a card the summary Teams shows in its place."""
    body = message.body
    if body.get("attachments"):
        return f"[card] {body.get('summary') or body.get('text') or '(no text)'}"
    return str(body.get("text") or "")


def _paragraph(out: TextIO, text: str, first: str = "", rest: str = "") -> None:
    wrapped = textwrap.wrap(
        text, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    )
    out.write("\n".join(wrapped or [first.rstrip()]) + "\n")
