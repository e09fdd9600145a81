"""Incoming activities read by `from_wire` are the objects msrest's `deserialize` makes of them."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from botbuilder.schema import Activity, ConversationReference
from msrest import Deserializer
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from bot.demo.activities import (
    TeamsUser,
    card_submit,
    channel_message,
    installation_update,
    personal_message,
)
from bot.teams import wire_in
from bot.teams.wire_in import from_wire

SERVICE = "https://smba.trafficmanager.net/emea/"
LENA = TeamsUser.named("Lena Learner", "lena.learner@esmos.example")


def _teams_message() -> dict[str, Any]:
    """A 1:1 message as Teams sends it, with the fields the demo's activities leave out."""
    activity = personal_message(LENA, "status SR-1", SERVICE)
    activity.update(
        {
            "timestamp": "2026-12-01T09:30:12.3456789Z",
            "localTimestamp": "2026-12-01T10:30:12.3456789+01:00",
            "localTimezone": "Europe/Berlin",
            "textFormat": "plain",
            "attachments": [{"contentType": "text/html", "content": "<p>status SR-1</p>"}],
            "entities": [
                {
                    "type": "clientInfo",
                    "locale": "de-DE",
                    "country": "DE",
                    "platform": "Web",
                    "timezone": "Europe/Berlin",
                }
            ],
        }
    )
    return activity


def _odd_shapes() -> list[dict[str, Any]]:
    base = _teams_message()
    odd: list[dict[str, Any]] = []
    for field, value in [
        ("text", 42),  # msrest makes a string of it
        ("historyDisclosed", "true"),
        ("historyDisclosed", 1),
        ("listenFor", ["a", 1, None]),
        ("channelData", {"tenant": {"id": "t"}, "list": [1, 2.5, True, None, {"x": "y"}]}),
        ("value", {"action": "csat", "score": 4, "nested": [{"deep": [1]}]}),
        ("value", "a plain string"),
        ("value", [1, "two"]),
        ("entities", [{"type": "mention", "mentioned": {"id": "29:1"}, "text": "<at>x</at>"}]),
        ("entities", [None, {"type": "clientInfo"}]),
        ("membersAdded", [{"id": "29:1", "name": "A", "aadObjectId": "x", "role": "user"}]),
        ("from", {"id": "29:1", "unknownField": {"kept": True}}),
        ("conversation", {"id": "a:1", "isGroup": False, "conversationType": "personal"}),
        ("suggestedActions", {"to": ["29:1"], "actions": [{"type": "imBack", "value": 3}]}),
        ("replyToId", None),
        ("expiration", "2026-12-01T09:30:00Z"),
        ("importance", "high"),
        ("relatesTo", {"activityId": "1", "conversation": {"id": "c"}, "serviceUrl": SERVICE}),
        ("anExtraTopLevelKey", {"is": "kept"}),
    ]:
        shape = copy.deepcopy(base)
        shape[field] = value
        odd.append(shape)
    return odd


def _shapes() -> list[dict[str, Any]]:
    shapes = [
        personal_message(LENA, "status SR-1", SERVICE),
        _teams_message(),
        card_submit(LENA, {"action": "status", "ticket": "SR-1"}, SERVICE, reply_to="17"),
        channel_message(LENA, "/subscribe agents", SERVICE, channel="agents", thread="17"),
        installation_update(LENA, SERVICE),
        {"type": "message"},
        {"type": "typing", "serviceUrl": SERVICE, "conversation": {"id": "a:1"}},
    ]
    return shapes + _odd_shapes()


@pytest.mark.parametrize("body", _shapes(), ids=lambda body: str(body.get("type")))
def test_an_activity_is_read_as_msrest_reads_it(body: dict[str, Any]) -> None:
    expected = Activity.deserialize(copy.deepcopy(body))
    found = from_wire(Activity, copy.deepcopy(body))

    assert type(found) is Activity
    assert found == expected
    assert found.serialize() == expected.serialize()
    for name in ("from_property", "recipient", "conversation"):
        assert type(getattr(found, name)) is type(getattr(expected, name))
    assert [type(entity) for entity in found.entities or []] == [
        type(entity) for entity in expected.entities or []
    ]


