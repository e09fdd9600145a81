"""What a message is rendered from, kept as JSON in its outbox row until it is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.notify.views import Reader, TicketView
from bot.tickets.events import day_or_moment
from bot.tickets.lifecycle import Status

# Tags for the values JSON has no type for. A template sees each as it was written: an aware
# datetime, a timedelta, a Status.
_DATETIME, _SECONDS, _STATUS = "$datetime", "$seconds", "$status"
_VIEW_FIELDS = tuple(field.name for field in fields(TicketView))
# The view's own fields are written untagged: which are datetimes its declaration says.
_DATETIME_FIELDS = frozenset(
    field.name for field in fields(TicketView) if str(field.type).startswith("datetime")
)


@dataclass(frozen=True, slots=True)
class Draft:
    """A message not rendered yet: the template, the ticket as it stood, the reader, the extras.

    Rendering waits for the send (Teams lets a tenant take about 30 messages a second, so a
    burst of events can write rows far faster than they leave), and the event's transaction
    only writes this snapshot of what the message will say.
    """

    template: str
    view: TicketView | None
    reader: Reader
    extras: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The draft as JSON values; raises TypeError for an extra JSON cannot carry."""
        return {
            "template": self.template,
            "view": None if self.view is None else _view_to_json(self.view),
            "reader": [self.reader.name, self.reader.locale, self.reader.time_zone],
            "extras": {str(name): _value(value) for name, value in self.extras.items()},
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Draft:
        """The draft `to_json` wrote; raises ValueError (or KeyError, TypeError) for anything else."""
        view = document["view"]
        name, locale, time_zone = document["reader"]
        return cls(
            template=document["template"],
            view=None if view is None else _view_from_json(view),
            reader=Reader(name=name, locale=locale, time_zone=time_zone),
            extras={name: _read(value) for name, value in document["extras"].items()},
        )


def _view_to_json(view: TicketView) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name in _VIEW_FIELDS:
        value = getattr(view, name)
        if isinstance(value, datetime):
            value = _instant(value)
        elif isinstance(value, date):
            value = value.isoformat()  # a day alone, read back as one
        document[name] = value
    return document


def _view_from_json(document: Mapping[str, Any]) -> TicketView:
    values = dict(document)
    for name in _DATETIME_FIELDS:
        if values.get(name) is not None:
            values[name] = day_or_moment(values[name])
    values["status"] = Status(values["status"])
    return TicketView(**values)


def _value(value: object) -> Any:
    # Status before str: it is one.
    if isinstance(value, Status):
        return {_STATUS: value.value}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise TypeError(f"a message's datetime must be timezone-aware, got {value!r}")
        return {_DATETIME: _instant(value)}
    if isinstance(value, timedelta):
        return {_SECONDS: value.total_seconds()}
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    if isinstance(value, Mapping) and not any(
        key in value for key in (_DATETIME, _SECONDS, _STATUS)
    ):
        return {str(key): _value(item) for key, item in value.items()}
    raise TypeError(f"a message cannot carry {type(value).__name__} values until it is sent")


def _instant(value: datetime) -> str:
    # In UTC: the same moment is the same draft, whether the ticket was read back or just made.
    return value.astimezone(UTC).isoformat()


def _read(value: Any) -> Any:
    if isinstance(value, list):
        return [_read(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == _DATETIME:
            return datetime.fromisoformat(inner)
        if tag == _SECONDS:
            return timedelta(seconds=inner)
        if tag == _STATUS:
            return Status(inner)
    return {key: _read(item) for key, item in value.items()}
