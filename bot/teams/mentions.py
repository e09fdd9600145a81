"""Reads a message's text for a command: the bot's own mention dropped, other mentions as words."""

from __future__ import annotations

import re

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount

_AT_TAGS = re.compile(r"</?at[^>]*>", re.IGNORECASE)


def command_text(activity: Activity) -> tuple[str, dict[str, ChannelAccount]]:
    """The text with each `<at>Name</at>` of another person turned into one word `@Name`.

    Returns that text and, per word, the account Teams says was mentioned there: who is meant
    is the mention entity's Teams user id, whatever name the text shows.
    """
    TurnContext.remove_recipient_mention(activity)
    text = activity.text or ""
    mentioned: dict[str, ChannelAccount] = {}
    for entity in TurnContext.get_mentions(activity):
        properties = getattr(entity, "additional_properties", None) or {}
        account = properties.get("mentioned") or {}
        if not isinstance(account, dict) or not account.get("id"):
            continue
        if account["id"] == activity.recipient.id:
            continue
        shown = properties.get("text") or f"<at>{account.get('name') or ''}</at>"
        # Double quotes keep a name with spaces one word for the command parser.
        name = " ".join(_AT_TAGS.sub("", shown).replace('"', "").split())
        name = name or " ".join(str(account.get("name") or "").replace('"', "").split())
        word = f"@{name or 'someone'}"
        text = text.replace(shown, f'"{word}"', 1)
        mentioned[word] = ChannelAccount(
            id=account["id"],
            name=account.get("name"),
            aad_object_id=account.get("aadObjectId"),
        )
    return " ".join(text.split()), mentioned
