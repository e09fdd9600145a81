"""The activity encoder writes what msrest's serializer writes, for every field of every model it takes."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import botbuilder.schema
import botbuilder.schema.teams
import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Mention,
    SuggestedActions,
)
from botbuilder.schema.teams import NotificationInfo, TeamsChannelData, TenantInfo
from msrest import Serializer
from msrest.exceptions import SerializationError
from msrest.serialization import Model

from bot.teams.activity_json import ENCODED, activity_json

_MODELS = {
    name: value
    for module in (botbuilder.schema, botbuilder.schema.teams)
    for name, value in vars(module).items()
    if isinstance(value, type) and issubclass(value, Model)
}
_SERIALIZER = Serializer(_MODELS)
_SAMPLES: list[Any] = [
    "sample",
    True,
    7,
    datetime(2026, 12, 6, 9, 30, 15, 120000, tzinfo=UTC),
    ["one", "two"],
    {"key": "value", "nested": {"list": [1, 2]}},
]


def _msrest(model: Model) -> Any:
    return _SERIALIZER.body(model, type(model).__name__)


def _reply(conversation: ConversationAccount) -> ConversationReference:
    return ConversationReference(
        activity_id="1:incoming",
        user=ChannelAccount(id="29:user", name="Lena Learner", aad_object_id="aad-1"),
        bot=ChannelAccount(id="28:bot", name="esmbot"),
        conversation=conversation,
        channel_id="msteams",
        locale="de-DE",
        service_url="https://smba.trafficmanager.net/emea/",
    )


def _activities() -> list[Activity]:
    personal = ConversationAccount(id="a:1", conversation_type="personal", tenant_id="t-1")
    channel = ConversationAccount(
        id="19:abc@thread.tacv2;messageid=1", conversation_type="channel", is_group=True
    )
    return [
        TurnContext.apply_conversation_reference(activity, _reply(where))
        for where in (personal, channel)
        for activity in _made()
    ]


def _made() -> list[Activity]:
    """One of each kind of activity esmbot sends in a turn, made afresh."""
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "SR-1: Received — Zürich", "wrap": True}],
        "actions": [{"type": "Action.Submit", "title": "Ack", "data": {"ticket": "SR-1", "n": 2}}],
    }
    mentioned = MessageFactory.text("<at>Alex Agent</at> SR-1 is yours")
    mentioned.entities = [
        Mention(
            mentioned=ChannelAccount(id="29:alex", name="Alex Agent"),
            text="<at>Alex Agent</at>",
            type="mention",
        )
    ]
    alert = MessageFactory.attachment(CardFactory.adaptive_card(card))
    alert.summary, alert.attachment_layout = "SR-1: Received", "list"
    alert.channel_data = TeamsChannelData(
        notification=NotificationInfo(alert=True), tenant=TenantInfo(id="t-1")
    )
    offered = MessageFactory.text("Which module?")
    offered.suggested_actions = SuggestedActions(
        actions=[CardAction(type="imBack", title="Checkout", value="Checkout")]
    )
    stamped = Activity(
        type=ActivityTypes.message,
        text="at a moment",
        timestamp=datetime(2026, 12, 6, 10, 0, 0, tzinfo=timezone(timedelta(hours=1))),
        local_timestamp=datetime(2026, 12, 6, 10, 0, 0, 5, tzinfo=UTC),
        channel_data={"notification": {"alert": True}},
        value={"rating": 4},
    )
    typing = Activity(type=ActivityTypes.typing)
    return [mentioned, alert, offered, stamped, typing, MessageFactory.text("plain")]


@pytest.mark.parametrize(
    "activity",
    _activities(),
    ids=lambda a: f"{a.conversation.conversation_type}-{a.type}-{a.text or ''}",
)
def test_each_activity_esmbot_sends_is_written_as_msrest_writes_it(activity: Activity) -> None:
    assert activity_json(activity) == _msrest(activity)


@pytest.mark.parametrize("model", sorted(ENCODED, key=lambda cls: cls.__name__), ids=str)
def test_every_field_of_every_model_it_takes_has_msrest_s_wire_name(model: type[Model]) -> None:
    # Fields are found through the constructor, public, and each is set on its own to the first
    # sample msrest accepts for it; values, nested models included, are the activities' test.
    fields = [name for name in inspect.signature(model).parameters if name != "kwargs"]
    checked = 0
    for name in fields:
        for sample in _SAMPLES:
            instance = model(**{name: sample})
            ours = activity_json_of(instance)  # first: msrest may change what it reads
            try:
                expected = _msrest(instance)
            except (SerializationError, TypeError, AttributeError, ValueError):
                continue
            # msrest coerces a sample of the wrong type; what is compared here is the name.
            assert ours.keys() == expected.keys(), name
            checked += 1
            break
    assert checked >= len(fields) // 2, f"too few of {model.__name__}'s fields could be compared"


def activity_json_of(model: Model) -> dict[str, Any]:
    return activity_json(model)  # type: ignore[arg-type]  # any encoded model, not only Activity


def test_a_model_it_was_not_checked_for_is_refused_not_guessed() -> None:
    from botbuilder.schema.teams import O365ConnectorCard

    activity = MessageFactory.text("legacy")
    activity.channel_data = O365ConnectorCard(title="old")
    with pytest.raises(TypeError, match="O365ConnectorCard"):
        activity_json(activity)
