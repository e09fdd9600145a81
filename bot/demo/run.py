"""`python -m bot demo`: plays the scripted scenes against the real bot and prints what each saw."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import time as clock_time
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from bot.app import DATABASE, SCHEDULER, create_app
from bot.config import Settings, load_organisation
from bot.db import Database, utcnow
from bot.demo.cards import card_lines
from bot.demo.connector import ConnectorDouble, Recorded
from bot.demo.script import (
    CAST,
    CHANNELS,
    SCENES,
    STORIES,
    CastMember,
    Channel,
    NotOnScreen,
    Scene,
    Teams,
    TimePasses,
    conversation_labels,
    played_stories,
)
from bot.migrate import upgrade
from bot.notify.models import OutboxMessage
from bot.notify.outbox import PENDING, SENDING
from scheduler.runner import SchedulerRunner

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "esmbot.example.toml"
WIDTH = 100
INDENT = "    "
REPLY_WITHIN = 5.0  # seconds; the bot answers in milliseconds, so this only catches a hang
# The stories begin on a working morning, after Ms. Learner first noticed her problem at 9:30.
STARTS_AT = clock_time(10, 0)


class DemoFailed(Exception):
    """The bot did not behave as the script expects; the message says at which step."""


class DemoClock:
    """The bot's time: it runs as the wall clock does, from `start`, and jumps when told."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - utcnow()

    def __call__(self) -> datetime:
        return utcnow() + self._offset

    def advance(self, amount: timedelta) -> None:
        self._offset += amount


def _next_monday_morning(zone: tzinfo, now: datetime) -> datetime:
    """The coming Monday at STARTS_AT in `zone`: the same story on every run, whatever the day.

    Never before `now`: the outbox stamps its rows with the wall clock, and a row is only sent
    once the bot's clock has reached that stamp.
    """
    local = now.astimezone(zone)
    days = (7 - local.weekday()) % 7 or 7
    monday = datetime.combine(local.date() + timedelta(days=days), STARTS_AT, zone)
    return monday.astimezone(UTC)


@dataclass(frozen=True)
class Stage:
    """What the steps are played on: the bot, its clock, Teams' side and the reader's labels."""

    http: aiohttp.ClientSession
    database: Database
    sweep: Callable[[], Awaitable[None]]
    clock: DemoClock
    connector: ConnectorDouble
    labels: dict[str, str]  # conversation id -> who reads it
    names: dict[str, str]  # Teams user id -> how the stories call them


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
            database_url = f"sqlite+inline:///{Path(folder) / 'demo.db'}"
            await upgrade(database_url)
            settings = Settings(database_url=database_url, log_level="WARNING", log_format="text")
            clock = DemoClock(_next_monday_morning(organisation.time_zone, utcnow()))
            # The scenes sweep when they say time passes; a timer would sweep at random moments.
            app = create_app(settings, organisation, clock=clock, schedule=False)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            try:
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                port = runner.addresses[0][1]
                _header(out, port, cast, scenes, clock().astimezone(organisation.time_zone))
                async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
                    stage = Stage(
                        http=http,
                        database=app[DATABASE],
                        sweep=partial(_sweep_once, app[SCHEDULER]),
                        clock=clock,
                        connector=connector,
                        labels=labels,
                        names={member.user.id: member.label for member in cast},
                    )
                    for number, scene in enumerate(scenes, start=1):
                        await _play_scene(stage, number, scene, out)
            finally:
                # Closes the app's database before its folder is removed.
                await runner.cleanup()
    finally:
        await connector.close()
    _record(out, connector.changes(), labels)
    out.write(f"\nPlayed {len(scenes)} scenes in {time.monotonic() - started:.1f} s. ")
    out.write("To chat with esmbot yourself: make playground (see README.md).\n")


async def _sweep_once(scheduler: SchedulerRunner) -> None:
    # In a task of its own: the scheduler remembers the task a sweep ran in and waits for it
    # when it stops, and this one would be the whole demo.
    await asyncio.create_task(scheduler.sweep())


def _header(
    out: TextIO, port: int, cast: Sequence[CastMember], scenes: Sequence[Scene], now: datetime
) -> None:
    played = played_stories(scenes)
    title = f"esmbot demo: stories {_listed(played)} of SCENARIOS.md, played against the real bot"
    out.write(f"{title}\n{'=' * len(title)}\n")
    missing = [story for story in STORIES if story not in played]
    if missing:
        out.write(f"Not played yet: stories {_listed(missing)}.\n\n")
    _paragraph(
        out,
        f"esmbot listens on http://127.0.0.1:{port}/api/messages with a throwaway SQLite "
        "database and the example organisation (esmbot.example.toml). Teams is played by an "
        "in-process double of Microsoft's Bot Connector: nothing leaves this machine. esmbot's "
        f"clock starts on {now:%A %d %B %Y at %H:%M} ({now.tzinfo}) and jumps ahead where a "
        "scene says time passes.",
    )
    out.write("\nThe cast:\n")
    width = max(len(member.label) for member in cast)
    for member in cast:
        line = f"{member.label:<{width}}  {member.role} ({member.user.email})"
        _paragraph(out, line, INDENT, INDENT + " " * (width + 2))


