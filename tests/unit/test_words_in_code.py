"""No sentence a user reads is written in the commands' or the Teams code: it is in the words."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot/commands", "bot/teams")
# The calls whose arguments become what a user reads.
REPLYING = frozenset(
    {
        "Reply",
        "Pressed",
        "CommandError",
        "UsageError",
        "text",  # MessageFactory.text
        "send_activity",
        "update_activity",
        "reply_activity",
    }
)
# A word of a sentence: not a {placeholder}, not part of a /command, a path or a key.
_WORD = re.compile(r"(?<![{\w./-])[A-Za-z][a-z]+(?:'[a-z]+)?(?![\w}/(-])")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
# Sentences in code that are allowed there, by file and text; none so far.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


def _is_sentence(text: str) -> bool:
    return len(_WORD.findall(_PLACEHOLDER.sub(" ", text))) >= 3


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _literals(node: ast.AST) -> Iterator[ast.Constant]:
    """The string constants in an expression, also the fixed parts of f-strings."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub


def _constant_values(node: ast.AST) -> Iterator[ast.Constant]:
    """The strings a module-level constant holds directly (in a literal, not in a call)."""
    if isinstance(node, ast.Constant | ast.JoinedStr):
        yield from _literals(node)
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for element in node.elts:
            yield from _constant_values(element)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _constant_values(value)
    elif isinstance(node, ast.BinOp):
        yield from _constant_values(node.left)
        yield from _constant_values(node.right)


def sentences(source: str) -> list[tuple[int, str]]:
    """Sentences (three words or more) in reply-building calls and in module constants."""
    tree = ast.parse(source)
    found: dict[int, tuple[int, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node) in REPLYING:
            arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
            for argument in arguments:
                for literal in _literals(argument):
                    found[id(literal)] = (literal.lineno, literal.value)
    for statement in tree.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value is not None:
            for literal in _constant_values(statement.value):
                found[id(literal)] = (literal.lineno, literal.value)
    return sorted((line, text) for line, text in found.values() if _is_sentence(text))


def test_no_user_facing_sentence_is_written_in_code():
    written = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for folder in SCANNED
        for path in sorted((ROOT / folder).glob("*.py"))
        for line, text in sentences(path.read_text())
        if (str(path.relative_to(ROOT)), text) not in ALLOWED
    ]
    assert not written, "put these in templates/messages/i18n/*.toml:\n" + "\n".join(written)


@pytest.mark.parametrize(
    "source",
    [
        'WELCOME = "Hello {name}, I am the service desk assistant."',
        '_EMPTY = {"all": "No open tickets. Enjoy the quiet."}',
        'return Reply(f"{key} is yours now, said the bot.")',
        'raise CommandError("That outage would be over already.")',
        'await turn_context.send_activity(MessageFactory.text("Please try again later."))',
    ],
)
def test_the_scan_finds_a_sentence_in_each_place_one_was_written(source):
    assert sentences(source), source


@pytest.mark.parametrize(
    "source",
    [
        'log.warning("could not update the pressed card", extra={"a": 1})',
        'raise CommandError("commands.error.unknown_ticket", key=key)',
        'Command(name="note", example="/note SR-1 Customer runs the 2019 payment plugin")',
        'return Reply(words.t("commands.queue.heading", title=title))',
        '_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}-[0-9]{1,12}$")',
    ],
)
def test_the_scan_leaves_keys_log_messages_and_typed_examples_alone(source):
    assert not sentences(source), source
