"""The organisation esmbot serves, read from esmbot.toml and checked key by key."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from bot.config.jira_mapping import JiraMapping, parse_jira_mapping
from bot.config.problem_rules import ProblemRules, parse_problem_rules
from bot.config.timers import WEEKDAYS, Timers, parse_timers
from bot.errors import ConfigError
from bot.tickets.calendar import BusinessCalendar
from bot.tickets.durations import Duration, parse_duration

ROLES = ("agents", "managers", "key_users", "vendor")
PRIORITIES = ("P1", "P2", "P3", "P4")
LOCALES = ("en", "de")
_WEEKDAYS = {day: number for number, day in enumerate(WEEKDAYS)}
_AAD_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_T = TypeVar("_T")


def email_like(value: str) -> bool:
    """Whether a value reads as an e-mail address (or a UPN, which looks the same)."""
    return bool(_EMAIL.match(value.strip()))


@dataclass(frozen=True)
class SlaTargets:
    """The service levels promised for one priority."""

    first_response: Duration
    resolution: Duration
    vendor_escalation: Duration


@dataclass(frozen=True)
class RoleMembers:
    """The people holding one role, by Azure AD object id or by e-mail (both lower-cased)."""

    object_ids: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()

    def contains(self, *, aad_object_id: str | None, email: str | None) -> bool:
        return bool(
            (aad_object_id and aad_object_id.lower() in self.object_ids)
            or (email and email.lower() in self.emails)
        )


@dataclass(frozen=True)
class VendorTerms:
    """What the vendor promises when a ticket is escalated to it: [vendor] in esmbot.toml."""

    response: Duration | None = None  # how soon it answers an escalation; None: no promise
    calendar: BusinessCalendar | None = None  # its own working hours; None: the organisation's
    reminder_at: float = 0.75  # the share of the response time after which its channel is reminded


class Identity(Protocol):
    """How a person is known to esmbot.toml's role lists."""

    aad_object_id: str | None
    email: str | None
    upn: str | None
    tenant_id: str | None


@dataclass(frozen=True)
class Organisation:
    """Everything esmbot.toml says: names, time zone, calendar, service levels, roles, catalogue."""

    name: str
    service: str
    time_zone: ZoneInfo
    default_locale: str
    calendar: BusinessCalendar
    sla: Mapping[str, SlaTargets]
    csat_target: float
    roles: Mapping[str, RoleMembers]
    ticket_types: tuple[str, ...]
    modules: tuple[str, ...]
    jira: JiraMapping = field(default_factory=JiraMapping)
    timers: Timers = field(default_factory=Timers)
    vendor: VendorTerms = field(default_factory=VendorTerms)
    # A key user who opened a ticket for a colleague hears what the colleague hears.
    key_user_updates: bool = True
    problems: ProblemRules = field(default_factory=ProblemRules)
    # The Azure AD tenants served (lower-cased); empty serves any, which only local mode allows.
    tenants: frozenset[str] = frozenset()
    source: str = field(default="", compare=False)

    def roles_of(
        self, *, aad_object_id: str | None, email: str | None, tenant_id: str | None
    ) -> frozenset[str]:
        """The roles esmbot.toml gives this identity; the sender's own claims never count, and
        an address or object id from a tenant esmbot does not serve is nobody's."""
        if not self.serves(tenant_id):
            return frozenset()
        return frozenset(
            role
            for role, members in self.roles.items()
            if members.contains(aad_object_id=aad_object_id, email=email)
        )

    def serves(self, tenant_id: str | None) -> bool:
        """Whether people of this tenant may talk to the desk."""
        return not self.tenants or (tenant_id or "").lower() in self.tenants

    def with_default_tenant(self, tenant_id: str) -> Organisation:
        """The tenants esmbot.toml names, or else the app's own tenant (MicrosoftAppTenantId)."""
        if self.tenants or not tenant_id.strip():
            return self
        return replace(self, tenants=frozenset({tenant_id.strip().lower()}))

    def person_roles(self, person: Identity) -> frozenset[str]:
        """The roles esmbot.toml gives a known person of a served tenant, by object id, e-mail
        or UPN."""
        tenant = person.tenant_id
        return self.roles_of(
            aad_object_id=person.aad_object_id, email=person.email, tenant_id=tenant
        ) | self.roles_of(aad_object_id=None, email=person.upn, tenant_id=tenant)

    @property
    def vendor_calendar(self) -> BusinessCalendar:
        """The calendar the vendor's response time is counted on."""
        return self.vendor.calendar or self.calendar

    def sla_for(self, priority: str, ticket_type: str | None = None) -> SlaTargets:
        """The targets for a priority, or for a type at that priority where [sla.<P>.<type>]
        or [sla.default.<type>] says more."""
        if ticket_type:
            kind = ticket_type.casefold()
            for key in (f"{priority}.{kind}", f"default.{kind}"):
                if key in self.sla:
                    return self.sla[key]
        return self.sla.get(priority, self.sla["default"])


