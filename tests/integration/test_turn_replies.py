"""A turn's replies reach the Bot Connector as its JSON: retried once when it stumbles, signed
when the bot has an app id, and an apology when it refuses for good."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference
from botframework.connector.auth import MicrosoftAppCredentials

from bot.demo.connector import ConnectorDouble
from bot.teams.connector_http import ConnectorError, ConnectorPoster
from tests.conftest import LEARNER
from tests.integration.chat import no_im_back, said, say
from tests.integration.desk import Desk, desk_fixture

__all__ = ["desk_fixture", "no_im_back"]
pytestmark = pytest.mark.usefixtures("no_im_back")


def _replies(desk: Desk, since: int) -> list[int]:
    return [call.status for call in desk.connector.calls[since:] if call.operation == "reply"]


async def test_a_reply_the_connector_drops_once_is_sent_again(desk: Desk) -> None:
    since = len(desk.connector.calls)
    desk.connector.fail(503, operation="reply")

    turn = await say(desk, LEARNER, "help")

    assert "my tickets" in turn.text
    assert _replies(desk, since) == [503, 200]


async def test_a_reply_refused_for_good_ends_the_turn_with_an_apology(desk: Desk) -> None:
    since = len(desk.connector.calls)
    desk.connector.fail(400, operation="reply")  # not retried: asking again changes nothing

    turn = await say(desk, LEARNER, "help")

    assert _replies(desk, since) == [400, 200]
    refused, accepted = turn.replies
    assert "my tickets" in said(refused)
    assert said(accepted).startswith("Sorry, something went wrong on our side")


class _SignedIn(MicrosoftAppCredentials):
    """The app's credentials with a token already handed out by the sign-in service."""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return "token-from-sign-in"


def _reply_in(connector_url: str) -> Any:
    reference = ConversationReference(
        activity_id="1:incoming",
        user=ChannelAccount(id="29:lena", name="Lena Learner"),
        bot=ChannelAccount(id="28:bot", name="esmbot"),
        conversation=ConversationAccount(id="a:1;messageid=7", conversation_type="personal"),
        channel_id="msteams",
        service_url=connector_url,
    )
    return TurnContext.apply_conversation_reference(MessageFactory.text("Hallo"), reference)


@pytest.mark.parametrize(
    ("credentials", "authorization"),
    [
        (_SignedIn("app-id", "secret"), "Bearer token-from-sign-in"),
        (MicrosoftAppCredentials(None, None), None),  # local mode: nothing to sign with
    ],
    ids=["app-id", "local"],
)
async def test_a_reply_is_signed_only_when_the_bot_has_an_app_id(
    credentials: MicrosoftAppCredentials, authorization: str | None
) -> None:
    connector = ConnectorDouble()
    url = await connector.start()
    poster = ConnectorPoster()
    try:
        response = await poster.post(_reply_in(url), credentials)
    finally:
        await poster.close()
        await connector.close()

    (call,) = connector.calls
    assert call.operation == "reply" and call.conversation_id == "a:1;messageid=7"
    assert call.activity_id == "1:incoming"
    assert call.headers.get("Authorization") == authorization
    assert call.body["text"] == "Hallo" and call.body["from"]["id"] == "28:bot"
    assert response.id == call.posted_id


async def test_a_long_retry_after_is_not_waited_out_in_a_turn() -> None:
    connector = ConnectorDouble()
    url = await connector.start()
    connector.fail(429, retry_after=30, operation="reply")
    waits: list[float] = []

    async def note(seconds: float) -> None:
        waits.append(seconds)

    poster = ConnectorPoster(sleep=note)
    try:
        with pytest.raises(ConnectorError, match="429"):
            await poster.post(_reply_in(url), None)
        connector.fail(429, retry_after=1, operation="reply")
        await poster.post(_reply_in(url), None)
    finally:
        await poster.close()
        await connector.close()
    assert waits == [1.0]
    assert [call.status for call in connector.calls] == [429, 429, 200]
