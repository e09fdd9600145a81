"""The template filters give the same text whether a str's answer was worked out or kept."""

from __future__ import annotations

import pytest
from jinja2 import StrictUndefined
from jinja2.exceptions import UndefinedError

from bot.notify.filters import clean, clip, md, plain, to_json

TEXTS = [
    "",
    "   ",
    "SR-1",
    "Drucker «kaputt» 🖨️",
    "line one\r\nline two\rline three\tand a tab",
    "\u202eevil\u202c SR-1 \x00\x07\ufeff",
    "**bold** _it_ [link](https://x.example) <at>Alex</at> `code` ~strike~ {{DATE()}} #1 |a|",
    "&amp; &#169; & plain",
    "1. first\n- second\n+ third\n= fourth\n  2. indented",
    "a, ]} trailing-looking text",
    "x" * 500,
    "word " * 120,
]
LIMITS = [None, 0, 1, 5, 40, 300]


class _Str(str):
    """A str that is not exactly str: the filters work it out every time (the reference)."""


@pytest.mark.parametrize("text", TEXTS)
def test_a_kept_answer_is_the_worked_out_one(text: str) -> None:
    for _ in range(2):  # the second round reads what the first kept
        assert clean(text) == clean(_Str(text))
        assert to_json(text) == to_json(_Str(text))
        for limit in LIMITS:
            assert md(text, limit) == md(_Str(text), limit)
            assert plain(text, limit) == plain(_Str(text), limit)
            if limit is not None:
                assert clip(text, limit) == clip(_Str(text), limit)


def test_equal_keys_of_other_types_do_not_share_an_answer() -> None:
    assert md("1") == "1" and md(1) == "1"
    assert md("True") == "True" and md(True) == "True"
    assert md("1.0") == md(1.0) == "1\\.0"
    assert clip("x" * 400, 300) == "x" * 299 + "…"
    with pytest.raises(TypeError):
        clip("x" * 400, 300.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        md("x" * 400, 300.0)  # type: ignore[arg-type]


def test_undefined_values_still_fail() -> None:
    md("name")
    with pytest.raises(UndefinedError):
        md(StrictUndefined(name="name"))
    with pytest.raises(UndefinedError):
        to_json(StrictUndefined(name="name"))
