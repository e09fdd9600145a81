"""Installs esmbot for a user through Graph and finds the 1:1 chat that the install opens."""

from __future__ import annotations

from dataclasses import dataclass

from bot.graph.client import GraphClient, GraphResponse
from bot.notify.unreached import BLOCKED, FAILED, FORBIDDEN, NOT_IN_CATALOG, NOT_IN_DIRECTORY


@dataclass(frozen=True)
class Installed:
    """The 1:1 chat of the user with esmbot, or why there is none."""

    chat_id: str | None = None
    reason: str | None = None  # one of bot.notify.unreached's reasons
    detail: str = ""


class Installer:
    """Finds the app in the organisation's catalogue once, then installs it for users."""

    def __init__(self, graph: GraphClient, *, manifest_id: str, catalog_id: str = "") -> None:
        self._graph, self._manifest_id, self._catalog_id = graph, manifest_id, catalog_id

    async def catalog_id(self) -> tuple[str | None, GraphResponse | None]:
        """The app's id in the catalogue (not the manifest's id), found by the manifest's id."""
        if self._catalog_id:
            return self._catalog_id, None
        answer = await self._graph.call(
            "GET",
            "/appCatalogs/teamsApps",
            params={
                "$filter": f"externalId eq '{self._manifest_id}' and "
                "distributionMethod eq 'organization'"
            },
        )
        apps = (answer.body or {}).get("value", []) if answer.ok else []
        if apps:
            self._catalog_id = str(apps[0]["id"])
            return self._catalog_id, answer
        return None, answer

    async def install(self, user_id: str) -> Installed:
        """Installs the app for the user (409: it was already) and returns their chat with it."""
        catalog, found = await self.catalog_id()
        if catalog is None:
            if found is not None and not found.ok:
                return _failed(found, missing=NOT_IN_CATALOG)
            return Installed(reason=NOT_IN_CATALOG, detail=f"no app with id {self._manifest_id}")
        apps = f"/users/{user_id}/teamwork/installedApps"
        bind = f"{self._graph.base_url}/appCatalogs/teamsApps/{catalog}"
        answer = await self._graph.call("POST", apps, body={"teamsApp@odata.bind": bind})
        if not answer.ok and answer.status != 409:  # 409: installed already, which is fine
            return _failed(answer, missing=NOT_IN_DIRECTORY)
        listed = await self._graph.call(
            "GET",
            apps,
            params={"$expand": "teamsApp", "$filter": f"teamsApp/id eq '{catalog}'"},
        )
        installations = (listed.body or {}).get("value", []) if listed.ok else []
        if not installations:
            return _failed(listed, missing=NOT_IN_DIRECTORY)
        chat = await self._graph.call("GET", f"{apps}/{installations[0]['id']}/chat")
        if not chat.ok or not isinstance(chat.body, dict) or not chat.body.get("id"):
            return _failed(chat, missing=NOT_IN_DIRECTORY)
        return Installed(chat_id=str(chat.body["id"]))


def _failed(answer: GraphResponse, *, missing: str) -> Installed:
    detail = f"{answer.status} {answer.error_code}: {answer.error_message}"[:500]
    if answer.status == 403:
        # The tenant's app policy refuses with 403 too; its message names the policy.
        blocked = "polic" in answer.error_message.lower()
        return Installed(reason=BLOCKED if blocked else FORBIDDEN, detail=detail)
    if answer.status == 404:
        return Installed(reason=missing, detail=detail)
    return Installed(reason=FAILED, detail=detail)
