"""Jira's timestamps are read in the shapes Jira writes them, and nothing else passes for one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from bot.config.jira_mapping import JiraMapping
from bot.events.jira_webhook import _jira_time, parse_webhook

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


@pytest.mark.parametrize(
    ("written", "fields"),
    [
        # A Jira date field names a day: no time is made up for it.
        ("2026-11-22", {"first_occurred_at": None, "first_occurred_on": date(2026, 11, 22)}),
        (
            "2026-11-22T09:15:00.000+0100",
            {"first_occurred_at": datetime(2026, 11, 22, 8, 15, tzinfo=UTC),
             "first_occurred_on": None},
        ),
    ],
)  # fmt: skip
def test_the_first_noticed_field_is_a_day_or_a_moment_as_jira_has_it(written, fields):
    mapping = JiraMapping(fields={"first_occurred": "customfield_10050"})
    body = {
        "webhookEvent": "jira:issue_created",
        "issue": {"key": "SR-1", "fields": {"summary": "x", "customfield_10050": written}},
    }

    [event] = parse_webhook(body, mapping=mapping, delivery_id=None, now=datetime.now(UTC))

    assert {name: event.fields[name] for name in fields} == fields
