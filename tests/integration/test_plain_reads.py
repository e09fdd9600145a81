"""A plain read gives the instances a session would have loaded, detached as a closed session leaves them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import inspect, select

from bot.db import Database
from bot.directory.models import Conversation, Person
from bot.directory.service import PersonSighting, conversation_seen, person_by_id, person_seen


async def _stored(database: Database) -> tuple[int, str, str]:
    marker = uuid.uuid4().hex[:12]
    async with database.transaction() as session:
        person = Person(
            teams_user_id=f"29:{marker}",
            aad_object_id=marker,
            name="Lena Learner",
            email=f"{marker}@example.test",
            roles=["key_users"],
            locale="de-DE",
            time_zone="Europe/Berlin",
        )
        session.add(person)
        await session.flush()
        session.add(
            Conversation(
                conversation_id=f"a:{marker}",
                scope="personal",
                service_url="https://smba.example/emea/",
                reference={"conversation": {"id": f"a:{marker}"}, "bot": {"id": "28:bot"}},
                person_id=person.id,
            )
        )
        return person.id, marker, f"a:{marker}"


def _columns(instance: object) -> dict[str, object]:
    return {attribute.key: attribute.value for attribute in inspect(instance).attrs}


async def test_plain_reads_match_what_a_session_loads(database: Database) -> None:
    person_id, marker, conversation_id = await _stored(database)

    def read(connection):  # type: ignore[no-untyped-def]
        by_aad = person_seen(
            connection, sighting=PersonSighting(teams_user_id="29:x", aad_object_id=marker)
        )
        by_teams_id = person_seen(connection, sighting=PersonSighting(teams_user_id=f"29:{marker}"))
        return by_aad, by_teams_id, conversation_seen(connection, conversation_id=conversation_id)

    by_aad, by_teams_id, conversation = await database.read(read)
    async with database.reading() as session:
        loaded = await session.get(Person, person_id)
        chat = await session.scalar(
            select(Conversation).where(Conversation.conversation_id == conversation_id)
        )

    assert by_aad is not None and by_teams_id is not None and conversation is not None
    assert _columns(by_aad) == _columns(by_teams_id) == _columns(loaded)
    assert _columns(conversation) == _columns(chat)
    assert by_aad.created_at.tzinfo is not None and by_aad.roles == ["key_users"]
    assert inspect(by_aad).detached and not inspect(by_aad).modified
    assert (
        await database.read(
            lambda connection: person_seen(
                connection, sighting=PersonSighting(teams_user_id="29:nobody")
            )
        )
        is None
    )


async def test_a_detached_instance_changed_in_a_session_is_updated_not_added(
    database: Database,
) -> None:
    person_id, _marker, _conversation = await _stored(database)
    person = await database.read(lambda connection: person_by_id(connection, person_id))
    assert person is not None

    async with database.transaction() as session:
        person = await session.merge(person, load=False)
        person.name = "Lena L."
        person.updated_at = datetime.now(UTC)

    async with database.reading() as session:
        names = (
            await session.scalars(select(Person.name).where(Person.email == person.email))
        ).all()
    assert names == ["Lena L."]
