"""Builders of genuine Teams activities, shaped as Teams sends them, for the demo and the tests."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

BOT_ID = "28:esmbot-app-id"
BOT_NAME = "esmbot"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM_ID = "19:team-esmos@thread.tacv2"

_ids = itertools.count(1)


@dataclass(frozen=True)
class TeamsUser:
    """A person as Teams identifies them to a bot."""

    id: str
    name: str
    aad_object_id: str
    email: str
    locale: str = "en-US"
    time_zone: str = "Europe/Berlin"

    @classmethod
    def named(cls, name: str, email: str, **options: Any) -> TeamsUser:
        """A user with stable ids derived from the e-mail, so every run meets the same people."""
        aad = str(uuid.uuid5(uuid.NAMESPACE_URL, f"aad:{email}"))
        return cls(id=f"29:{aad}", name=name, aad_object_id=aad, email=email, **options)

    def account(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}


def personal_conversation_id(user: TeamsUser) -> str:
    return f"a:personal-{user.aad_object_id}"


def channel_conversation_id(channel: str) -> str:
    return f"19:{channel}@thread.tacv2"


def _base(
    activity_type: str,
    user: TeamsUser,
    service_url: str,
    conversation: dict[str, Any],
    channel_data: dict[str, Any],
) -> dict[str, Any]:
    return {
        "type": activity_type,
        "id": f"activity-in-{next(_ids)}",
        "timestamp": datetime.now(UTC).isoformat(),
        "localTimestamp": datetime.now(UTC).isoformat(),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": user.account(),
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "conversation": conversation,
        "channelData": {"tenant": {"id": TENANT_ID}, **channel_data},
        "locale": user.locale,
        "localTimezone": user.time_zone,
        "entities": [
            {
                "type": "clientInfo",
                "locale": user.locale,
                "country": "DE",
                "platform": "Web",
                "timezone": user.time_zone,
            }
        ],
    }


def _personal(user: TeamsUser) -> dict[str, Any]:
    return {
        "id": personal_conversation_id(user),
        "conversationType": "personal",
        "tenantId": TENANT_ID,
    }


def _channel(channel: str, thread: str | None = None) -> dict[str, Any]:
    conversation_id = channel_conversation_id(channel)
    if thread:
        conversation_id = f"{conversation_id};messageid={thread}"
    return {
        "id": conversation_id,
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": TENANT_ID,
    }


def _team_data(channel: str) -> dict[str, Any]:
    return {
        "teamsTeamId": TEAM_ID,
        "teamsChannelId": channel_conversation_id(channel),
        "team": {"id": TEAM_ID, "name": "ESMOS Service Desk"},
        "channel": {"id": channel_conversation_id(channel), "name": channel},
    }


def personal_message(user: TeamsUser, text: str, service_url: str, **fields: Any) -> dict[str, Any]:
    activity = _base("message", user, service_url, _personal(user), {})
    activity.update({"text": text, "textFormat": "plain", **fields})
    return activity


def channel_message(
    user: TeamsUser,
    text: str,
    service_url: str,
    *,
    channel: str = "general",
    thread: str | None = None,
) -> dict[str, Any]:
    """A channel post that mentions the bot, as Teams delivers it: `<at>` text plus an entity."""
    mention = f"<at>{BOT_NAME}</at>"
    activity = _base("message", user, service_url, _channel(channel, thread), _team_data(channel))
    activity["text"] = f"{mention} {text}"
    activity["textFormat"] = "plain"
    activity["entities"].append(
        {"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
    )
    return activity


def card_submit(
    user: TeamsUser,
    value: dict[str, Any],
    service_url: str,
    *,
    reply_to: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """An Action.Submit press: a message with no text and the card's data in `value`."""
    conversation = _channel(channel) if channel else _personal(user)
    data = _team_data(channel) if channel else {}
    activity = _base("message", user, service_url, conversation, data)
    activity["value"] = value
    if reply_to:
        activity["replyToId"] = reply_to
    return activity


def installation_update(
    user: TeamsUser, service_url: str, *, action: str = "add", channel: str | None = None
) -> dict[str, Any]:
    conversation = _channel(channel) if channel else _personal(user)
    data = _team_data(channel) if channel else {}
    activity = _base("installationUpdate", user, service_url, conversation, data)
    activity["action"] = action
    return activity


def conversation_update(
    user: TeamsUser,
    service_url: str,
    *,
    members_added: list[TeamsUser] | None = None,
    bot_added: bool = False,
    channel: str = "general",
) -> dict[str, Any]:
    """Members (or the bot itself) added to a team, as Teams reports it in the General channel."""
    added = [member.account() for member in members_added or []]
    if bot_added:
        added.append({"id": BOT_ID, "name": BOT_NAME})
    data = {**_team_data(channel), "eventType": "teamMemberAdded"}
    activity = _base("conversationUpdate", user, service_url, _channel(channel), data)
    activity["membersAdded"] = added
    return activity