def _listed(numbers: Sequence[int]) -> str:
    words = [str(number) for number in numbers]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


async def _play_scene(stage: Stage, number: int, scene: Scene, out: TextIO) -> None:
    heading = f"{number}. {scene.title}"
    out.write(f"\n{heading}\n{'-' * len(heading)}\n")
    _paragraph(out, scene.intro)
    out.write("\n")
    connector = stage.connector
    for step in scene.steps:
        who = stage.names.get(step.who.id, step.who.name) if step.who else ""
        description = step.does.describe(who)
        _paragraph(out, description, "", INDENT)
        before = len(connector.changes())
        own: set[str] = set()
        if isinstance(step.does, TimePasses):
            stage.clock.advance(step.does.amount)
            await stage.sweep()
        else:
            if step.who is None:
                raise DemoFailed(f'"{description}": nobody to do it')
            try:
                activities = step.does.activities(step.who, Teams(connector.url, connector.shown()))
            except NotOnScreen as error:
                raise DemoFailed(f'"{description}": {error}') from None
            for activity in activities:
                await _post(stage.http, "/api/messages", activity, description)
            own = {activity["conversation"]["id"].split(";")[0] for activity in activities}
        try:
            await connector.wait_for(before + step.replies, within=REPLY_WITHIN, redraws=True)
        except AssertionError:
            raise DemoFailed(
                f'"{description}" should have made esmbot send or redraw {step.replies} '
                f"message(s) within {REPLY_WITHIN:g} s, and it did {len(connector.changes()) - before}"
            ) from None
        # Whatever else the step set off goes out now, so that it is shown with this step.
        await _delivered(stage.database, description)
        for message in connector.changes()[before:]:
            verb = " redraws a card" if message.operation == "update" else ""
            place = "" if message.conversation_id in own else f" in {_where(stage.labels, message)}"
            line = f"esmbot{verb}{place}: {' '.join(_fallback(message).split())}"
            out.write(
                INDENT + textwrap.shorten(line, WIDTH - len(INDENT), placeholder=" ...") + "\n"
            )


async def _delivered(database: Database, description: str) -> None:
    """Waits until the outbox has nothing left to deliver."""
    deadline = time.monotonic() + REPLY_WITHIN
    while True:
        async with database.transaction() as session:
            waiting = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_((PENDING, SENDING)))
            )
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise DemoFailed(f'esmbot still had {waiting} message(s) to send after "{description}"')
        await asyncio.sleep(0.02)


async def _post(
    http: aiohttp.ClientSession, path: str, body: dict[str, Any], description: str
) -> None:
    async with http.post(path, json=body) as response:
        if response.status >= 300:
            text = (await response.text())[:300]
            raise DemoFailed(f'esmbot refused "{description}" with HTTP {response.status}: {text}')


def _record(out: TextIO, messages: Sequence[Recorded], where: dict[str, str]) -> None:
    """Every message the bot sent or redrew, grouped by the conversation that got it, in order."""
    title = "What each stakeholder saw"
    out.write(f"\n{title}\n{'=' * len(title)}\n")
    grouped: dict[str, list[Recorded]] = {}
    for message in messages:
        grouped.setdefault(_where(where, message), []).append(message)
    for label, received in grouped.items():
        out.write(f"\n{label}\n")
        numbers: dict[str | None, int] = {}
        for number, message in enumerate(received, start=1):
            first = f"{INDENT}{number}. "
            rest = " " * len(first)
            lines = _fallback(message).splitlines() or [""]
            shown = lines[0].split("] ", 1)[-1]
            if message.operation == "update":
                # Teams shows the card in place of the earlier one; the earlier one is history.
                replaced = numbers.get(message.activity_id)
                lines[0] = lines[0].replace("[card]", f"[card, in place of {replaced}.]", 1)
            else:
                numbers[message.posted_id] = number
            for index, line in enumerate(lines):
                _paragraph(out, line, first if index == 0 else rest, rest)
            for card in _cards(message):
                # What is on a card matters, and its summary alone would hide it; a first line
                # that only repeats the summary is left out.
                on_card = card_lines(card)
                for line in on_card[1:] if on_card[:1] == [shown] else on_card:
                    _paragraph(out, line, rest + INDENT, rest + INDENT)


def _where(labels: dict[str, str], message: Recorded) -> str:
    return labels.get(message.conversation_id, message.conversation_id)


def _cards(message: Recorded) -> list[dict[str, Any]]:
    return [
        attachment["content"]
        for attachment in message.body.get("attachments") or []
        if isinstance(attachment.get("content"), dict)
    ]


def _fallback(message: Recorded) -> str:
    """What a person reads: the text, or for a card the summary Teams shows in its place."""
    body = message.body
    cards = _cards(message)
    if cards:
        shown = next(iter(card_lines(cards[0])), "")
        return f"[card] {body.get('summary') or body.get('text') or shown or '(no text)'}"
    return str(body.get("text") or "")


def _paragraph(out: TextIO, text: str, first: str = "", rest: str = "") -> None:
    wrapped = textwrap.wrap(
        text, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    )
    out.write("\n".join(wrapped or [first.rstrip()]) + "\n")
