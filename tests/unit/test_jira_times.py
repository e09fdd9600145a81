"""Jira's timestamps are read in the shapes Jira writes them, and nothing else passes for one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.events.jira_webhook import _jira_time

PACIFIC = timezone(timedelta(hours=-8))


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("2019-02-15T19:01:52.971-0800", datetime(2019, 2, 15, 19, 1, 52, 971000, PACIFIC)),
        ("2019-02-15T19:01:52-0800", datetime(2019, 2, 15, 19, 1, 52, tzinfo=PACIFIC)),
        ("2019-02-15T19:01:52.971+00:00", datetime(2019, 2, 15, 19, 1, 52, 971000, UTC)),
        ("2019-02-15T19:01:52Z", datetime(2019, 2, 15, 19, 1, 52, tzinfo=UTC)),
        ("2019-02-15", datetime(2019, 2, 15, tzinfo=UTC)),
    ],
)
def test_jira_times_are_read_with_their_offset(written, meant):
    assert _jira_time(written) == meant


@pytest.mark.parametrize(
    "written",
    [
        "2019-02-15T19:01:52",  # no offset: which zone is unknown
        "2019-02-15 19:01:52-0800",
        "20190215",
        "2019-W07-5",
        "2019-02-30",
        "2019-02-15T25:01:52-0800",
        "yesterday",
        "",
        1550286112971,
        None,
    ],
)
def test_anything_else_is_no_time(written):
    assert _jira_time(written) is None
