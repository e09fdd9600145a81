"""Reads Jira Cloud / Jira Service Management webhooks: verifies them and turns them into TicketEvents."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from bot.config.jira_mapping import LABEL_PREFIX, JiraMapping
from bot.errors import EsmbotError
from bot.tickets.events import (
    Comment,
    EventKind,
    FieldValue,
    PersonRef,
    TicketEvent,
    first_occurred,
)
from bot.tickets.lifecycle import Status

ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}-[0-9]{1,9}$")
ISSUE_EVENTS = {"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"}
COMMENT_EVENTS = {"comment_created", "comment_updated"}


class NotAJiraEvent(EsmbotError):
    """The body is JSON but not a Jira webhook esmbot can read; the message says what is missing."""


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Checks `X-Hub-Signature: sha256=<hex>` in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def parse_webhook(
    body: Mapping[str, Any], *, mapping: JiraMapping, delivery_id: str | None, now: datetime
) -> list[TicketEvent]:
    """The events this delivery reports: none for a kind of event esmbot does not follow.

    Jira Server and Data Center report a comment as an issue event (`issue_commented`, or a
    transition made with a comment) that carries it; that comment is an event of its own, keyed
    like the `comment_created` that may report the same comment too, so it counts once.
    """
    kind = body.get("webhookEvent")
    if not isinstance(kind, str) or not kind:
        raise NotAJiraEvent("not a Jira webhook: 'webhookEvent' is missing")
    if kind not in ISSUE_EVENTS | COMMENT_EVENTS:
        return []
    issue = body.get("issue")
    if not isinstance(issue, dict):
        raise NotAJiraEvent(f"{kind} without an 'issue' object")
    key = issue.get("key")
    if not isinstance(key, str) or not key.strip():
        raise NotAJiraEvent(f"{kind} without an issue key ('issue.key')")
    if not ISSUE_KEY.match(key.strip()):
        raise NotAJiraEvent(f"{key[:80]!r} is not a Jira issue key (like SR-12)")
    fields = _object(issue.get("fields"))
    occurred_at = _epoch_ms(body.get("timestamp")) or now
    snapshot = _Snapshot(fields, mapping)
    common: dict[str, Any] = {
        "source": "jira",
        "ticket_key": key.strip().upper(),
        "occurred_at": occurred_at,
        "external_id": _short(issue.get("id")),
        "actor": _person(body.get("user"), mapping),
        "created_at": _jira_time(fields.get("created")),
        "fields": snapshot.ticket_fields(),
        "vendor_needed": snapshot.vendor_needed(),
    }
    if kind in COMMENT_EVENTS:
        return [_comment_event(kind, body, common, mapping, delivery_id)]
    changelog = _object(body.get("changelog"))
    state: dict[str, Any] = {
        "status": snapshot.status(),
        "assignee": snapshot.person("assignee"),
        "unassigned": "assignee" in fields and fields["assignee"] is None,
        "reporter": snapshot.person("reporter"),
    }
    change = TicketEvent(
        kind=_issue_kind(kind, changelog, snapshot),
        dedupe_key=_dedupe_text(_dedupe_key(kind, issue, changelog, delivery_id, body)),
        **state,
        **common,
    )
    comment_kind = _carried_comment(kind, body)
    if comment_kind is None:
        return [change]
    # The comment brings the issue's state along, so that a bare `issue_commented` still
    # follows the issue as the issue event alone did.
    comment = _comment_event(comment_kind, body, {**common, **state}, mapping, delivery_id)
    # A bare `issue_commented` changes nothing but the comment; anything else is said too.
    bare = change.kind is EventKind.UPDATED and not _items(changelog)
    return [comment] if bare else [change, comment]


def _carried_comment(kind: str, body: Mapping[str, Any]) -> str | None:
    """The comment event an issue event also reports, in the terms of Jira Cloud's own."""
    if kind == "jira:issue_deleted" or not isinstance(body.get("comment"), dict):
        return None
    what = body.get("issue_event_type_name")
    if what == "issue_comment_deleted":
        return None
    return "comment_updated" if what == "issue_comment_edited" else "comment_created"


