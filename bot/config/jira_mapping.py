"""How a Jira project's words map to esmbot's: statuses, priorities, request types, fields, accounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.errors import ConfigError
from bot.tickets.lifecycle import Status

# Sensible defaults for a Jira Service Management project and a plain Jira Software one.
DEFAULT_STATUSES: dict[str, str] = {
    "to do": "new",
    "open": "new",
    "new": "new",
    "backlog": "new",
    "waiting for support": "new",
    "in progress": "in_progress",
    "work in progress": "in_progress",
    "under investigation": "in_progress",
    "in review": "in_progress",
    "waiting for customer": "waiting_for_customer",
    "pending": "waiting_for_customer",
    "waiting for vendor": "waiting_for_vendor",
    "waiting for third party": "waiting_for_vendor",
    "escalated": "waiting_for_vendor",
    "resolved": "resolved",
    "done": "resolved",
    "completed": "resolved",
    "closed": "closed",
    "reopened": "reopened",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "declined": "cancelled",
    "won't do": "cancelled",
}
# Jira's status categories, for a status nobody mapped.
CATEGORY_STATUSES: dict[str, str] = {
    "new": "new",
    "indeterminate": "in_progress",
    "done": "resolved",
}
DEFAULT_PRIORITIES: dict[str, str] = {
    "highest": "P1",
    "blocker": "P1",
    "critical": "P1",
    "high": "P2",
    "major": "P2",
    "medium": "P3",
    "low": "P4",
    "lowest": "P4",
    "minor": "P4",
    "trivial": "P4",
}
DEFAULT_TYPES: dict[str, str] = {
    "incident": "incident",
    "bug": "bug",
    "service request": "service request",
    "task": "service request",
    "story": "feature",
    "change": "change request",
    "problem": "problem",
    "new feature": "feature",
}
# The Jira status esmbot moves an issue to for each of its own; Jira has no "acknowledged".
DEFAULT_WRITE_BACK: dict[str, str] = {
    "new": "To Do",
    "acknowledged": "In Progress",
    "in_progress": "In Progress",
    "waiting_for_customer": "Waiting for customer",
    "waiting_for_vendor": "Waiting for vendor",
    "resolved": "Resolved",
    "closed": "Closed",
    "reopened": "In Progress",
    "cancelled": "Canceled",
}
PRIORITIES = ("P1", "P2", "P3", "P4")
FIELD_ROLES = ("module", "impact", "steps", "first_occurred", "request_type", "vendor_needed")
# [jira.fields] vendor_needed names a custom field (any value set: the vendor is needed) or,
# written "label:<name>", a label the desk puts on such issues.
LABEL_PREFIX = "label:"


@dataclass(frozen=True)
class JiraMapping:
    """Jira's names (lower-cased) to esmbot's values; `fields` names the custom fields to read."""

    statuses: Mapping[str, Status] = field(default_factory=dict)
    priorities: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    accounts: Mapping[str, str] = field(default_factory=dict)  # accountId → e-mail
    status_names: Mapping[Status, str] = field(default_factory=dict)  # for transitions back

    def status(self, name: str | None, category: str | None = None) -> Status | None:
        if name and name.strip().lower() in self.statuses:
            return self.statuses[name.strip().lower()]
        if category and category.lower() in CATEGORY_STATUSES:
            return Status(CATEGORY_STATUSES[category.lower()])
        return None

    def priority(self, name: str | None) -> str | None:
        return self.priorities.get(name.strip().lower()) if name else None

    def ticket_type(self, name: str | None) -> str | None:
        if not name:
            return None
        return self.types.get(name.strip().lower(), name.strip().lower())


def parse_jira_mapping(data: object, where: str) -> JiraMapping:
    """Reads the [jira] table: each sub-table extends or overrides the defaults above."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: [jira] must be a table")
    known = {"statuses", "priorities", "types", "fields", "accounts", "write_back"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{where}: [jira] has unknown key {unknown[0]!r} (known keys: {', '.join(sorted(known))})"
        )
    statuses = _table(data, "statuses", where, DEFAULT_STATUSES)
    for name, value in statuses.items():
        if value not in Status.__members__.values():
            raise ConfigError(
                f"{where}: [jira.statuses].{name!r}: {value!r} is not an esmbot status "
                f"(one of {', '.join(status.value for status in Status)})"
            )
    priorities = _table(data, "priorities", where, DEFAULT_PRIORITIES)
    for name, value in priorities.items():
        if value not in PRIORITIES:
            raise ConfigError(
                f"{where}: [jira.priorities].{name!r}: {value!r} is not one of P1, P2, P3, P4"
            )
    fields = _table(data, "fields", where, {"module": "components"}, lower_keys=False)
    for role in fields:
        if role not in FIELD_ROLES:
            raise ConfigError(
                f"{where}: [jira.fields] has unknown key {role!r} (known keys: {', '.join(FIELD_ROLES)})"
            )
    accounts = {
        k: v.lower() for k, v in _table(data, "accounts", where, {}, lower_keys=False).items()
    }
    write_back = _table(data, "write_back", where, DEFAULT_WRITE_BACK, lower_keys=False)
    for ours in write_back:
        if ours not in Status.__members__.values():
            raise ConfigError(
                f"{where}: [jira.write_back] has unknown key {ours!r} (esmbot statuses: {', '.join(Status)})"
            )
    names = {Status(ours): jira_name for ours, jira_name in write_back.items()}
    return JiraMapping(
        statuses={name: Status(value) for name, value in statuses.items()},
        priorities=priorities,
        types=_table(data, "types", where, DEFAULT_TYPES),
        fields=fields,
        accounts=accounts,
        status_names=names,
    )


def _table(
    data: dict[str, Any], key: str, where: str, defaults: dict[str, str], *, lower_keys: bool = True
) -> dict[str, str]:
    table = data.get(key, {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ConfigError(f"{where}: [jira.{key}] must be a table of strings")
    merged = dict(defaults)
    merged.update({(k.lower() if lower_keys else k): v for k, v in table.items()})
    return merged