def group_chat_conversation_id(name: str) -> str:
    return f"19:{name}@thread.v2"


def _group_chat(name: str) -> dict[str, Any]:
    return {
        "id": group_chat_conversation_id(name),
        "conversationType": "groupChat",
        "isGroup": True,
        "tenantId": TENANT_ID,
    }


def message_payload(
    author: TeamsUser, html: str, *, conversation_id: str, message_id: str = "1764230400000"
) -> dict[str, Any]:
    """A message as a message action names it: its HTML body and its author's Entra id."""
    at = datetime.now(UTC).isoformat()
    return {
        "id": message_id,
        "replyToId": None,
        "createdDateTime": at,
        "lastModifiedDateTime": at,
        "deleted": False,
        "subject": None,
        "summary": None,
        "importance": "normal",
        "locale": "en-us",
        "linkToMessage": f"https://teams.microsoft.com/l/message/{conversation_id}/{message_id}",
        "body": {"contentType": "html", "content": html},
        "from": {
            "user": {
                "userIdentityType": "aadUser",
                "id": author.aad_object_id,
                "displayName": author.name,
            },
            "application": None,
            "conversation": None,
        },
        "attachments": [],
        "mentions": [],
        "reactions": [],
    }


def message_action(
    user: TeamsUser,
    service_url: str,
    *,
    message: dict[str, Any] | None,
    submit: dict[str, Any] | None = None,
    chat: str | None = None,
    channel: str | None = None,
    command_id: str = "createTicket",
) -> dict[str, Any]:
    """A message action's invoke: fetchTask when the person picks it on a message, or
    submitAction (with the dialog's inputs in `submit`) when they send its dialog. It comes
    from the conversation where the message is: a group chat, a channel, or the 1:1 chat."""
    if chat:
        conversation, data = _group_chat(chat), {}
    elif channel:
        conversation, data = _channel(channel), _team_data(channel)
    else:
        conversation, data = _personal(user), {}
    activity = _base(
        "invoke", user, service_url, conversation, {**data, "source": {"name": "message"}}
    )
    value: dict[str, Any] = {
        "commandId": command_id,
        "commandContext": "message",
        "context": {"theme": "default"},
    }
    if message is not None:
        value["messagePayload"] = message
    if submit is not None:
        value["data"] = submit
        value["botMessagePreviewAction"] = None
    activity["name"] = (
        "composeExtension/submitAction" if submit is not None else "composeExtension/fetchTask"
    )
    activity["value"] = value
    return activity


def _extension_invoke(
    user: TeamsUser, service_url: str, name: str, value: dict[str, Any], chat: str | None
) -> dict[str, Any]:
    conversation = _group_chat(chat) if chat else _personal(user)
    activity = _base("invoke", user, service_url, conversation, {"source": {"name": "compose"}})
    activity.update({"name": name, "value": value})
    return activity


def ticket_search(
    user: TeamsUser,
    service_url: str,
    text: str | None,
    *,
    chat: str | None = None,
    command_id: str = "searchTickets",
    skip: int = 0,
    count: int = 25,
) -> dict[str, Any]:
    """A search in the compose box; `text` None is the first run, when the box opens."""
    parameters = (
        [{"name": "initialRun", "value": "true"}]
        if text is None
        else [{"name": "q", "value": text}]
    )
    value = {
        "commandId": command_id,
        "parameters": parameters,
        "queryOptions": {"skip": skip, "count": count},
    }
    return _extension_invoke(user, service_url, "composeExtension/query", value, chat)


def pasted_link(
    user: TeamsUser, service_url: str, url: str, *, chat: str | None = None
) -> dict[str, Any]:
    """A link pasted into the compose box, on a domain the manifest's messageHandlers name."""
    return _extension_invoke(user, service_url, "composeExtension/queryLink", {"url": url}, chat)


def card_execute(
    user: TeamsUser,
    service_url: str,
    verb: str,
    data: dict[str, Any],
    *,
    card: str | None = None,
    chat: str | None = None,
    trigger: str = "manual",
) -> dict[str, Any]:
    """An Action.Execute press (or, with verb "refresh" and trigger "automatic", Teams asking
    for the viewer's own card) on the card posted as `card`, with the card's inputs in `data`."""
    conversation = _group_chat(chat) if chat else _personal(user)
    activity = _base("invoke", user, service_url, conversation, {})
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {
            "type": "Action.Execute",
            "id": f"action-{next(_ids)}",
            "verb": verb,
            "data": data,
        },
        "trigger": trigger,
    }
    if card:
        activity["replyToId"] = card
    return activity


def picked_item(
    user: TeamsUser, service_url: str, value: dict[str, Any], *, chat: str | None = None
) -> dict[str, Any]:
    """A search result picked: the value of its preview's tap comes back to the bot."""
    return _extension_invoke(user, service_url, "composeExtension/selectItem", value, chat)
