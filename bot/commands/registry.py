"""The command registry: one declaration per command, parsed with shlex and argparse."""

from __future__ import annotations

import argparse
import difflib
import shlex
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from bot.commands.usage import problem_of
from bot.config import Organisation
from bot.db import Database
from bot.directory.models import Conversation, Person
from bot.errors import EsmbotError
from bot.notify.render import Renderer
from bot.notify.views import Reader
from bot.notify.words import Phrases
from bot.reports.links import ReportLinks
from bot.tickets.actions import TicketActions


@dataclass(frozen=True)
class Reply:
    """What a command answers: text, and optionally an Adaptive Card to show with it."""

    text: str
    card: dict[str, Any] | None = None


@dataclass
class CommandContext:
    """Who runs a command, where and with which roles, and what it may use to do its work.

    `person` and `conversation` are as learned at the start of the turn (read-only copies);
    a command opens its own transaction for what it changes, so that nothing slow (a call to
    Jira) happens while the database is held. `mentions` maps each `@Name` word of the text to
    the person Teams says was mentioned there (by Teams user id, never by the name typed).
    """

    database: Database
    actions: TicketActions
    person: Person
    conversation: Conversation
    roles: frozenset[str]
    organisation: Organisation
    mentions: Mapping[str, Person] = field(default_factory=dict)
    # Signs the links to a report's PDF; None where no web server serves them.
    links: ReportLinks | None = None

    @property
    def renderer(self) -> Renderer:
        """The renderer of the cards esmbot sends, for a command's words and its own cards."""
        notifier = self.actions.notifier
        if notifier is None:
            raise RuntimeError(
                "commands need TicketActions with a notifier: its renderer has the words"
            )
        return notifier.renderer

    @property
    def reader(self) -> Reader:
        """Who reads the answer: in the asker's Teams language; in a channel on the
        organisation's clock, as every card there, and in a 1:1 chat on the asker's own."""
        person = self.person
        zone = person.time_zone if self.conversation.scope == "personal" else None
        return Reader(name=person.name, locale=person.locale, time_zone=zone)

    def phrases(self) -> Phrases:
        """The asker's words: their Teams language where esmbot has words for it, else the
        organisation's default language, as on the cards esmbot sends them."""
        return self.renderer.phrases(self.reader)


class CommandError(EsmbotError):
    """A command cannot be run as typed; its phrase tells the user what to do instead.

    The phrase is a key of the words (templates/messages/i18n) with its parameters, said in
    the asker's language when the answer is written (`said`).
    """

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params

    def said(self, words: Phrases) -> str:
        return words.t(self.key, **self.params)


class UsageError(CommandError):
    """The arguments do not fit the command; the answer says what is wrong and the usage."""

    def __init__(self, name: str, usage: str, problem: str) -> None:
        super().__init__("commands.error.usage", name=name, usage=usage)
        self.problem = problem_of(problem)

    def said(self, words: Phrases) -> str:
        key, params = self.problem
        problem = words.t(key, name=self.params["name"], **params)
        return words.t(self.key, **self.params, problem=problem)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and exiting the process."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog.removeprefix("/"), self._usage_line(), message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        usage = self._usage_line()
        raise UsageError(self.prog.removeprefix("/"), usage, (message or "").strip())

    def _usage_line(self) -> str:
        return self.format_usage().removeprefix("usage: ").strip()


Run = Callable[[CommandContext, argparse.Namespace], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    """One slash-style command: its words, who may use it, and what it does.

    What it does is said in every language under `summary_key` (templates/messages/i18n);
    name, usage and example stay as they are, because they are what people type.
    """

    name: str
    example: str
    run: Run
    roles: frozenset[str] | None = None  # None: everyone may use it
    scopes: frozenset[str] = frozenset({"personal", "channel", "groupChat"})
    arguments: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = ()
    parser: argparse.ArgumentParser = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        parser = _Parser(
            prog=f"/{self.name}",
            add_help=False,
            # One line per usage, however long: chat clients wrap it themselves.
            formatter_class=lambda prog: argparse.HelpFormatter(prog, width=10_000),
        )
        for names, options in self.arguments:
            parser.add_argument(*names, **options)
        object.__setattr__(self, "parser", parser)

    @property
    def summary_key(self) -> str:
        return f"commands.{self.name}.summary"

    @property
    def usage(self) -> str:
        return self.parser.format_usage().removeprefix("usage: ").strip()

    def allows(self, roles: frozenset[str]) -> bool:
        return self.roles is None or bool(self.roles & roles)


def argument(*names: str, **options: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    return names, options


def split_words(text: str) -> list[str]:
    """Words as a shell splits them, but only double quotes group: agents write "we're"."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""  # a backslash in a path or a domain account is just a character
    lexer.commenters = ""
    return list(lexer)


class Registry:
    """All commands by name; it parses a line of text into a command and its arguments."""

    def __init__(self, commands: Iterable[Command] = ()) -> None:
        self._commands: dict[str, Command] = {}
        for command in commands:
            self.register(command)

    def register(self, command: Command) -> None:
        if command.name in self._commands:
            raise ValueError(f"command /{command.name} is declared twice")
        self._commands[command.name] = command

    def __iter__(self) -> Iterator[Command]:
        return iter(sorted(self._commands.values(), key=lambda command: command.name))

    def get(self, name: str) -> Command | None:
        return self._commands.get(name.lower())

    def looks_like_command(self, text: str) -> bool:
        """A leading slash, or (where the bot was addressed) a first word that names a command."""
        words = text.split(maxsplit=1)
        return bool(words) and (words[0].startswith("/") or words[0].lower() in self._commands)

    def parse(self, text: str) -> tuple[Command, argparse.Namespace]:
        try:
            words = split_words(text)
        except ValueError:  # shlex's only complaint here: a quotation mark left open
            raise CommandError("commands.error.unreadable") from None
        if not words:
            raise CommandError("commands.error.empty")
        name = words[0].removeprefix("/").lower()
        command = self._commands.get(name)
        if command is None:
            close = difflib.get_close_matches(name, self._commands, n=1, cutoff=0.6)
            if close:
                raise CommandError(
                    "commands.error.unknown_command_guess", name=name, guess=close[0]
                )
            raise CommandError("commands.error.unknown_command", name=name)
        return command, command.parser.parse_args(words[1:])
