"""An @mention of one person at the top of a card, so a channel post notifies the person it is for."""

from __future__ import annotations

import re
from typing import Any

# Teams reads the mention's text as markup: nothing in a name may close or open a tag.
_MARKUP = re.compile(r"[<>&]")


def mention_of(user_id: str | None, name: str) -> dict[str, str] | None:
    """What a draft carries to mention someone: their Teams or Azure AD id and their name."""
    if not user_id:
        return None
    return {"id": user_id, "name": _MARKUP.sub("", name).strip() or user_id}


def with_mention(card: dict[str, Any], mention: dict[str, str]) -> dict[str, Any]:
    """The card with the person's name mentioned above its body."""
    text = f"<at>{mention['name']}</at>"
    entity = {
        "type": "mention",
        "text": text,
        "mentioned": {"id": mention["id"], "name": mention["name"]},
    }
    line = {"type": "TextBlock", "text": text, "wrap": True}
    return {
        **card,
        "body": [line, *card.get("body", [])],
        "msteams": {**card.get("msteams", {}), "entities": [entity]},
    }
