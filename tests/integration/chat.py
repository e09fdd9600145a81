"""A customer's side of the 1:1 chat over real HTTP: what they type or press, and what comes back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from bot.app import DATABASE
from bot.demo.activities import TeamsUser, card_submit, personal_message
from bot.demo.connector import Recorded
from tests.integration.desk import Desk


@dataclass
class Turn:
    """What the bot did in answer to one activity: its replies and the cards it redrew."""

    replies: list[Recorded]
    updates: list[Recorded]

    @property
    def texts(self) -> list[str]:
        return [said(call) for call in self.replies]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def buttons(self) -> list[str]:
        """The answers offered by the replies' cards (a question with fixed answers)."""
        titles = []
        for call in self.replies:
            for attachment in call.body.get("attachments") or []:
                for item in attachment["content"].get("body", []):
                    if item.get("type") == "Input.ChoiceSet":
                        titles += [choice["title"] for choice in item["choices"]]
        return titles

    def choices(self) -> dict[str, str]:
        """The answers offered by the replies' cards: what each says, and its value."""
        found = {}
        for call in self.replies:
            for attachment in call.body.get("attachments") or []:
                for item in attachment["content"].get("body", []):
                    if item.get("type") == "Input.ChoiceSet":
                        found |= {choice["title"]: choice["value"] for choice in item["choices"]}
        return found

    def card(self) -> dict[str, Any]:
        """The last Adaptive Card among the replies."""
        cards = [
            attachment["content"]
            for call in self.replies
            for attachment in call.body.get("attachments") or []
            if attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        ]
        assert cards, f"no card in {self.texts}"
        return cards[-1]

    @property
    def card_id(self) -> str:
        """The id Teams gave the last reply (a card the customer may press later)."""
        posted = self.replies[-1].posted_id
        assert posted
        return posted


def said(call: Recorded) -> str:
    """A reply's words: its text, a hero card's text, or an Adaptive Card's summary."""
    if call.body.get("text"):
        return str(call.body["text"])
    for attachment in call.body.get("attachments") or []:
        content = attachment.get("content") or {}
        if content.get("text"):
            return str(content["text"])
    return str(call.body.get("summary") or "")


async def post(desk: Desk, activity: dict[str, Any]) -> Turn:
    before = len(desk.connector.calls)
    response = await desk.client.post("/api/messages", json=activity)
    assert response.status in (200, 201), await response.text()
    calls = desk.connector.calls[before:]
    replies = [
        call for call in calls if call.operation == "reply" and call.activity_id == activity["id"]
    ]
    updates = [call for call in calls if call.operation == "update"]
    return Turn(replies, updates)


async def say(desk: Desk, user: TeamsUser, words: str, **fields: Any) -> Turn:
    return await post(desk, personal_message(user, words, desk.connector.url, **fields))


async def press(desk: Desk, user: TeamsUser, value: Any, *, card: str | None = None) -> Turn:
    return await post(desk, card_submit(user, value, desk.connector.url, reply_to=card))


@contextmanager
def in_the_turn(desk: Desk, name: str, note: Callable[..., Any]) -> Iterator[None]:
    """Calls `note` with the engine event `name`'s arguments, for what the request's own task
    does: the dispatcher works beside the turn, in a task of its own."""

    def heard(*args: Any) -> None:
        task = asyncio.current_task()
        if task is not None and task.get_coro().__qualname__ == "RequestHandler._handle_request":
            note(*args)

    engine = desk.client.app[DATABASE].engine.sync_engine  # the app's own engine
    event.listen(engine, name, heard)
    try:
        yield
    finally:
        event.remove(engine, name, heard)
