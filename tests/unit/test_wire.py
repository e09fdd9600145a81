"""The connector's request bodies written by `to_wire` are the JSON msrest writes for them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    Mention,
    SuggestedActions,
)
from botbuilder.schema.teams import TeamsChannelAccount
from botframework.connector import models
from msrest import Serializer

from bot.teams.wire import WireSerializer, as_json, to_wire

DEPENDENCIES = {name: kind for name, kind in models.__dict__.items() if isinstance(kind, type)}
CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "Ticket SR-1 – Drucker «kaputt» 🖨️", "wrap": True},
        {"type": "FactSet", "facts": [{"title": "Due", "value": "2026-12-02 09:00"}]},
        {"type": "TextBlock", "text": "", "size": None, "spacing": 0, "weight": 1.5},
    ],
    "actions": [{"type": "Action.Submit", "title": "Solved", "data": {"action": "solved"}}],
}


def _reply() -> Activity:
    reply = MessageFactory.attachment(CardFactory.adaptive_card(CARD))
    reply.from_property = ChannelAccount(id="28:bot", name="esmbot")
    reply.recipient = TeamsChannelAccount(id="29:1", name="Lena", aad_object_id="aad", email="l@x")
    reply.conversation = ConversationAccount(
        id="a:1", conversation_type="personal", tenant_id="tenant", is_group=False
    )
    reply.reply_to_id = "1700000000000"
    reply.service_url = "https://smba.trafficmanager.net/emea/"
    reply.channel_id = "msteams"
    reply.locale = "de-DE"
    reply.input_hint = "acceptingInput"
    return reply


def _shapes() -> list[Activity]:
    plain = MessageFactory.text("Done – SR-1 is with the service desk")
    mention = Mention(mentioned=ChannelAccount(id="29:2", name="Alex"), text="<at>Alex</at>")
    mention.type = "mention"
    mentioned = MessageFactory.text("<at>Alex</at> please look")
    mentioned.entities = [mention, Entity(type="clientInfo"), None]
    suggested = MessageFactory.text("Which one?")
    suggested.suggested_actions = SuggestedActions(
        to=["29:1"],
        actions=[CardAction(type="imBack", title="SR-1", value="SR-1"), None],
    )
    stamped = Activity(
        type=ActivityTypes.message,
        text="stamped",
        timestamp=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        local_timestamp=datetime(2026, 12, 1, 10, 30, tzinfo=timezone(timedelta(hours=1))),
        expiration=datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=UTC),
        channel_data={"notification": {"alert": True}, "ids": [1, 2.5, None, "x"]},
        value={"action": "csat", "score": 4, "nested": {"ok": [True, False]}},
    )
    odd = Activity(
        type="message",
        text="odd values msrest turns into strings",
        value=("a", "tuple"),
        channel_data={"when": datetime(2026, 1, 1, tzinfo=UTC), "keys": {1: "one"}},
        attachments=[Attachment(content_type="text/plain", content=b"bytes"), None],
    )
    typing = Activity(type=ActivityTypes.typing)
    update = _reply()
    update.id = "1700000000001"
    update.type = ActivityTypes.message
    return [_reply(), plain, mentioned, suggested, stamped, odd, typing, update, Activity()]


@pytest.mark.parametrize("activity", _shapes(), ids=lambda activity: activity.text or "no text")
def test_an_activity_is_written_as_msrest_writes_it(activity: Activity) -> None:
    expected = Serializer(DEPENDENCIES).body(activity, "Activity")
    written = WireSerializer(DEPENDENCIES).body(activity, "Activity")

    assert json.dumps(written, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_the_stored_conversation_reference_is_what_serialize_gives() -> None:
    activity = _reply()
    activity.id = "1700000000002"
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None

    assert as_json(reference) == reference.serialize()
    assert as_json(ConversationReference()) == ConversationReference().serialize()


def test_a_card_reply_no_longer_goes_through_msrests_round_trip(monkeypatch) -> None:
    # The point of the module: msrest's body() (deserialise, validate, serialise) is not called.
    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("msrest's body() ran")

    monkeypatch.setattr(Serializer, "body", forbidden)
    written = WireSerializer(DEPENDENCIES).body(_reply(), "Activity")

    assert written["attachments"][0]["content"] == CARD
    assert to_wire(_reply(), WireSerializer(DEPENDENCIES)) == written
