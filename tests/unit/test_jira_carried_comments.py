"""A comment carried inside a Jira issue event is a comment, and the issue's own change is kept."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config.jira_mapping import JiraMapping
from bot.events.jira_webhook import parse_webhook
from bot.tickets.events import EventKind
from tests import jira_payloads as jp


def test_an_issue_event_carrying_a_comment_keeps_its_own_change():
    issue = jp.issue("SR-50", reporter=jp.user("Lena", account_id="acc-lena"))
    at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    created = jp.created(issue, at=at)
    server = jp.commented_on_server(
        issue, "Seen on 4.0.2.3", at=at, author=jp.user("Alex", account_id="acc-alex")
    )
    created["comment"] = server["comment"]
    bare = server  # `issue_commented` without a changelog: the comment is all that happened

    kinds = [
        [
            event.kind
            for event in parse_webhook(body, mapping=JiraMapping(), delivery_id=None, now=at)
        ]
        for body in (created, bare)
    ]

    assert kinds == [[EventKind.CREATED, EventKind.COMMENTED], [EventKind.COMMENTED]]
