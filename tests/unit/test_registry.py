"""The command registry: parsing with quotes, usage on mistakes, suggestions, role checks."""

from __future__ import annotations

import pytest

from bot.commands import build_registry
from bot.commands.registry import Command, CommandError, Registry, Reply, UsageError, argument


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

    assert "Usage: /reply key text [text ...]" in str(raised.value)


def test_unknown_command_suggests_the_closest():
    with pytest.raises(CommandError, match=r"Did you mean /reply\?"):
        registry().parse("/repyl SR-1 x")


def test_an_unrelated_word_gets_no_wild_guess():
    with pytest.raises(CommandError) as raised:
        registry().parse("/zzzz")

    assert "Did you mean" not in str(raised.value)


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
