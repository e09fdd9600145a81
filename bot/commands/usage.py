"""What argparse found wrong with a command's arguments, as a phrase the asker's language has.

argparse says it in English only; its few messages for positional arguments are matched here
and said again from the words, and any other message gets the plain "does not fit" phrase.
"""

from __future__ import annotations

import re

_KNOWN = (
    ("required", re.compile(r"^the following arguments are required: (?P<names>.+)$")),
    ("unrecognized", re.compile(r"^unrecognized arguments: (?P<words>.+)$")),
    (
        "choice",
        re.compile(
            r"^argument (?P<argument>[^:]+): invalid choice: '(?P<value>.*)' "
            r"\(choose from (?P<choices>.+)\)$"
        ),
    ),
)


def problem_of(message: str) -> tuple[str, dict[str, str]]:
    """The phrase key (under commands.usage) and parameters for argparse's message."""
    for kind, pattern in _KNOWN:
        found = pattern.match(message.strip())
        if found:
            return f"commands.usage.{kind}", found.groupdict()
    return "commands.usage.unfit", {}
