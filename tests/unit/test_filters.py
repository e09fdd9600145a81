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


def test_long_texts_are_answered_but_not_kept():
    """Kept answers stay small: a 20,000-character description is worked out, not remembered."""
    from bot.notify import filters

    long = "Der Drucker druckt nicht. " * 800
    caches = [filters._clean_text, filters._clip_text, filters._plain_text, filters._md_text]
    before = [cache.cache_info().currsize for cache in caches]

    answers = (clean(long), clip(long, 300), plain(long, 80), md(long), md(long, 300))

    assert [cache.cache_info().currsize for cache in caches] == before
    assert answers[0] == long.strip() and answers[1].endswith("…") and len(answers[2]) == 80
    assert answers[3] == md(_Str(long)) and answers[4] == md(_Str(long), 300)
    clean("Printer")
    assert filters._clean_text.cache_info().currsize >= 1
