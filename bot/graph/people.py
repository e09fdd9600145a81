"""Finds a person in Azure AD by e-mail, UPN or object id, and keeps what Graph says in the directory."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from tzlocal.windows_tz import win_tz

from bot.directory.models import Person
from bot.graph.client import GraphClient, GraphResponse

USER_FIELDS = "id,displayName,mail,userPrincipalName,preferredLanguage"


@dataclass(frozen=True)
class AadUser:
    """What Graph says of one user."""

    object_id: str
    name: str
    email: str | None
    upn: str | None
    language: str | None
    time_zone: str | None


async def find_user(graph: GraphClient, address: str) -> tuple[AadUser | None, GraphResponse]:
    """The user with this object id, UPN or e-mail, with the mailbox's time zone where Graph
    lets esmbot read it; None and Graph's answer when it does not."""
    # A UPN beginning with "$" is addressed as users('…'); "#" (B2B) must be encoded.
    path = (
        f"/users('{_odata(address)}')"
        if address.startswith("$")
        else f"/users/{quote(address, safe='@')}"
    )
    answer = await graph.call("GET", path, params={"$select": USER_FIELDS})
    if answer.status == 404 and "@" in address:
        # An e-mail address that is not the UPN: look the user up by mail instead.
        found = await graph.call(
            "GET", "/users", params={"$filter": f"mail eq '{_odata(address)}'",
                                     "$select": USER_FIELDS},
        )  # fmt: skip
        users = (found.body or {}).get("value", []) if found.ok else []
        if not users:
            return None, answer if found.ok else found
        answer = GraphResponse(200, users[0], found.headers)
    if not answer.ok or not isinstance(answer.body, dict):
        return None, answer
    body = answer.body
    zone = await graph.call("GET", f"/users/{body['id']}/mailboxSettings/timeZone")
    # Without MailboxSettings.Read (optional) the organisation's zone is used.
    time_zone = _iana(zone.body.get("value")) if zone.ok and isinstance(zone.body, dict) else None
    user = AadUser(
        object_id=str(body["id"]).lower(),
        name=str(body.get("displayName") or ""),
        email=(body.get("mail") or None),
        upn=(body.get("userPrincipalName") or None),
        language=(body.get("preferredLanguage") or None),
        time_zone=time_zone,
    )
    return user, answer


async def remember_user(session: AsyncSession, user: AadUser, *, tenant_id: str) -> Person:
    """The person this user is, created or brought up to date (their own Teams settings, once
    they chat, take over the language and time zone again)."""
    addresses = [value.lower() for value in (user.email, user.upn) if value]
    person = await session.scalar(
        select(Person)
        .where(
            or_(
                Person.aad_object_id == user.object_id,
                func.lower(Person.email).in_(addresses),
                func.lower(Person.upn).in_(addresses),
            )
        )
        .order_by(Person.aad_object_id.is_(None), Person.id)
        .limit(1)
    )
    if person is None:
        person = Person(aad_object_id=user.object_id, name=user.name, roles=[])
        session.add(person)
    person.aad_object_id = person.aad_object_id or user.object_id
    person.name = person.name or user.name
    person.email = person.email or (user.email.lower() if user.email else None)
    person.upn = person.upn or (user.upn.lower() if user.upn else None)
    person.tenant_id = person.tenant_id or tenant_id
    person.locale = person.locale or (user.language[:16] if user.language else None)
    person.time_zone = person.time_zone or user.time_zone
    await session.flush()
    return person


def _iana(name: object) -> str | None:
    """An IANA zone for a mailbox's zone, which is a Windows name unless the admin chose IANA."""
    if not isinstance(name, str) or not name:
        return None
    candidate = win_tz.get(name, name)
    try:
        ZoneInfo(candidate)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return candidate


def _odata(value: str) -> str:
    return value.replace("'", "''")
