"""Reads the generic event API's JSON (schema in openapi.json) into TicketEvents."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bot.errors import EsmbotError
from bot.tickets.events import TICKET_FIELDS, Comment, EventKind, PersonRef, TicketEvent
from bot.tickets.lifecycle import Status

OPENAPI = Path(__file__).with_name("openapi.json")


class InvalidEvent(EsmbotError):
    """The body does not follow the event schema; the message points at the first problem."""


@cache
def _validator() -> Draft202012Validator:
    document = json.loads(OPENAPI.read_text())
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry = Registry().with_resource("openapi", resource)
    schema = {"$ref": "openapi#/components/schemas/TicketEvent"}
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def validate(body: Mapping[str, Any]) -> None:
    error = best_match(_validator().iter_errors(body))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(the event)"
        raise InvalidEvent(f"{where}: {error.message}")


def parse_event(body: Mapping[str, Any], *, key: str | None, now: datetime) -> TicketEvent:
    """The TicketEvent the body describes; `key` is the one esmbot gave a keyless new ticket."""
    validate(body)
    ticket = body["ticket"]
    occurred_at = _time(body.get("occurred_at")) or now
    source = body.get("source", "api")
    fields = {name: ticket[name] for name in TICKET_FIELDS if name in ticket}
    if "first_occurred_at" in fields:
        fields["first_occurred_at"] = _time(fields["first_occurred_at"])
    comment = body.get("comment")
    return TicketEvent(
        kind=EventKind(body["type"]),
        source=source,
        ticket_key=(ticket.get("key") or key or "").upper(),
        dedupe_key=f"api:{source}:{body['id']}",
        occurred_at=occurred_at,
        actor=_person(body.get("actor")),
        fields=fields,
        status=Status(ticket["status"]) if "status" in ticket else _implied_status(body["type"]),
        assignee=_person(ticket.get("assignee")),
        unassigned="assignee" in ticket and ticket["assignee"] is None,
        reporter=_person(ticket.get("reporter")),
        vendor_needed=body["type"] == "vendor_needed" or ticket.get("vendor_needed") is True,
        comment=Comment(
            body=comment["body"],
            public=comment["public"],
            author=_person(comment.get("author")) or _person(body.get("actor")),
            external_id=comment.get("id"),
        )
        if comment
        else None,
    )


def _implied_status(kind: str) -> Status | None:
    return {
        "resolved": Status.RESOLVED,
        "reopened": Status.REOPENED,
        "closed": Status.CLOSED,
        "escalated_to_vendor": Status.WAITING_FOR_VENDOR,
    }.get(kind)


def _person(raw: object) -> PersonRef | None:
    if not isinstance(raw, dict):
        return None
    return PersonRef(name=raw.get("name", ""), email=raw.get("email"))


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent(f"{value!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise InvalidEvent(f"{value!r} has no time zone (add Z or +01:00)")
    return moment.astimezone(UTC)
