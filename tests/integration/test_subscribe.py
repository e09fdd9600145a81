"""/subscribe and /unsubscribe: managers bind channels to audiences; everyone else is refused."""

from __future__ import annotations

from bot.demo.activities import (
    channel_conversation_id,
    channel_message,
    personal_conversation_id,
    personal_message,
)
from tests.conftest import ALEX, DANIELLE

MANAGEMENT = channel_conversation_id("management")


async def test_a_manager_binds_the_channel_and_it_is_recorded(bot):
    await bot.post(
        channel_message(DANIELLE, "/subscribe management", bot.connector.url, channel="management")
    )

    reply = (await bot.connector.wait_for(1, MANAGEMENT))[0].text
    assert reply.startswith("This channel now receives the management messages")
    assert (
        await bot.scalar(
            "SELECT c.conversation_id FROM audience_bindings b JOIN conversations c ON c.id = b.conversation_id "
            "WHERE b.audience = 'management'"
        )
        == MANAGEMENT
    )
    assert await bot.scalar("SELECT outcome FROM audit_log WHERE action = 'subscribe'") == "done"


async def test_a_non_manager_is_refused_and_the_attempt_is_recorded(bot):
    await bot.post(
        channel_message(ALEX, "/subscribe management", bot.connector.url, channel="management")
    )

    reply = (await bot.connector.wait_for(1, MANAGEMENT))[0].text
    assert reply == "Sorry, /subscribe is only for managers. Nothing was changed."
    assert await bot.scalar("SELECT count(*) FROM audience_bindings") == 0
    assert await bot.scalar("SELECT outcome FROM audit_log WHERE action = 'subscribe'") == "refused"
    assert (
        await bot.scalar("SELECT p.email FROM audit_log a JOIN people p ON p.id = a.actor_id")
        == "alex@esmos.example"
    )


async def test_binding_another_channel_moves_the_audience(bot):
    await bot.post(
        channel_message(DANIELLE, "/subscribe vendor", bot.connector.url, channel="old-vendor")
    )
    await bot.post(
        channel_message(DANIELLE, "/subscribe vendor", bot.connector.url, channel="vendor")
    )

    reply = (await bot.connector.wait_for(1, channel_conversation_id("vendor")))[0].text
    assert "no longer goes to the channel that had it before" in reply
    assert await bot.scalar("SELECT count(*) FROM audience_bindings") == 1
    assert await bot.scalar(
        "SELECT c.conversation_id FROM audience_bindings b JOIN conversations c ON c.id = b.conversation_id"
    ) == channel_conversation_id("vendor")


async def test_unsubscribe_releases_the_channel(bot):
    await bot.post(
        channel_message(DANIELLE, "/subscribe agents", bot.connector.url, channel="desk")
    )
    await bot.post(
        channel_message(DANIELLE, "/subscribe management", bot.connector.url, channel="desk")
    )
    await bot.post(channel_message(DANIELLE, "/unsubscribe", bot.connector.url, channel="desk"))

    replies = await bot.connector.wait_for(3, channel_conversation_id("desk"))
    assert replies[2].text == "This channel no longer receives the agents and management messages."
    assert await bot.scalar("SELECT count(*) FROM audience_bindings") == 0


async def test_unsubscribe_of_what_is_not_bound_explains(bot):
    await bot.post(
        channel_message(DANIELLE, "/unsubscribe vendor", bot.connector.url, channel="desk")
    )

    reply = (await bot.connector.wait_for(1, channel_conversation_id("desk")))[0].text
    assert reply == "This channel is not subscribed to anything."


async def test_subscribe_outside_a_channel_says_where_it_works(bot):
    await bot.post(personal_message(DANIELLE, "/subscribe management", bot.connector.url))

    reply = (await bot.connector.wait_for(1, personal_conversation_id(DANIELLE)))[0].text
    assert reply == "/subscribe works in a team channel: type it there."
    assert await bot.scalar("SELECT count(*) FROM audience_bindings") == 0


async def test_an_unknown_audience_gets_the_usage_line(bot):
    await bot.post(
        channel_message(DANIELLE, "/subscribe everyone", bot.connector.url, channel="desk")
    )

    reply = (await bot.connector.wait_for(1, channel_conversation_id("desk")))[0].text
    assert "invalid choice: 'everyone'" in reply
    assert "Usage: /subscribe {management,vendor,agents}" in reply
    assert await bot.scalar("SELECT count(*) FROM audience_bindings") == 0