def test_a_typical_activity_does_not_go_through_msrests_generic_reader(monkeypatch) -> None:
    # The point of the module: msrest's model walk is not run for an ordinary activity.
    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("msrest's Model.deserialize ran")

    monkeypatch.setattr(Model, "deserialize", classmethod(forbidden))
    found = from_wire(Activity, _teams_message())

    assert found.text == "status SR-1"
    assert found.entities[0].additional_properties["locale"] == "de-DE"
    assert found.timestamp is not None and found.timestamp.tzinfo is not None


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-12-01T09:30:12.3456789Z",
        "2026-12-01T10:30:12.3456789+01:00",
        "2026-12-01T04:30:12-05:30",
        "2026-12-01T09:30:12.1Z",
        "2026-12-01T09:30:12Z",
        "2026-12-01t09:30:12z",  # msrest reads any case; these go to it
        "9999-12-31T23:00:00-05:00",
        "2026-12-01T09:30:12.123456789Z",
    ],
)
def test_a_timestamp_is_read_as_msrest_reads_it(stamp: str) -> None:
    body = {**_teams_message(), "timestamp": stamp, "localTimestamp": stamp}
    try:
        expected = Activity.deserialize(copy.deepcopy(body))
    except DeserializationError as refused:
        with pytest.raises(DeserializationError) as found:
            from_wire(Activity, copy.deepcopy(body))
        assert str(found.value) == str(refused)
        return
    found = from_wire(Activity, copy.deepcopy(body))

    for name in ("timestamp", "local_timestamp"):
        ours, theirs = getattr(found, name), getattr(expected, name)
        assert (ours, ours.utcoffset(), ours.microsecond) == (
            theirs,
            theirs.utcoffset(),
            theirs.microsecond,
        )


def test_teams_timestamps_do_not_go_through_msrests_date_reader(monkeypatch) -> None:
    def forbidden(*_args: object) -> None:
        raise AssertionError("msrest's deserialize_iso ran")

    monkeypatch.setattr(Deserializer, "deserialize_iso", staticmethod(forbidden))
    wire_in._READERS.clear()  # its deserializer took msrest's readers when it was made
    try:
        found = from_wire(Activity, _teams_message())
    finally:
        wire_in._READERS.clear()

    assert found.local_timestamp.utcoffset() == timedelta(hours=1)
    assert found.timestamp == found.local_timestamp


@pytest.mark.parametrize(
    "field, value",
    [
        ("timestamp", "not a date"),
        ("timestamp", 1700000000),
        ("timestamp", "2026-13-01T09:30:12Z"),
        ("timestamp", "2026-02-30T09:30:12.5Z"),
        ("localTimestamp", "2026-12-01T25:30:12+01:00"),
        ("from", "a string where an account belongs"),
        ("entities", {"not": "a list"}),
        ("membersAdded", ["not an account"]),
    ],
)
def test_a_malformed_activity_fails_with_msrests_own_error(field: str, value: object) -> None:
    body = {**_teams_message(), field: value}
    with pytest.raises(DeserializationError) as expected:
        Activity.deserialize(copy.deepcopy(body))
    with pytest.raises(DeserializationError) as found:
        from_wire(Activity, copy.deepcopy(body))

    assert str(found.value) == str(expected.value)


def test_other_models_of_the_schema_read_alike() -> None:
    reference = {
        "activityId": "1",
        "user": {"id": "29:1", "name": "Lena"},
        "bot": {"id": "28:bot"},
        "conversation": {"id": "a:1", "tenantId": "t", "conversationType": "personal"},
        "channelId": "msteams",
        "serviceUrl": SERVICE,
        "locale": "de-DE",
    }

    assert from_wire(ConversationReference, reference) == ConversationReference.deserialize(
        reference
    )
    assert wire_in._READERS  # the reader is kept for the next activity
