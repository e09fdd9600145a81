"""Reads who sent an activity and from which conversation, in the terms of bot.directory."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount

from bot.directory.service import ConversationSighting, PersonSighting

_SCOPES = {"personal": "personal", "channel": "channel", "groupChat": "groupChat"}


def person_sighting(
    activity: Activity,
    account: ChannelAccount,
    *,
    email: str | None = None,
    upn: str | None = None,
    name: str | None = None,
) -> PersonSighting:
    return PersonSighting(
        teams_user_id=account.id,
        aad_object_id=(account.aad_object_id or "").lower() or None,
        name=account.name or name or "",
        email=email,
        upn=upn,
        tenant_id=tenant_id(activity),
        locale=locale_of(activity),
        time_zone=_time_zone(activity),
    )


def conversation_sighting(activity: Activity) -> ConversationSighting:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = channel_data.get("team") or {}
    channel = channel_data.get("channel") or {}
    conversation_id = base_conversation_id(activity.conversation.id)
    reference = TurnContext.get_conversation_reference(activity)
    # Proactive messages go to the channel itself, not into the thread this message started.
    reference.conversation.id = conversation_id
    reference.activity_id = None
    return ConversationSighting(
        conversation_id=conversation_id,
        scope=_SCOPES.get(activity.conversation.conversation_type or "", "personal"),
        service_url=activity.service_url,
        reference=reference.serialize(),
        tenant_id=tenant_id(activity),
        team_id=team.get("id"),
        channel_id=channel.get("id"),
    )


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread's id is the channel's id plus ';messageid=…'."""
    return conversation_id.split(";messageid=", 1)[0]


def tenant_id(activity: Activity) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") or {}
    return tenant.get("id") or (activity.conversation.tenant_id if activity.conversation else None)


def locale_of(activity: Activity) -> str | None:
    """The sender's Teams language, from the activity or its client info."""
    locale = activity.locale or _client_info(activity).get("locale")
    return locale[:16] if isinstance(locale, str) and locale else None


def _time_zone(activity: Activity) -> str | None:
    name = activity.local_timezone or _client_info(activity).get("timezone")
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _client_info(activity: Activity) -> dict[str, object]:
    for entity in activity.entities or []:
        properties = (
            entity.additional_properties if hasattr(entity, "additional_properties") else {}
        )
        if entity.type == "clientInfo":
            return properties or {}
    return {}
