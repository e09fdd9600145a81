"""Jira as the system of record: esmbot's changes made in Teams are written to Jira first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from bot.config.jira_mapping import JiraMapping
from bot.directory.models import Person
from bot.errors import EsmbotError
from bot.events.jira_client import JiraClient
from bot.tickets.lifecycle import Status
from bot.tickets.system import Draft, Recorded

_Default = TypeVar("_Default", str, None)

# Jira Service Management's link from a problem to the incidents it causes.
PROBLEM_LINK_TYPE = "Problem/Incident"


class JiraSystem:
    """Translates esmbot's words back into Jira's and calls Jira's REST API."""

    name = "jira"

    def __init__(self, client: JiraClient, *, project_key: str, mapping: JiraMapping) -> None:
        self._client, self._project, self._mapping = client, project_key, mapping

    async def create(self, draft: Draft, *, reporter: Person | None) -> Recorded:
        created = await self._client.create_issue(
            project_key=self._project,
            summary=draft.summary,
            description=_description(draft),
            issue_type=_jira_name(self._mapping.types, draft.type, default="Task"),
            priority=_jira_name(self._mapping.priorities, draft.priority, default=None),
            reporter_account_id=reporter.jira_account_id if reporter else None,
            module=draft.module,
        )
        # The same dedupe key as the webhook Jira is about to send, so it is not applied twice.
        return Recorded(
            key=created.key, external_id=created.id, dedupe_key=f"jira:created:{created.id}"
        )

    async def comment(self, key: str, body: str, *, internal: bool) -> Recorded:
        comment_id = await self._client.add_comment(key, body, internal=internal)
        return Recorded(key=key, dedupe_key=f"jira:comment:{comment_id}:created")

    async def transition(self, key: str, status: Status) -> None:
        name = self._mapping.status_names.get(status)
        if name is None:
            raise EsmbotError(
                f"No Jira status is mapped to {status}; add one under [jira.statuses]."
            )
        await self._client.transition(key, name)

    async def assign(self, key: str, assignee: Person | None) -> None:
        if assignee is not None and not assignee.jira_account_id:
            raise EsmbotError(
                f"{assignee.name or assignee.email} has no Jira account known to esmbot yet; "
                "assign them in Jira once, or add them under [jira.accounts]."
            )
        await self._client.assign(key, assignee.jira_account_id if assignee else None)

    async def set_priority(self, key: str, priority: str) -> None:
        name = _jira_name(self._mapping.priorities, priority, default=None)
        if name is None:
            raise EsmbotError(
                f"No Jira priority is mapped to {priority}; add one under [jira.priorities]."
            )
        await self._client.set_priority(key, name)

    async def classify(self, key: str, *, type: str | None, module: str | None) -> None:
        # Jira keeps an issue's type and components behind its own screens and workflows; the
        # dispatcher classifies there, and esmbot follows Jira's webhook.
        what = "request type" if type is not None else "module"
        raise EsmbotError(
            f"{key} lives in Jira: change its {what} in Jira, and esmbot follows within seconds."
        )

    async def link(self, problem_key: str, ticket_key: str) -> None:
        await self._client.link_issues(
            outward=problem_key, inward=ticket_key, link_type=PROBLEM_LINK_TYPE
        )


def _jira_name(table: Mapping[str, str], value: str, *, default: _Default) -> str | _Default:
    # The mapping reads Jira → esmbot; the first Jira name listed for a value is used to write back.
    for jira_name, ours in table.items():
        if ours == value:
            return jira_name.title()
    return default


def _description(draft: Draft) -> str:
    parts = [draft.description.strip()]
    for label, value in (
        ("Module", draft.module),
        ("Impact", draft.impact),
        ("Steps", draft.steps),
    ):
        if value:
            parts.append(f"{label}: {value.strip()}")
    if isinstance(draft.first_occurred_at, datetime):
        parts.append(f"First seen: {draft.first_occurred_at.isoformat(timespec='minutes')}")
    elif draft.first_occurred_at:
        parts.append(f"First seen: {draft.first_occurred_at.isoformat()}")
    return "\n\n".join(part for part in parts if part)
