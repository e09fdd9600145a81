"""The people esmbot.toml gives an audience's role, for when no channel is bound to the audience."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.directory.models import Person
from bot.notify.routing import AGENTS, MANAGEMENT, VENDOR

# The role in esmbot.toml whose holders stand in for an audience's channel.
ROLE_OF_AUDIENCE = {AGENTS: "agents", MANAGEMENT: "managers", VENDOR: "vendor"}


@dataclass(frozen=True)
class Holders:
    """Who holds a role: the people esmbot knows, and the addresses nobody known answers to."""

    people: list[Person]
    addresses: list[str]


async def holders_of(session: AsyncSession, organisation: Organisation, audience: str) -> Holders:
    """The holders of the role that speaks for `audience`; nobody for an audience without one."""
    role = ROLE_OF_AUDIENCE.get(audience)
    members = organisation.roles.get(role) if role else None
    if members is None or not (members.emails or members.object_ids):
        return Holders([], [])
    emails, ids = sorted(members.emails), sorted(members.object_ids)
    found = (
        await session.scalars(
            select(Person)
            .where(
                or_(
                    func.lower(Person.email).in_(emails),
                    func.lower(Person.upn).in_(emails),
                    func.lower(Person.aad_object_id).in_(ids),
                )
            )
            .order_by(Person.id)
        )
    ).all()
    # The tenant check of person_roles: an address in another tenant is nobody's.
    people = [person for person in found if role in organisation.person_roles(person)]
    seen = {
        value.lower()
        for person in found
        for value in (person.email, person.upn, person.aad_object_id)
        if value
    }
    addresses = [value for value in (*emails, *ids) if value not in seen]
    return Holders(people, addresses)
