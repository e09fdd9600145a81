"""Reads Prometheus Alertmanager's webhook (version 4) into one incident event per alert."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.errors import EsmbotError
from bot.tickets.events import EventKind, FieldValue, TicketEvent
from bot.tickets.lifecycle import Status

SOURCE = "alertmanager"
# Firing alerts carry this as endsAt (alertmanager#3341): no end is known yet.
_NO_END = datetime(1, 1, 1, tzinfo=UTC)
# Go writes nanoseconds; Python reads at most microseconds.
_FRACTION = re.compile(r"(\.\d{6})\d+")


class NotAnAlert(EsmbotError):
    """The body is not an Alertmanager notification esmbot can read; the message says why."""


@dataclass(frozen=True)
class Alert:
    """One alert of a notification: one outage of one service, from startsAt to endsAt."""

    fingerprint: str
    firing: bool
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None

    @property
    def incident_id(self) -> str:
        """The same for every notification of this outage, and for no other."""
        return f"{self.fingerprint}@{self.starts_at.isoformat()}"

    @property
    def service(self) -> str | None:
        return self.labels.get("service") or self.labels.get("job") or None


def parse_alerts(body: Mapping[str, Any]) -> list[Alert]:
    """The alerts of a v4 notification, in the order given; a group may mix firing and resolved."""
    if str(body.get("version")) != "4":
        raise NotAnAlert("not an Alertmanager notification of version 4 ('version' is not \"4\")")
    raw = body.get("alerts")
    if not isinstance(raw, list):
        raise NotAnAlert("'alerts' must be a list")
    return [_alert(item, number) for number, item in enumerate(raw)]


def incident_events(alert: Alert, *, key: str, now: datetime) -> list[TicketEvent]:
    """The incident's events: opened when it fires, and resolved when it is resolved."""
    labels, notes = alert.labels, alert.annotations
    name = labels.get("alertname", "alert")
    summary = notes.get("summary") or f"{name}: {alert.service or 'service'} is down"
    details = [notes.get("description", "")] + [f"{k}={v}" for k, v in sorted(labels.items())]
    fields: dict[str, FieldValue] = {
        "summary": summary[:512],
        "description": "\n".join(part for part in details if part)[:32000],
        "type": "incident",
        "priority": "P1",  # the service is down for everyone: management hears it at once
        "first_occurred_at": alert.starts_at,
    }
    if alert.service:
        fields["module"] = alert.service[:128]
    base = f"{SOURCE}:{alert.incident_id}"
    opened = TicketEvent(
        kind=EventKind.CREATED,
        source=SOURCE,
        ticket_key=key,
        dedupe_key=f"{base}:firing",
        occurred_at=alert.starts_at,
        external_id=alert.incident_id,
        fields=fields,
        created_at=alert.starts_at,
    )
    if alert.firing:
        return [opened]
    resolved = TicketEvent(
        kind=EventKind.RESOLVED,
        source=SOURCE,
        ticket_key=key,
        dedupe_key=f"{base}:resolved",
        occurred_at=alert.ends_at or now,
        status=Status.RESOLVED,
        fields={"resolution": "resolved"},
        restores=alert.service,
    )
    return [opened, resolved]


def _alert(item: object, number: int) -> Alert:
    where = f"alerts/{number}"
    if not isinstance(item, dict):
        raise NotAnAlert(f"{where} must be an object")
    fingerprint = item.get("fingerprint")
    if not isinstance(fingerprint, str) or not fingerprint.strip() or len(fingerprint) > 64:
        raise NotAnAlert(f"{where}/fingerprint must be a non-empty string")
    status = item.get("status")
    if status not in ("firing", "resolved"):
        raise NotAnAlert(f"{where}/status must be firing or resolved, not {status!r}")
    starts = _time(item.get("startsAt"), f"{where}/startsAt")
    ends = _time(item.get("endsAt"), f"{where}/endsAt") if item.get("endsAt") else None
    return Alert(
        fingerprint=fingerprint.strip(),
        firing=status == "firing",
        labels=_strings(item.get("labels"), f"{where}/labels"),
        annotations=_strings(item.get("annotations"), f"{where}/annotations"),
        starts_at=starts,
        ends_at=None if ends is None or ends <= _NO_END else ends,
    )


def _strings(raw: object, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise NotAnAlert(f"{where} must be an object of strings")
    return {str(k): v for k, v in raw.items()}


def _time(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise NotAnAlert(f"{where} must be an RFC 3339 date-time")
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value.replace("Z", "+00:00")))
    except ValueError:
        raise NotAnAlert(f"{where}: {value[:40]!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise NotAnAlert(f"{where}: {value[:40]!r} has no time zone")
    return moment.astimezone(UTC)
