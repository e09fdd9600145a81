"""An outgoing activity as the Bot Connector's JSON, read from its public fields in one pass."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from botbuilder.schema import (
    Activity,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    Mention,
    SuggestedActions,
)
from botbuilder.schema.teams import (
    ChannelInfo,
    NotificationInfo,
    TeamInfo,
    TeamsChannelData,
    TenantInfo,
)
from msrest.serialization import Model

# The schema's classes whose wire names follow one rule (a field's name in camelCase) but for
# the exceptions below; tests/unit/test_activity_json.py holds each to msrest's serializer. Any
# other model is refused rather than guessed: Teams' O365 connector cards, for one, name
# fields `@type`.
ENCODED: frozenset[type[Model]] = frozenset(
    {
        Activity,
        Attachment,
        CardAction,
        ChannelAccount,
        ChannelInfo,
        ConversationAccount,
        ConversationReference,
        Entity,
        Mention,
        NotificationInfo,
        SuggestedActions,
        TeamInfo,
        TeamsChannelData,
        TenantInfo,
    }
)
_RENAMED = {
    (Activity, "from_property"): "from",
    (ConversationAccount, "tenant_id"): "tenantID",
}
_wire_names: dict[tuple[type[Model], str], str] = {}


def activity_json(activity: Activity) -> dict[str, Any]:
    """The activity as the JSON object Teams reads, with unset (None) fields left out."""
    return _model(activity)


def _model(model: Model) -> dict[str, Any]:
    kind = type(model)
    if kind not in ENCODED:
        raise TypeError(f"{kind.__name__} is not a model this encoder has been checked for")
    return {
        _wire_name(kind, name): _value(value)
        for name, value in vars(model).items()
        if value is not None and name != "additional_properties"
    }


def _value(value: Any) -> Any:
    if isinstance(value, Model):
        return _model(value)
    if isinstance(value, list):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        # Cards are plain JSON already; only a model nested in one (rare) needs encoding.
        if any(isinstance(item, Model | list | dict | datetime) for item in value.values()):
            return {key: _value(item) for key, item in value.items()}
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return _iso(value)
    return value


def _wire_name(kind: type[Model], name: str) -> str:
    wire = _wire_names.get((kind, name))
    if wire is None:
        head, *rest = name.split("_")
        wire = _RENAMED.get((kind, name)) or head + "".join(part.capitalize() for part in rest)
        _wire_names[(kind, name)] = wire
    return wire


def _iso(moment: datetime) -> str:
    """As the Bot Connector's other clients write a moment: UTC, milliseconds at least, a Z."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    fraction = str(moment.microsecond).rjust(6, "0").rstrip("0").ljust(3, "0")
    return (
        f"{moment.year:04}-{moment.month:02}-{moment.day:02}"
        f"T{moment.hour:02}:{moment.minute:02}:{moment.second:02}.{fraction}Z"
    )
