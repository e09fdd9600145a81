"""Remembers people and conversations as Teams shows them, and binds channels to audiences."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import detached
from bot.directory.models import AudienceBinding, AuditEntry, Conversation, Person

AUDIENCES = ("management", "vendor", "agents")

T = TypeVar("T")


@dataclass(frozen=True)
class PersonSighting:
    """What one Teams activity tells about its sender."""

    teams_user_id: str
    aad_object_id: str | None = None
    name: str = ""
    email: str | None = None
    upn: str | None = None
    tenant_id: str | None = None
    locale: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class ConversationSighting:
    """What one Teams activity tells about the conversation it came from."""

    conversation_id: str
    scope: str
    service_url: str
    reference: dict[str, Any]
    tenant_id: str | None = None
    team_id: str | None = None
    channel_id: str | None = None


# Built once: every turn runs these, and building and cache-keying a select costs more
# than SQLite takes to answer it.
_PERSON_BY_AAD = select(Person).where(Person.aad_object_id == bindparam("aad_object_id"))
_PERSON_BY_TEAMS_ID = select(Person).where(Person.teams_user_id == bindparam("teams_user_id"))
_CONVERSATION_BY_ID = select(Conversation).where(
    Conversation.conversation_id == bindparam("conversation_id")
)


_PERSON_BY_ID = select(Person).where(Person.id == bindparam("id"))


def _person_lookups(sighting: PersonSighting) -> list[tuple[Select[Any], dict[str, Any]]]:
    """How the sender is looked for, in order: by Entra object id, then by Teams user id."""
    lookups: list[tuple[Select[Any], dict[str, Any]]] = []
    if sighting.aad_object_id:
        lookups.append((_PERSON_BY_AAD, {"aad_object_id": sighting.aad_object_id}))
    lookups.append((_PERSON_BY_TEAMS_ID, {"teams_user_id": sighting.teams_user_id}))
    return lookups


async def find_person(session: AsyncSession, *, sighting: PersonSighting) -> Person | None:
    for statement, values in _person_lookups(sighting):
        person: Person | None = await session.scalar(statement, values)
        if person is not None:
            return person
    return None


async def find_conversation(session: AsyncSession, *, conversation_id: str) -> Conversation | None:
    return await session.scalar(_CONVERSATION_BY_ID, {"conversation_id": conversation_id})


# The same reads on a plain connection (`Database.read`), giving detached instances.


def person_seen(connection: Connection, *, sighting: PersonSighting) -> Person | None:
    for statement, values in _person_lookups(sighting):
        row = connection.execute(statement, values).first()
        if row is not None:
            return detached(Person, row)
    return None


def conversation_seen(connection: Connection, *, conversation_id: str) -> Conversation | None:
    row = connection.execute(_CONVERSATION_BY_ID, {"conversation_id": conversation_id}).first()
    return None if row is None else detached(Conversation, row)


def person_by_id(
    connection: Connection, person_id: int | None, *, known: Person | None = None
) -> Person | None:
    """The person with this id; `known`, someone read already, is not read again."""
    if person_id is None:
        return None
    if known is not None and known.id == person_id:
        return known
    row = connection.execute(_PERSON_BY_ID, {"id": person_id}).first()
    return None if row is None else detached(Person, row)


async def remember_person(session: AsyncSession, *, sighting: PersonSighting) -> Person:
    """Creates or refreshes the person; what the activity does not say is kept as it was."""

    async def upsert() -> Person:
        person = await find_person(session, sighting=sighting)
        if person is None:
            person = Person(teams_user_id=sighting.teams_user_id)
            session.add(person)
        for name, value in _person_values(person, sighting).items():
            setattr(person, name, value)
        await session.flush()
        return person

    return await _retry_on_race(session, upsert)


def teaches_nothing(person: Person, sighting: PersonSighting) -> bool:
    """Whether remember_person would leave this stored person exactly as it is."""
    return all(
        getattr(person, name) == value for name, value in _person_values(person, sighting).items()
    )


def _person_values(person: Person, sighting: PersonSighting) -> dict[str, object]:
    # What the activity does not say is kept as it was.
    return {
        "teams_user_id": sighting.teams_user_id,
        "aad_object_id": sighting.aad_object_id or person.aad_object_id,
        "name": sighting.name or person.name,
        "email": _lower(sighting.email) or person.email,
        "upn": _lower(sighting.upn) or person.upn,
        "tenant_id": sighting.tenant_id or person.tenant_id,
        "locale": sighting.locale or person.locale,
        "time_zone": sighting.time_zone or person.time_zone,
    }


async def remember_conversation(
    session: AsyncSession, *, sighting: ConversationSighting, person: Person | None
) -> Conversation:
    """Stores the reference needed to write to this conversation later; a reply makes it reachable."""

    async def upsert() -> Conversation:
        conversation = await find_conversation(session, conversation_id=sighting.conversation_id)
        if conversation is None:
            conversation = Conversation(conversation_id=sighting.conversation_id)
            session.add(conversation)
        for name, value in _conversation_values(conversation, sighting, person).items():
            setattr(conversation, name, value)
        await session.flush()
        return conversation

    return await _retry_on_race(session, upsert)


def conversation_unchanged(
    conversation: Conversation, sighting: ConversationSighting, person: Person | None
) -> bool:
    """Whether remember_conversation would leave this stored conversation exactly as it is."""
    values = _conversation_values(conversation, sighting, person)
    return all(getattr(conversation, name) == value for name, value in values.items())


def _conversation_values(
    conversation: Conversation, sighting: ConversationSighting, person: Person | None
) -> dict[str, object]:
    personal = sighting.scope == "personal" and person is not None
    return {
        "scope": sighting.scope,
        "service_url": sighting.service_url,
        "reference": sighting.reference,
        "tenant_id": sighting.tenant_id or conversation.tenant_id,
        "team_id": sighting.team_id or conversation.team_id,
        "channel_id": sighting.channel_id or conversation.channel_id,
        "person_id": person.id if personal and person else conversation.person_id,
        # A message from the conversation shows it is reachable again.
        "reachable": True,
        "unreachable_reason": None,
    }


async def _retry_on_race(session: AsyncSession, upsert: Callable[[], Awaitable[T]]) -> T:
    # Two first messages from one user at once both try to insert; the loser re-reads.
    try:
        async with session.begin_nested():
            return await upsert()
    except IntegrityError:
        return await upsert()


async def bind_audience(
    session: AsyncSession, *, audience: str, conversation: Conversation, actor: Person
) -> Conversation | None:
    """Makes the conversation speak for the audience; returns the one it replaced, if another."""
    binding = await session.scalar(
        select(AudienceBinding).where(AudienceBinding.audience == audience)
    )
    previous = None
    if binding is None:
        binding = AudienceBinding(audience=audience)
        session.add(binding)
    elif binding.conversation_id != conversation.id:
        previous = await session.get(Conversation, binding.conversation_id)
    binding.conversation_id = conversation.id
    binding.bound_by_id = actor.id
    await session.flush()
    return previous


async def unbind_audiences(
    session: AsyncSession, *, conversation: Conversation, audience: str | None = None
) -> list[str]:
    """Removes the conversation's bindings (one audience, or all); returns what was removed."""
    query = select(AudienceBinding.audience).where(
        AudienceBinding.conversation_id == conversation.id
    )
    if audience is not None:
        query = query.where(AudienceBinding.audience == audience)
    removed = sorted((await session.scalars(query)).all())
    if removed:
        await session.execute(
            delete(AudienceBinding).where(
                AudienceBinding.conversation_id == conversation.id,
                AudienceBinding.audience.in_(removed),
            )
        )
    return removed


async def audiences_of(session: AsyncSession, *, conversation: Conversation) -> list[str]:
    query = select(AudienceBinding.audience).where(
        AudienceBinding.conversation_id == conversation.id
    )
    return sorted((await session.scalars(query)).all())


async def bound_conversation(session: AsyncSession, *, audience: str) -> Conversation | None:
    return await session.scalar(
        select(Conversation)
        .join(AudienceBinding, AudienceBinding.conversation_id == Conversation.id)
        .where(AudienceBinding.audience == audience)
    )


async def unbound_audiences(session: AsyncSession, audiences: Iterable[str]) -> list[str]:
    """The audiences with no reachable channel bound to them, in the order asked."""
    bound = set(
        (
            await session.scalars(
                select(AudienceBinding.audience)
                .join(Conversation, AudienceBinding.conversation_id == Conversation.id)
                .where(Conversation.reachable.is_(True))
            )
        ).all()
    )
    return [audience for audience in audiences if audience not in bound]


async def record_audit(
    session: AsyncSession,
    *,
    actor: Person | None,
    action: str,
    outcome: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        action=action,
        outcome=outcome,
        target=target,
        detail=detail or {},
    )
    session.add(entry)
    await session.flush()
    return entry


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value and value.strip() else None
