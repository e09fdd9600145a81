"""The [problems] table of esmbot.toml: read with its defaults, and every mistake named."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import parse_organisation
from bot.config.problem_rules import ProblemRules
from bot.errors import ConfigError


def test_without_the_table_the_defaults_hold():
    assert parse_organisation({}).problems == ProblemRules()


def test_the_table_is_read():
    rules = parse_organisation(
        {
            "problems": {
                "every": "2 minutes",
                "window": "1 hour",
                "history_weeks": 4,
                "min_count": 6,
                "false_alarm": 0.01,
                "similarity": 0.6,
                "resolve_linked": True,
            }
        }
    ).problems

    assert (rules.every, rules.window) == (timedelta(minutes=2), timedelta(hours=1))
    assert (rules.history_weeks, rules.min_count, rules.false_alarm) == (4, 6, 0.01)
    assert (rules.similarity, rules.resolve_linked) == (0.6, True)


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"windw": "40 minutes"}, "unknown key 'windw'"),
        ({"window": "2 working days"}, "wall clock"),
        ({"window": 40}, "is not a duration"),
        ({"min_count": 0}, "min_count must be a whole number from 1"),
        ({"false_alarm": 0}, "false_alarm must be above 0"),
        ({"similarity": 1.5}, "similarity must be a number above 0 and at most 1"),
        ({"resolve_linked": "yes"}, "resolve_linked must be true or false"),
    ],
)
def test_a_mistake_is_named(table, says):
    with pytest.raises(ConfigError, match=says):
        parse_organisation({"problems": table})
