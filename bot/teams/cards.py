"""Turns esmbot's replies into Bot Framework activities: plain text, or a card with its fallback."""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot.commands.registry import Reply


def reply_activity(reply: Reply) -> Activity:
    if reply.card is None:
        return MessageFactory.text(reply.text)
    activity = MessageFactory.attachment(CardFactory.adaptive_card(reply.card))
    # Teams shows the text in notifications and to clients that cannot draw the card.
    activity.summary = reply.text[:200]
    return activity