class _Section:
    """One table of the TOML file, which reports unknown and wrongly typed keys by their full name."""

    def __init__(self, source: str, name: str, data: object, known: set[str]) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{source}: [{name}] has unknown key {unknown[0]!r} (known keys: "
                f"{', '.join(sorted(known))})"
            )
        self.source, self.name, self.data = source, name, data

    def where(self, key: str) -> str:
        return f"{self.source}: [{self.name}].{key}"

    def get(self, key: str, kind: type[_T], default: _T | None = None) -> _T:
        value: object = self.data.get(key, default)
        if value is None:
            raise ConfigError(f"{self.where(key)} is required")
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ConfigError(
                f"{self.where(key)} must be a {_KIND_NAMES.get(kind, kind.__name__)}, got {value!r}"
            )
        return value

    def strings(self, key: str, default: list[str] | None = None) -> list[str]:
        values = self.get(key, list, default)
        for value in values:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{self.where(key)} must be a list of non-empty strings")
        return [value.strip() for value in values]


_KIND_NAMES = {str: "string", list: "list", float: "number", dict: "table", bool: "true/false"}


def load_organisation(path: str | Path) -> Organisation:
    """Reads and checks esmbot.toml; any mistake raises ConfigError naming the key."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{source}: file not found (copy esmbot.example.toml there or set ESMBOT_CONFIG)"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    return parse_organisation(data, source=source)


def parse_organisation(data: Mapping[str, Any], *, source: str = "esmbot.toml") -> Organisation:
    top = _Section(
        source,
        "top level",
        dict(data),
        {
            "organisation",
            "calendar",
            "sla",
            "csat",
            "roles",
            "catalogue",
            "jira",
            "timers",
            "vendor",
            "problems",
        },
    )
    org = _Section(
        source,
        "organisation",
        data.get("organisation", {}),
        {"name", "service", "time_zone", "default_locale", "tenants", "key_user_updates"},
    )
    time_zone = _time_zone(org, org.get("time_zone", str, "UTC"))
    locale = org.get("default_locale", str, "en")
    if locale not in LOCALES:
        raise ConfigError(
            f"{org.where('default_locale')}: {locale!r} is not one of {', '.join(LOCALES)}"
        )
    csat = _Section(source, "csat", top.data.get("csat", {}), {"target"})
    target = csat.get("target", float, 3.0)
    if not 1.0 <= target <= 4.0:
        raise ConfigError(f"{csat.where('target')}: {target} is outside the 1–4 scale")
    catalogue = _Section(source, "catalogue", top.data.get("catalogue", {}), {"types", "modules"})
    ticket_types = tuple(catalogue.strings("types", list(DEFAULT_TYPES)))
    return Organisation(
        name=org.get("name", str, "Service desk"),
        service=org.get("service", str, "IT"),
        time_zone=time_zone,
        default_locale=locale,
        calendar=_calendar(
            time_zone,
            _Section(
                source,
                "calendar",
                top.data.get("calendar", {}),
                {
                    "working_days",
                    "working_hours",
                    "holidays_country",
                    "holidays_subdivision",
                    "closed_dates",
                },
            ),
        ),
        sla=_sla(source, top.data.get("sla", {}), ticket_types),
        csat_target=target,
        roles=_roles(_Section(source, "roles", top.data.get("roles", {}), set(ROLES))),
        ticket_types=ticket_types,
        modules=tuple(catalogue.strings("modules", [])),
        jira=parse_jira_mapping(top.data.get("jira"), source),
        timers=parse_timers(top.data.get("timers"), source),
        vendor=_vendor(source, top.data.get("vendor", {}), time_zone),
        key_user_updates=org.get("key_user_updates", bool, True),
        problems=parse_problem_rules(top.data.get("problems"), source),
        tenants=frozenset(tenant.lower() for tenant in org.strings("tenants", [])),
        source=source,
    )


DEFAULT_TYPES = (
    "incident", "bug", "service request", "change request", "problem", "feature",
    "permission", "purchasing", "report", "telephony", "training", "workplace move",
    "sla request", "project request",
)  # fmt: skip
_DEFAULT_SLA = {"first_response": "48h", "resolution": "5 working days", "vendor_escalation": "24h"}


def _time_zone(section: _Section, name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{section.where('time_zone')}: {name!r} is not an IANA time zone (e.g. 'Europe/Berlin')"
        ) from None


def _calendar(time_zone: ZoneInfo, section: _Section) -> BusinessCalendar:
    days = section.strings("working_days", ["mon", "tue", "wed", "thu", "fri"])
    bad = [day for day in days if day.lower() not in _WEEKDAYS]
    if bad or not days:
        raise ConfigError(
            f"{section.where('working_days')}: {bad[0] if bad else '[]'!r} is not a weekday "
            "(use mon, tue, wed, thu, fri, sat, sun)"
        )
    hours = section.get("working_hours", str, "08:00-17:00")
    start, end = _working_hours(section, hours)
    country = section.data.get("holidays_country")
    subdivision = section.data.get("holidays_subdivision")
    if country is not None:
        country = section.get("holidays_country", str)
        supported = holidays.list_supported_countries()
        if country not in supported:
            raise ConfigError(
                f"{section.where('holidays_country')}: {country!r} is not a supported country code "
                "(ISO 3166-1 alpha-2, e.g. 'DE')"
            )
        if subdivision is not None:
            subdivision = section.get("holidays_subdivision", str)
            if subdivision not in supported[country]:
                raise ConfigError(
                    f"{section.where('holidays_subdivision')}: {subdivision!r} is not a subdivision "
                    f"of {country} (known: {', '.join(supported[country])})"
                )
    elif subdivision is not None:
        raise ConfigError(f"{section.where('holidays_subdivision')} needs holidays_country too")
    closed = []
    for text in section.strings("closed_dates", []):
        try:
            closed.append(date.fromisoformat(text))
        except ValueError:
            raise ConfigError(
                f"{section.where('closed_dates')}: {text!r} is not a date (use YYYY-MM-DD)"
            ) from None
    return BusinessCalendar(
        time_zone=time_zone,
        working_days=frozenset(_WEEKDAYS[day.lower()] for day in days),
        day_start=start,
        day_end=end,
        holidays_country=country,
        holidays_subdivision=subdivision,
        closed_dates=frozenset(closed),
    )


_CALENDAR_KEYS = {
    "working_days", "working_hours", "holidays_country", "holidays_subdivision", "closed_dates",
}  # fmt: skip


def _vendor(source: str, data: object, default_zone: ZoneInfo) -> VendorTerms:
    """[vendor]: its response time, and its own calendar when any calendar key is given."""
    section = _Section(
        source, "vendor", data, {"response", "reminder_at", "time_zone"} | _CALENDAR_KEYS
    )
    response = None
    if "response" in section.data:
        text = section.get("response", str)
        try:
            response = parse_duration(text)
        except ValueError as error:
            raise ConfigError(f"{section.where('response')}: {error}") from None
    reminder_at = section.get("reminder_at", float, 0.75)
    if not 0 < reminder_at < 1:
        raise ConfigError(f"{section.where('reminder_at')}: {reminder_at} is not between 0 and 1")
    own = set(section.data) & (_CALENDAR_KEYS | {"time_zone"})
    calendar = None
    if own:
        zone = _time_zone(section, section.get("time_zone", str, default_zone.key))
        calendar = _calendar(zone, section)
    return VendorTerms(response=response, calendar=calendar, reminder_at=reminder_at)


def _working_hours(section: _Section, text: str) -> tuple[time, time]:
    match = _HOURS.match(text.strip())
    try:
        if match is None:
            raise ValueError
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        # "24:00" closes at midnight, so "00:00-24:00" is open all day.
        start, end = time(h1, m1), time(0, 0) if (h2, m2) == (24, 0) else time(h2, m2)
    except ValueError:
        raise ConfigError(
            f"{section.where('working_hours')}: {text!r} is not a range of hours (e.g. '08:00-17:00')"
        ) from None
    if end != time(0, 0) and end <= start:
        raise ConfigError(f"{section.where('working_hours')}: {text!r} ends before it starts")
    return start, end


def _sla(source: str, data: object, types: tuple[str, ...]) -> dict[str, SlaTargets]:
    """[sla.default], [sla.<P>] and, per request type, [sla.default.<type>] and [sla.<P>.<type>].

    Each names only what differs, and the more specific wins: the built-in targets, then the
    default, the type's default, the priority's, and the type's at that priority.
    """
    tables = _Section(source, "sla", data, {"default", *PRIORITIES})
    kinds = {kind.casefold() for kind in types}
    names = ["default", *(priority for priority in PRIORITIES if priority in tables.data)]
    sections = {}
    for name in names:
        table = tables.data.get(name, {})
        # A sub-table is a request type's, checked below against the catalogue by name.
        tables_in = (
            {key for key, value in table.items() if isinstance(value, dict)}
            if isinstance(table, dict)
            else set()
        )
        sections[name] = _Section(source, f"sla.{name}", table, set(_DEFAULT_SLA) | tables_in)
    typed: dict[str, dict[str, _Section]] = {}  # priority → type → its table
    for name, section in sections.items():
        typed[name] = {}
        for key, table in section.data.items():
            if key in _DEFAULT_SLA:
                continue
            if key.casefold() not in kinds:
                raise ConfigError(
                    f"{section.where(key)}: {key!r} is not a request type of [catalogue].types"
                )
            typed[name][key.casefold()] = _Section(
                source, f"sla.{name}.{key}", table, set(_DEFAULT_SLA)
            )
    targets = {}
    for name in names:
        layers = [sections["default"]] + ([sections[name]] if name != "default" else [])
        targets[name] = _layered(layers)
        for kind in set(typed["default"]) | set(typed[name]):
            kind_layers = [sections["default"], typed["default"].get(kind)]
            if name != "default":
                kind_layers += [sections[name], typed[name].get(kind)]
            targets[f"{name}.{kind}"] = _layered([layer for layer in kind_layers if layer])
    return targets


def _layered(layers: list[_Section]) -> SlaTargets:
    """The targets the layers name, each over the ones before it and the built-in ones."""
    values = dict(_DEFAULT_SLA)
    for layer in layers:
        values = {key: layer.get(key, str, value) for key, value in values.items()}
    return _targets(layers[-1], values)


def _targets(section: _Section, values: dict[str, str]) -> SlaTargets:
    parsed = {}
    for key, text in values.items():
        try:
            parsed[key] = parse_duration(text)
        except ValueError as error:
            raise ConfigError(f"{section.where(key)}: {error}") from None
    return SlaTargets(**parsed)


def _roles(section: _Section) -> dict[str, RoleMembers]:
    roles = {}
    for role in ROLES:
        ids, emails = set(), set()
        for entry in section.strings(role, []):
            value = entry.lower()
            if _AAD_ID.match(value):
                ids.add(value)
            elif _EMAIL.match(value):
                emails.add(value)
            else:
                raise ConfigError(
                    f"{section.where(role)}: {entry!r} is neither an e-mail address nor an "
                    "Azure AD object id"
                )
        roles[role] = RoleMembers(object_ids=frozenset(ids), emails=frozenset(emails))
    return roles