def _comment_event(
    kind: str,
    body: Mapping[str, Any],
    common: dict[str, Any],
    mapping: JiraMapping,
    delivery_id: str | None,
) -> TicketEvent:
    raw = body.get("comment")
    if not isinstance(raw, dict) or raw.get("id") is None:
        raise NotAJiraEvent(f"{kind} without a 'comment' object with an id")
    comment = Comment(
        body=adf_text(raw.get("body")),
        public=_is_public(raw),
        author=_person(raw.get("author"), mapping),
        external_id=_short(raw["id"]),
    )
    if kind == "comment_updated":
        # An edited comment is recorded, but people were already told about it once.
        moment = raw.get("updated") or delivery_id or ""
        return TicketEvent(
            kind=EventKind.UPDATED,
            dedupe_key=_dedupe_text(f"jira:comment:{raw['id']}:updated:{moment}"),
            **common,
        )
    return TicketEvent(
        kind=EventKind.COMMENTED,
        dedupe_key=_dedupe_text(f"jira:comment:{raw['id']}:created"),
        comment=comment,
        **{**common, "actor": comment.author or common["actor"]},
    )


def _is_public(comment: Mapping[str, Any]) -> bool:
    # Jira Service Management marks internal notes twice; either one makes it internal.
    if comment.get("jsdPublic") is False:
        return False
    for prop in comment.get("properties") or []:
        if isinstance(prop, dict) and prop.get("key") == "sd.public.comment":
            value = prop.get("value")
            if isinstance(value, dict) and value.get("internal") in (True, "true"):
                return False
    return True


def _issue_kind(kind: str, changelog: Mapping[str, Any], snapshot: _Snapshot) -> EventKind:
    if kind == "jira:issue_created":
        return EventKind.CREATED
    if kind == "jira:issue_deleted":
        return EventKind.DELETED
    changed = {str(item.get("field", "")).lower() for item in _items(changelog)}
    if "status" in changed or "resolution" in changed:
        status = snapshot.status()
        return {
            "resolved": EventKind.RESOLVED,
            "closed": EventKind.CLOSED,
            "reopened": EventKind.REOPENED,
            "waiting_for_vendor": EventKind.ESCALATED_TO_VENDOR,
        }.get(str(status), EventKind.STATUS_CHANGED)
    if "assignee" in changed:
        return EventKind.ASSIGNED
    if "priority" in changed:
        return EventKind.PRIORITY_CHANGED
    return EventKind.UPDATED


