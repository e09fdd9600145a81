"""`python -m bot graph check`: signs in and tries each Graph call esmbot needs, permission by permission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bot.config import Settings
from bot.graph.client import GraphClient, GraphResponse, GraphUnavailable
from bot.graph.tokens import SignInError
from bot.graph.wiring import GraphParts, graph_client

GRANTED, MISSING, UNKNOWN = "granted", "missing", "could not tell"


@dataclass(frozen=True)
class Permission:
    name: str
    needed_for: str
    optional: bool = False


PERMISSIONS = (
    Permission("User.Read.All", "finding people by e-mail or UPN, their name and language"),
    Permission(
        "TeamsAppInstallation.ReadWriteSelfForUser.All",
        "installing esmbot for a person and finding their chat with it",
    ),
    Permission("AppCatalog.Read.All", "finding esmbot in the organisation's app catalogue"),
    Permission("MailboxSettings.Read", "a person's time zone from their mailbox", optional=True),
)


def consent_link(settings: Settings) -> str:
    """Where an administrator grants the app's permissions for the tenant."""
    client_id, _secret, tenant = settings.graph_credentials
    return (
        f"{settings.authority_host.rstrip('/')}/{tenant}/adminconsent?client_id={quote(client_id)}"
    )


async def run_check(
    settings: Settings, *, parts: GraphParts | None = None, say: Callable[[str], Any] = print
) -> int:
    """Prints each permission's state; 0 when every required one is granted, 1 when one is
    missing, 2 when esmbot cannot sign in or reach Graph."""
    client = graph_client(settings, parts)
    try:
        return await _check(client, settings, say)
    except SignInError as error:
        say(f"sign-in failed: {error}")
        return 2
    except GraphUnavailable as error:
        say(f"Microsoft Graph did not answer: {error}")
        return 2
    finally:
        await client.close()


async def _check(client: GraphClient, settings: Settings, say: Callable[[str], Any]) -> int:
    users = await client.call("GET", "/users", params={"$top": "1", "$select": "id"})
    say(f"signed in to tenant {settings.graph_credentials[2]} at {settings.authority_host}")
    someone = _first_id(users)
    manifest_id = settings.app_id or settings.graph_credentials[0]
    catalog = await client.call(
        "GET", "/appCatalogs/teamsApps", params={"$filter": f"externalId eq '{manifest_id}'"}
    )
    installed = (
        await client.call("GET", f"/users/{someone}/teamwork/installedApps") if someone else None
    )
    zone = (
        await client.call("GET", f"/users/{someone}/mailboxSettings/timeZone") if someone else None
    )
    states = {
        "User.Read.All": _state(users),
        "AppCatalog.Read.All": _state(catalog),
        "TeamsAppInstallation.ReadWriteSelfForUser.All": _state(installed),
        "MailboxSettings.Read": _state(zone),
    }
    missing = False
    for permission in PERMISSIONS:
        state = states[permission.name]
        kind = "optional" if permission.optional else "required"
        say(f"{permission.name:<48} {state:<15} ({kind}: {permission.needed_for})")
        missing |= state == MISSING and not permission.optional
    if catalog.ok and not (catalog.body or {}).get("value"):
        say(f"esmbot (manifest id {manifest_id}) is not in the organisation's app catalogue yet")
    if any(state == MISSING for state in states.values()):
        say(f"an administrator can grant what is missing here: {consent_link(settings)}")
    return 1 if missing else 0


def _state(answer: GraphResponse | None) -> str:
    if answer is None:
        return UNKNOWN
    if answer.ok:
        return GRANTED
    return MISSING if answer.status == 403 else UNKNOWN


def _first_id(answer: GraphResponse) -> str | None:
    if not answer.ok or not isinstance(answer.body, dict):
        return None
    found = answer.body.get("value") or []
    return str(found[0]["id"]) if found else None
