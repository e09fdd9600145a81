"""Jira Cloud webhook payloads in their real shapes: current (accountId only) and older (name/key)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

_changelog_ids = itertools.count(50000)

STATUS_CATEGORIES = {
    "To Do": ("new", 2),
    "Waiting for support": ("new", 2),
    "In Progress": ("indeterminate", 4),
    "Waiting for customer": ("indeterminate", 4),
    "Escalated": ("indeterminate", 4),
    "Resolved": ("done", 3),
    "Done": ("done", 3),
    "Closed": ("done", 3),
}


def user(
    name: str, *, account_id: str, email: str | None = None, legacy: bool = False
) -> dict[str, Any]:
    """A Jira user: since the 2019 privacy change only accountId; older payloads add name and key."""
    data: dict[str, Any] = {
        "self": f"https://esmos.atlassian.net/rest/api/2/user?accountId={account_id}",
        "accountId": account_id,
        "displayName": name,
        "active": True,
        "timeZone": "Europe/Berlin",
        "accountType": "atlassian",
    }
    if email:
        data["emailAddress"] = email
    if legacy:
        handle = (email or name).split("@")[0].lower().replace(" ", ".")
        data.update({"name": handle, "key": handle})
    return data


def issue(
    key: str,
    *,
    summary: str = "Checkout fails with an error",
    status: str = "To Do",
    priority: str = "Medium",
    issue_type: str = "Incident",
    reporter: dict[str, Any] | None = None,
    assignee: dict[str, Any] | None = None,
    description: str = "The payment step shows error 500.",
    created: str = "2026-11-23T09:00:00.000+0100",
) -> dict[str, Any]:
    number = int(key.split("-")[1])
    category, category_id = STATUS_CATEGORIES.get(status, ("indeterminate", 4))
    return {
        "id": str(10000 + number),
        "self": f"https://esmos.atlassian.net/rest/api/2/issue/{10000 + number}",
        "key": key,
        "fields": {
            "summary": summary,
            "issuetype": {"id": "10002", "name": issue_type, "subtask": False},
            "project": {"id": "10000", "key": key.split("-")[0], "name": "ESMOS Service Desk"},
            "priority": {"id": "3", "name": priority},
            "status": {
                "name": status,
                "id": "10001",
                "statusCategory": {"id": category_id, "key": category, "name": category},
            },
            "reporter": reporter,
            "assignee": assignee,
            "creator": reporter,
            "created": created,
            "updated": created,
            "description": {
                "type": "doc",
                "version": 1,
                "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": description}]}
                ],
            },
            "components": [{"id": "10100", "name": "Checkout"}],
            "resolution": None,
            "labels": [],
        },
    }


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def created(
    issue_data: dict[str, Any], *, at: datetime, by: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "timestamp": _ms(at),
        "webhookEvent": "jira:issue_created",
        "issue_event_type_name": "issue_created",
        "user": by or issue_data["fields"]["reporter"],
        "issue": issue_data,
        "changelog": {"id": str(next(_changelog_ids)), "items": []},
    }


def updated(
    issue_data: dict[str, Any],
    *,
    at: datetime,
    items: list[dict[str, Any]],
    by: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "timestamp": _ms(at),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": by,
        "issue": issue_data,
        "changelog": {"id": str(next(_changelog_ids)), "items": items},
    }


def status_item(before: str, after: str) -> dict[str, Any]:
    return {
        "field": "status",
        "fieldtype": "jira",
        "fieldId": "status",
        "from": "1",
        "fromString": before,
        "to": "2",
        "toString": after,
    }


def moved(
    issue_data: dict[str, Any],
    before: str,
    after: str,
    *,
    at: datetime,
    by: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data = {**issue_data, "fields": {**issue_data["fields"]}}
    category, category_id = STATUS_CATEGORIES.get(after, ("indeterminate", 4))
    data["fields"]["status"] = {
        "name": after,
        "id": "2",
        "statusCategory": {"id": category_id, "key": category, "name": category},
    }
    return updated(data, at=at, items=[status_item(before, after)], by=by)


def comment(
    issue_data: dict[str, Any],
    body: str,
    *,
    at: datetime,
    author: dict[str, Any],
    public: bool = True,
    comment_id: str = "20001",
) -> dict[str, Any]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {
        "timestamp": _ms(at),
        "webhookEvent": "comment_created",
        "comment": {
            "self": f"https://esmos.atlassian.net/rest/api/2/issue/{issue_data['id']}/comment/{comment_id}",
            "id": comment_id,
            "author": author,
            "body": body,
            "updateAuthor": author,
            "created": stamp,
            "updated": stamp,
            "jsdPublic": public,
        },
        "issue": {
            "id": issue_data["id"],
            "key": issue_data["key"],
            "fields": {"summary": issue_data["fields"]["summary"]},
        },
    }


def commented_on_server(
    issue_data: dict[str, Any],
    body: str,
    *,
    at: datetime,
    author: dict[str, Any],
    public: bool = True,
    comment_id: str = "20001",
    what: str = "issue_commented",
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Jira Server / Data Center: a comment reported as an issue event that carries it."""
    with_comment = comment(
        issue_data, body, at=at, author=author, public=public, comment_id=comment_id
    )
    return {
        "timestamp": _ms(at),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": what,
        "user": author,
        "issue": issue_data,
        "comment": with_comment["comment"],
        **({"changelog": {"id": str(next(_changelog_ids)), "items": items}} if items else {}),
    }