def _items(changelog: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = changelog.get("items")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _dedupe_text(key: str) -> str:
    # Anything the sender controls may be long; the column is not.
    return key if len(key) <= 200 else "jira:sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _short(value: object, limit: int = 128) -> str | None:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text[:limit] or None


def _dedupe_key(
    kind: str,
    issue: Mapping[str, Any],
    changelog: Mapping[str, Any],
    delivery_id: str | None,
    body: Mapping[str, Any],
) -> str:
    # What happened identifies a change better than the delivery: two webhooks registered for
    # one site deliver the same change under different delivery ids.
    issue_id = issue.get("id") or issue.get("key")
    if kind == "jira:issue_created":
        return f"jira:created:{issue_id}"
    if kind == "jira:issue_deleted":
        return f"jira:deleted:{issue_id}"
    if changelog.get("id"):
        return f"jira:changelog:{changelog['id']}"
    if delivery_id:
        return f"jira:delivery:{delivery_id}"
    return f"jira:{kind}:{issue_id}:{body.get('timestamp')}"


class _Snapshot:
    """The issue's fields as the webhook shows them, in esmbot's terms."""

    def __init__(self, fields: Mapping[str, Any], mapping: JiraMapping) -> None:
        self.fields, self.mapping = fields, mapping

    def ticket_fields(self) -> dict[str, FieldValue]:
        out: dict[str, FieldValue] = {}
        if isinstance(self.fields.get("summary"), str):
            out["summary"] = self.fields["summary"][:512]
        if "description" in self.fields:
            out["description"] = adf_text(self.fields.get("description"))
        priority = self.mapping.priority(_name(self.fields.get("priority")))
        if priority:
            out["priority"] = priority
        ticket_type = self.mapping.ticket_type(
            self._request_type() or _name(self.fields.get("issuetype"))
        )
        if ticket_type:
            out["type"] = ticket_type[:64]
        for role in ("module", "impact", "steps"):
            value = self._custom(role)
            if value:
                out[role] = value[:128] if role == "module" else value
        first = self.mapping.fields.get("first_occurred")
        if first and (moment := _jira_day_or_time(self.fields.get(first))):
            out.update(first_occurred(moment))
        resolution = _name(self.fields.get("resolution"))
        if resolution:
            out["resolution"] = resolution
        return out

    def status(self) -> Status | None:
        raw = self.fields.get("status")
        if not isinstance(raw, dict):
            return None
        category = _object(raw.get("statusCategory"))
        return self.mapping.status(raw.get("name"), category.get("key"))

    def vendor_needed(self) -> bool:
        """Whether the field or label mapped to `vendor_needed` says the vendor is needed."""
        mapped = self.mapping.fields.get("vendor_needed")
        if not mapped:
            return False
        if mapped.startswith(LABEL_PREFIX):
            wanted = mapped.removeprefix(LABEL_PREFIX).strip().lower()
            labels = self.fields.get("labels")
            return isinstance(labels, list) and any(
                isinstance(label, str) and label.lower() == wanted for label in labels
            )
        value = self.fields.get(mapped)
        return value not in (None, False, "", [], {})

    def person(self, name: str) -> PersonRef | None:
        return _person(self.fields.get(name), self.mapping)

    def _request_type(self) -> str | None:
        field_id = self.mapping.fields.get("request_type")
        value = self.fields.get(field_id) if field_id else None
        if isinstance(value, dict) and isinstance(value.get("requestType"), dict):
            return _name(value["requestType"])
        return None

    def _custom(self, role: str) -> str | None:
        field_id = self.mapping.fields.get(role)
        if not field_id:
            return None
        value = self.fields.get(field_id)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            return (
                _name(value)
                or value.get("value")
                or (adf_text(value) if value.get("type") == "doc" else None)
            )
        return value if isinstance(value, str) and value.strip() else None


def _person(raw: object, mapping: JiraMapping) -> PersonRef | None:
    if not isinstance(raw, dict):
        return None
    account = raw.get("accountId") if isinstance(raw.get("accountId"), str) else None
    email = raw.get("emailAddress") if isinstance(raw.get("emailAddress"), str) else None
    if not email and account:
        # Privacy settings hide most e-mails; esmbot.toml can say whose account this is.
        email = mapping.accounts.get(account)
    name = raw.get("name") or raw.get("key")
    return PersonRef(
        name=str(raw.get("displayName") or "")[:256],
        email=email[:320] if email else None,
        jira_account_id=account[:128] if account else None,
        jira_name=name[:128] if isinstance(name, str) else None,
    )


def _name(raw: object) -> str | None:
    if isinstance(raw, dict) and isinstance(name := raw.get("name"), str):
        return name
    return None


def _object(raw: object) -> dict[str, Any]:
    """A JSON object of the payload, or an empty one in place of anything else."""
    return raw if isinstance(raw, dict) else {}


def adf_text(raw: object) -> str:
    """Plain text of a Jira description or comment: a string (API v2) or an ADF document (v3)."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    blocks: list[str] = []

    def walk(node: object, line: list[str]) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                line.append(node["text"])
            elif node.get("type") == "hardBreak":
                line.append("\n")
            for child in node.get("content") or []:
                if isinstance(child, dict) and child.get("type") in (
                    "paragraph",
                    "heading",
                    "codeBlock",
                    "listItem",
                ):
                    inner: list[str] = []
                    walk(child, inner)
                    blocks.append("".join(inner))
                else:
                    walk(child, line)

    walk(raw, [])
    return "\n\n".join(block for block in blocks if block)


def _epoch_ms(value: object) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


# Jira's shapes, checked before fromisoformat: it alone would also take times without an
# offset, week dates and the like, which no Jira writes.
_JIRA_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_JIRA_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}:?\d{2}|Z))?")


def _jira_day_or_time(value: object) -> date | datetime | None:
    """A Jira date field's day as a date (no time is made up), a date-time field's moment."""
    if isinstance(value, str) and _JIRA_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:  # in the shape, but no such day
            return None
    return _jira_time(value)


def _jira_time(value: object) -> datetime | None:
    """Jira writes times like 2019-02-15T19:01:52.971-0800, and dates like 2019-02-15."""
    if not isinstance(value, str) or not _JIRA_TIME.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:  # in the shape, but no such day or hour
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
