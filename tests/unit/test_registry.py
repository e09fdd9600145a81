"""The command registry: parsing with quotes, usage on mistakes, suggestions, role checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.commands import build_registry
from bot.commands.registry import Command, CommandError, Registry, Reply, UsageError, argument
from bot.notify.render import Renderer
from bot.notify.views import Reader

MESSAGES = Path(__file__).resolve().parents[2] / "templates" / "messages"
ENGLISH = Renderer(MESSAGES, "en", "Europe/Berlin").phrases(Reader(locale="en-GB"))
GERMAN = Renderer(MESSAGES, "en", "Europe/Berlin").phrases(Reader(locale="de-DE"))


async def _noop(context, args):
    return Reply("ok")


def registry() -> Registry:
    return Registry(
        [
            Command(
                name="reply",
                example='/reply SR-1 "Thanks, on it"',
                run=_noop,
                roles=frozenset({"agents"}),
                arguments=(argument("key"), argument("text", nargs="+")),
            )
        ]
    )


def test_quotes_keep_words_together():
    command, args = registry().parse('/reply SR-1 "two words" three')

    assert command.name == "reply"
    assert args.key == "SR-1" and args.text == ["two words", "three"]


def test_the_slash_is_optional_and_case_does_not_matter():
    command, _ = registry().parse("REPLY SR-1 hi")

    assert command.name == "reply"


def test_missing_arguments_give_the_usage_line():
    with pytest.raises(UsageError) as raised:
        registry().parse("/reply")

    assert raised.value.said(ENGLISH) == (
        "the following arguments are required: key, text\nUsage: /reply key text [text ...]"
    )
    assert raised.value.said(GERMAN) == (
        "Es fehlen Angaben: key, text\nAufruf: /reply key text [text ...]"
    )


def test_unknown_command_suggests_the_closest():
    with pytest.raises(CommandError) as raised:
        registry().parse("/repyl SR-1 x")

    assert "Did you mean /reply?" in raised.value.said(ENGLISH)
    assert "Meinten Sie /reply?" in raised.value.said(GERMAN)


def test_an_unrelated_word_gets_no_wild_guess():
    with pytest.raises(CommandError) as raised:
        registry().parse("/zzzz")

    assert "Did you mean" not in raised.value.said(ENGLISH)


@pytest.mark.parametrize(
    ("typed", "english", "german"),
    [
        ("/reply SR-1 x", None, None),
        ("/reply", "the following arguments are required: key, text", "Es fehlen Angaben"),
        ("/pick red", "argument colour: invalid choice: 'red'", "„red“ passt nicht zu colour"),
        ("/pick blue extra", "unrecognized arguments: extra", "verstehe ich hier nicht: extra"),
    ],
)
def test_each_kind_of_argparse_complaint_is_said_in_the_readers_language(typed, english, german):
    # argparse speaks English only: its complaints are recognised and said again from the words,
    # so a change of its wording shows up here rather than as English in a German answer.
    reg = registry()
    reg.register(
        Command(
            name="pick",
            example="/pick blue",
            run=_noop,
            arguments=(argument("colour", choices=("blue", "green")),),
        )
    )
    if english is None:
        reg.parse(typed)
        return
    with pytest.raises(UsageError) as raised:
        reg.parse(typed)

    assert english in raised.value.said(ENGLISH)
    assert german in raised.value.said(GERMAN)
    assert raised.value.problem[0] != "commands.usage.unfit"


def test_roles_decide_who_may_run_a_command():
    command = registry().get("reply")

    assert command.allows(frozenset({"agents"}))
    assert not command.allows(frozenset())
    assert not command.allows(frozenset({"key_users"}))


def test_a_command_declared_twice_is_a_programming_error():
    with pytest.raises(ValueError, match="declared twice"):
        Registry([registry().get("reply"), registry().get("reply")])


def test_looks_like_command_needs_a_slash_or_a_known_word():
    reg = build_registry()

    assert reg.looks_like_command("/anything")
    assert reg.looks_like_command("subscribe vendor")
    assert not reg.looks_like_command("checkout fails with an error")
    assert not reg.looks_like_command("")
