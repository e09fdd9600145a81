"""A customer's side of the 1:1 chat over real HTTP: what they type or press, and what comes back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event

from bot.app import DATABASE
from bot.demo.activities import TeamsUser, card_submit, personal_message
from bot.demo.connector import ConnectorDouble, Recorded
from bot.demo.script import picked
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

    def pick(self, title: str) -> dict[str, Any]:
        """What the replies' card sends when the answer `title` is picked and Next pressed."""
        for call in reversed(self.replies):
            for attachment in call.body.get("attachments") or []:
                sent = picked(attachment["content"], title)
                if sent is not None:
                    return sent
        raise AssertionError(f"no card offers {title!r}: {self.choices()}")

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
    """A reply's words: its text, or an Adaptive Card's plain-text lines."""
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


@pytest.fixture
async def no_im_back(connector: ConnectorDouble) -> AsyncIterator[None]:
    """After the test: nothing the bot sent offered an imBack button, which Teams shows six of at
    most and Agents Playground not at all; questions are asked on Adaptive Cards."""
    yield
    found = [call.body for call in connector.calls if _im_back(call.body)]
    assert not found, f"the bot sent imBack buttons: {found[:3]}"


def _im_back(value: object) -> bool:
    if isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str) and kind.lower() == "imback":
            return True
        return any(_im_back(item) for item in value.values())
    if isinstance(value, list):
        return any(_im_back(item) for item in value)
    return False
