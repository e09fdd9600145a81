"""Every activity teaches esmbot who sent it and where they can be reached later."""

from __future__ import annotations

from bot.demo.activities import (
    BOT_ID,
    TeamsUser,
    channel_conversation_id,
    conversation_update,
    installation_update,
    personal_conversation_id,
    personal_message,
)
from tests.conftest import ALEX, DANIELLE, KIM, LEARNER


async def test_install_in_a_personal_chat_stores_the_person_and_welcomes_them(bot):
    response = await bot.post(installation_update(LEARNER, bot.connector.url))

    assert response.status == 201
    welcome = (await bot.connector.wait_for(1, personal_conversation_id(LEARNER)))[0]
    card = welcome.body["attachments"][0]["content"]
    assert "Hello Lena Learner!" in str(card)
    assert [action["data"]["action"] for action in card["actions"]] == ["new_ticket", "my_tickets"]
    assert (
        await bot.scalar(
            "SELECT email FROM people WHERE aad_object_id = :aad", aad=LEARNER.aad_object_id
        )
        == "lena.learner@esmos.example"
    )
    assert (
        await bot.scalar(
            "SELECT scope FROM conversations WHERE conversation_id = :c",
            c=personal_conversation_id(LEARNER),
        )
        == "personal"
    )
    assert (
        await bot.scalar(
            "SELECT p.name FROM conversations c JOIN people p ON p.id = c.person_id WHERE c.conversation_id = :c",
            c=personal_conversation_id(LEARNER),
        )
        == "Lena Learner"
    )


async def test_the_stored_reference_can_reach_the_user_later(bot):
    await bot.post(personal_message(KIM, "hallo", bot.connector.url))

    reference = await bot.scalar(
        "SELECT reference FROM conversations WHERE conversation_id = :c",
        c=personal_conversation_id(KIM),
    )
    reference = reference if isinstance(reference, dict) else __import__("json").loads(reference)
    assert reference["serviceUrl"] == bot.connector.url
    assert reference["bot"]["id"] == BOT_ID
    assert reference["user"]["id"] == KIM.id
    assert reference["conversation"]["id"] == personal_conversation_id(KIM)


async def test_locale_time_zone_and_roles_are_learned(bot):
    await bot.post(personal_message(KIM, "hallo", bot.connector.url))
    await bot.post(personal_message(DANIELLE, "hello", bot.connector.url))
    await bot.connector.wait_for(2)

    assert (
        await bot.scalar("SELECT locale FROM people WHERE email = 'kim@esmos.example'") == "de-DE"
    )
    assert (
        await bot.scalar("SELECT time_zone FROM people WHERE email = 'kim@esmos.example'")
        == "Europe/Berlin"
    )
    roles = await bot.scalar("SELECT roles FROM people WHERE email = 'danielle@esmos.example'")
    assert "managers" in (roles if isinstance(roles, list) else __import__("json").loads(roles))


async def test_the_roster_is_asked_for_the_email_once_not_on_every_message(bot):
    for text in ("one", "two", "three"):
        await bot.post(personal_message(ALEX, text, bot.connector.url))
    await bot.connector.wait_for(3, personal_conversation_id(ALEX))

    lookups = [call for call in bot.connector.calls if call.operation == "get_member"]
    assert len(lookups) == 1
    assert await bot.scalar("SELECT count(*) FROM people") == 1


async def test_a_failed_roster_lookup_still_answers_and_remembers_the_person(bot):
    bot.connector.fail(500, operation="get_member", times=10)

    await bot.post(personal_message(LEARNER, "hello", bot.connector.url))

    assert len(await bot.connector.wait_for(1, personal_conversation_id(LEARNER))) == 1
    assert await bot.scalar("SELECT name FROM people") == "Lena Learner"
    assert await bot.scalar("SELECT email FROM people") is None
    # One quick retry, not msrest's three with 4.8 s of backoff while the person waits.
    lookups = [call for call in bot.connector.calls if call.operation == "get_member"]
    assert [call.status for call in lookups] == [500, 500]


async def test_an_unknown_member_is_remembered_without_email(bot):
    stranger = TeamsUser.named("Stranger", "stranger@elsewhere.example")

    await bot.post(personal_message(stranger, "hello", bot.connector.url))

    await bot.connector.wait_for(1, personal_conversation_id(stranger))
    assert await bot.scalar("SELECT count(*) FROM people WHERE email IS NULL") == 1


async def test_bot_added_to_a_team_learns_the_channel_and_new_members(bot):
    await bot.post(conversation_update(DANIELLE, bot.connector.url, bot_added=True))
    await bot.post(conversation_update(DANIELLE, bot.connector.url, members_added=[ALEX, LEARNER]))

    assert (
        await bot.scalar(
            "SELECT team_id FROM conversations WHERE conversation_id = :c",
            c=channel_conversation_id("general"),
        )
        == "19:team-esmos@thread.tacv2"
    )
    assert await bot.scalar("SELECT count(*) FROM people") == 3
    assert await bot.scalar("SELECT count(*) FROM people WHERE email = 'alex@esmos.example'") == 1


async def test_uninstall_marks_the_chat_unreachable(bot):
    await bot.post(installation_update(LEARNER, bot.connector.url))
    await bot.post(installation_update(LEARNER, bot.connector.url, action="remove"))

    reachable = await bot.scalar(
        "SELECT reachable FROM conversations WHERE conversation_id = :c",
        c=personal_conversation_id(LEARNER),
    )
    assert not reachable
