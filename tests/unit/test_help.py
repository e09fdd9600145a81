"""/help in the asker's language: every command's summary and the words around them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from bot.commands import build_registry
from bot.commands.registry import CommandContext
from bot.commands.runner import run_command
from bot.config import Organisation, load_organisation
from bot.config.organisation import ROLES
from bot.directory.models import Conversation, Person
from bot.notify.compose import Notifier
from bot.notify.render import Renderer
from bot.notify.words import load_words
from bot.tickets.actions import TicketActions
from bot.tickets.system import LocalStore

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "templates" / "messages"
WORDS = load_words(MESSAGES / "i18n")
LANGUAGES = ("en", "de")
FRAME = ("intro", "usage", "example", "elsewhere", "unknown")
EVERYONE = frozenset(ROLES)


@pytest.fixture(scope="module")
def organisation() -> Organisation:
    return load_organisation(ROOT / "esmbot.example.toml")


async def ask(
    organisation: Organisation,
    text: str,
    *,
    locale: str | None,
    roles: frozenset[str] = EVERYONE,
    scope: str = "personal",
    default_locale: str | None = None,
) -> str:
    """What /help answers this person, with the app's renderer reached through the notifier."""
    default = default_locale or organisation.default_locale
    renderer = Renderer(MESSAGES, default, organisation.time_zone)
    actions = TicketActions(
        database=cast(Any, None),
        system=LocalStore(),
        organisation=organisation,
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        notifier=Notifier(renderer, organisation),
    )
    context = CommandContext(
        database=cast(Any, None),
        actions=actions,
        person=Person(name="Pat", locale=locale, roles=sorted(roles)),
        conversation=Conversation(conversation_id="c", scope=scope, service_url="https://x"),
        roles=roles,
        organisation=organisation,
    )
    return (await run_command(build_registry(), context, text)).text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_command_has_a_summary_in_every_language(language):
    words = WORDS[language]
    for command in build_registry():
        summary = words.get(command.summary_key)
        assert isinstance(summary, str) and summary.strip(), f"{command.summary_key} in {language}"
    for phrase in FRAME:
        assert isinstance(words.get(f"commands.help.{phrase}"), str), phrase


def test_the_german_summaries_are_translated():
    same = [
        command.name
        for command in build_registry()
        if WORDS["en"][command.summary_key] == WORDS["de"][command.summary_key]
    ]
    assert not same, f"untranslated: {same}"


async def test_help_in_german_lists_the_german_summaries(organisation):
    reply = await ask(organisation, "/help", locale="de-DE")

    lines = reply.split("\n")
    assert lines[0] == "Das können Sie mich fragen:"
    personal = [command for command in build_registry() if "personal" in command.scopes]
    assert lines[1:-1] == [
        f"- {command.usage}: {WORDS['de'][command.summary_key]}" for command in personal
    ]
    assert (
        lines[-1] == "In einem Team-Kanal können Sie außerdem /subscribe, /unsubscribe verwenden."
    )
    for command in build_registry():
        assert str(WORDS["en"][command.summary_key]) not in reply


async def test_help_for_one_command_in_german_keeps_what_is_typed(organisation):
    reply = await ask(organisation, "/help ack", locale="de-DE")

    assert reply == (
        "/ack: Ein Ticket annehmen: die erste Reaktion. Gehört es noch niemandem, "
        "übernehmen Sie es.\nAufruf: /ack key\nBeispiel: /ack SR-1"
    )


async def test_an_unknown_command_is_named_in_german(organisation):
    assert await ask(organisation, "/help /nope", locale="de-AT") == (
        "Den Befehl /nope gibt es nicht."
    )


async def test_english_help_is_as_it_was(organisation):
    customer = await ask(organisation, "/help", locale="en-US", roles=frozenset())
    one = await ask(organisation, "/help subscribe", locale="en-GB")
    unknown = await ask(organisation, "/help nope", locale="en-US")
    everything = await ask(organisation, "/help", locale="en-US")

    assert customer == (
        "Here is what you can ask me:\n- /help [command]: List the commands you can use, or explain one."
    )
    assert one == (
        "/subscribe: Make this channel receive the messages for an audience.\n"
        "Usage: /subscribe {management,vendor,agents}\nExample: /subscribe management"
    )
    assert unknown == "There is no command /nope."
    assert everything.startswith("Here is what you can ask me:\n- /ack key: Acknowledge a ticket")
    assert everything.endswith("\nIn a team channel you can also use /subscribe, /unsubscribe.")


@pytest.mark.parametrize(
    ("locale", "default_locale", "intro"),
    [
        ("fr-FR", "en", "Here is what you can ask me:"),
        ("fr-FR", "de", "Das können Sie mich fragen:"),
        (None, "de", "Das können Sie mich fragen:"),
        ("en-US", "de", "Here is what you can ask me:"),
        ("DE_ch", "en", "Das können Sie mich fragen:"),
    ],
)
async def test_a_language_without_words_gets_the_organisations(
    organisation, locale, default_locale, intro
):
    reply = await ask(organisation, "/help", locale=locale, default_locale=default_locale)

    assert reply.split("\n")[0] == intro


async def test_in_a_channel_the_list_has_the_channel_commands_and_no_pointer(organisation):
    reply = await ask(organisation, "/help", locale="de-DE", scope="channel")

    assert (
        f"- /subscribe {{management,vendor,agents}}: {WORDS['de']['commands.subscribe.summary']}"
        in reply
    )
    assert "Team-Kanal" not in reply


def test_summaries_and_frame_use_no_unknown_placeholders():
    allowed = {"usage": {"usage"}, "example": {"example"}, "elsewhere": {"commands"}}
    allowed["unknown"] = {"name"}
    for language in LANGUAGES:
        for key, phrase in WORDS[language].items():
            if key.startswith("commands.") and (
                key.startswith("commands.help.") or key.endswith(".summary")
            ):
                wanted = allowed.get(key.removeprefix("commands.help."), set())
                assert set(re.findall(r"\{(\w+)\}", str(phrase))) <= wanted, (language, key)
