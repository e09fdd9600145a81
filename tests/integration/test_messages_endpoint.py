"""The Bot Framework endpoint over real HTTP: replies reach the connector, bad requests get 4xx."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from bot.demo.activities import (
    channel_conversation_id,
    channel_message,
    personal_conversation_id,
    personal_message,
)
from tests.conftest import ALEX, LEARNER


async def test_personal_message_gets_a_reply_at_the_connector(bot):
    response = await bot.post(personal_message(LEARNER, "hello there", bot.connector.url))

    assert response.status == 201
    replies = await bot.connector.wait_for(1, personal_conversation_id(LEARNER))
    assert "Hello Lena Learner!" in replies[0].text and "my tickets" in replies[0].text
    assert replies[0].body["recipient"]["id"] == LEARNER.id


async def test_help_in_a_personal_chat_lists_only_what_the_customer_may_use(bot):
    await bot.post(personal_message(LEARNER, "help", bot.connector.url))
    await bot.post(personal_message(LEARNER, "/help", bot.connector.url))

    said, listed = [
        call.text for call in await bot.connector.wait_for(2, personal_conversation_id(LEARNER))
    ]
    # Plain words reach the customer's chat, which says what can be said there; the slash
    # command lists only the commands a customer may use.
    assert "my tickets" in said and "/subscribe" not in said
    assert "/help" in listed and "/subscribe" not in listed


async def test_channel_mention_is_stripped_before_the_command_is_read(bot):
    await bot.post(
        channel_message(ALEX, "/help subscribe", bot.connector.url, thread="1700000000000")
    )

    conversation = f"{channel_conversation_id('general')};messageid=1700000000000"
    reply = (await bot.connector.wait_for(1, conversation))[0].text
    assert reply.startswith("/subscribe:")
    assert "Usage: /subscribe {management,vendor,agents}" in reply


async def test_channel_message_without_slash_still_reads_a_known_command(bot):
    await bot.post(channel_message(ALEX, "help subscribe", bot.connector.url))

    reply = (await bot.connector.wait_for(1, channel_conversation_id("general")))[0].text
    assert reply.startswith("/subscribe:")


async def test_help_answers_in_the_language_teams_gives_for_the_asker(bot):
    alex_in_german = replace(ALEX, locale="de-DE")

    await bot.post(personal_message(alex_in_german, "/help", bot.connector.url))
    await bot.post(channel_message(alex_in_german, "/help ack", bot.connector.url))

    listed = (await bot.connector.wait_for(1, personal_conversation_id(ALEX)))[0].text
    assert listed.startswith("Das können Sie mich fragen:\n")
    assert "- /sla key: Die Fristen eines Tickets in Ihrer Zeitzone" in listed
    assert "Here is what you can ask me" not in listed and "Usage" not in listed
    one = (await bot.connector.wait_for(1, channel_conversation_id("general")))[0].text
    assert one.startswith("/ack: Ein Ticket annehmen")
    assert one.endswith("\nAufruf: /ack key\nBeispiel: /ack SR-1")


async def test_words_that_are_no_command_get_an_answer_in_the_askers_language(bot):
    alex_in_german = replace(ALEX, locale="de-DE")

    await bot.post(channel_message(ALEX, "the printer again", bot.connector.url))
    await bot.post(channel_message(alex_in_german, "der Drucker schon wieder", bot.connector.url))

    english, german = [
        call.text for call in await bot.connector.wait_for(2, channel_conversation_id("general"))
    ]
    assert english.startswith("I'm not sure what you mean. You can tell me about a problem")
    assert german.startswith("Ich bin nicht sicher, was Sie meinen.")


async def test_unknown_command_suggests_the_closest(bot):
    await bot.post(personal_message(ALEX, "/hepl", bot.connector.url))

    reply = (await bot.connector.wait_for(1, personal_conversation_id(ALEX)))[0].text
    assert "Did you mean /help?" in reply


async def test_unbalanced_quotes_get_an_explanation_not_an_error(bot):
    await bot.post(personal_message(ALEX, '/help "subscribe', bot.connector.url))

    reply = (await bot.connector.wait_for(1, personal_conversation_id(ALEX)))[0].text
    assert "check your quotes" in reply


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"", "application/json", 400, "empty"),
        (b"[1, 2]", "application/json", 400, "JSON object is expected"),
        (b'{"text": "no type"}', "application/json", 400, "'type' is missing"),
        (b'{"type": "message", "text": "x"}', "application/json", 400, "missing serviceUrl"),
        (
            json.dumps(
                {
                    "type": "message",
                    "serviceUrl": "ftp://x",
                    "channelId": "msteams",
                    "conversation": {"id": "a"},
                }
            ).encode(),
            "application/json",
            400,
            "serviceUrl must be an http(s) URL",
        ),
        (b'{"type": "message"}', "text/plain", 415, "application/json"),
    ],
    ids=[
        "malformed",
        "empty",
        "array",
        "no-type",
        "no-service-url",
        "bad-service-url",
        "wrong-content-type",
    ],
)
async def test_bad_bodies_get_a_4xx_that_says_why_and_store_nothing(
    bot, body, content_type, status, says
):
    response = await bot.client.post(
        "/api/messages", data=body, headers={"Content-Type": content_type}
    )

    assert response.status == status
    assert says in (await response.json())["error"]
    assert await bot.scalar("SELECT count(*) FROM people") == 0
    assert bot.connector.calls == []


async def test_an_oversized_body_gets_413(bot):
    activity = personal_message(LEARNER, "x" * (1024 * 1024 + 10), bot.connector.url)
    body = io.BytesIO(json.dumps(activity).encode())

    response = await bot.client.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )

    assert response.status == 413
    assert "too large" in (await response.json())["error"]
    assert await bot.scalar("SELECT count(*) FROM people") == 0


async def test_help_in_a_1to1_chat_points_channel_commands_to_the_channel(bot):
    from tests.conftest import DANIELLE

    await bot.post(personal_message(DANIELLE, "/help", bot.connector.url))

    reply = (await bot.connector.wait_for(1, personal_conversation_id(DANIELLE)))[0].text
    assert "- /subscribe" not in reply
    assert "In a team channel you can also use" in reply and "/subscribe" in reply
