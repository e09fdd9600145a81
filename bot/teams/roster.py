"""Reads one member of a conversation's roster: what Teams activities do not say about a person."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RosterEntry:
    email: str | None = None
    upn: str | None = None
    name: str | None = None
    aad_object_id: str | None = None
    teams_user_id: str | None = None


async def roster_entry(turn_context: TurnContext, member_id: str) -> RosterEntry:
    """Teams activities carry no e-mail; the roster has it. A failed lookup only costs the e-mail.

    `member_id` is a Teams user id, or an Entra object id (as a message's author is named).
    """
    if turn_context.activity.channel_id != "msteams":
        return RosterEntry()
    try:
        member: Any = await TeamsInfo.get_member(turn_context, member_id)
    except Exception as error:
        log.warning(
            "could not read the member's e-mail", extra={"member": member_id, "error": repr(error)}
        )
        return RosterEntry()
    aad = getattr(member, "aad_object_id", None)
    found = getattr(member, "id", None)
    return RosterEntry(
        email=getattr(member, "email", None),
        upn=getattr(member, "user_principal_name", None),
        name=getattr(member, "name", None),
        aad_object_id=aad.lower() if isinstance(aad, str) and aad else None,
        teams_user_id=found if isinstance(found, str) and found else None,
    )
