"""esmbot.toml and the environment: the example loads, and each mistake names its key."""

from __future__ import annotations

import os
import tomllib
from datetime import time
from pathlib import Path

import pytest

from bot.config import Settings, load_organisation, load_settings, parse_organisation
from bot.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "esmbot.example.toml"


def example() -> dict:
    return tomllib.loads(EXAMPLE.read_text())


def test_the_example_file_describes_esmos():
    org = load_organisation(EXAMPLE)

    assert (org.name, org.service, org.time_zone.key, org.default_locale) == (
        "ESMOS",
        "OpenCart",
        "Europe/Berlin",
        "en",
    )
    assert str(org.sla_for("P3").first_response) == "48 hours"
    assert str(org.sla_for("P3").resolution) == "5 working days"
    assert str(org.sla_for("P3").vendor_escalation) == "24 hours"
    assert str(org.sla_for("P1").first_response) == "4 hours"
    assert str(org.sla_for("P2").vendor_escalation) == "24 hours"  # inherited from default
    assert org.csat_target == 3.0
    assert org.calendar.day_start == time(8) and org.calendar.day_end == time(17)
    assert "Checkout" in org.modules and "workplace move" in org.ticket_types
    assert str(org.vendor.response) == "8 hours" and org.vendor.reminder_at == 0.75
    assert org.vendor_calendar is org.calendar  # no calendar of its own


def test_the_vendor_may_count_its_response_time_on_its_own_calendar():
    data = example()
    data["vendor"] = {"response": "4 business hours", "time_zone": "Europe/Riga"}
    org = parse_organisation(data)

    assert org.vendor_calendar.time_zone.key == "Europe/Riga"
    assert org.vendor_calendar.day_start == time(8)  # the calendar's own defaults
    assert parse_organisation({}).vendor.response is None  # no promise unless one is made


def test_roles_come_from_the_file_by_email_or_object_id():
    data = example()
    data["roles"]["agents"].append("0F5C6F7A-1111-2222-3333-444455556666")
    org = parse_organisation(data)

    assert org.roles_of(aad_object_id=None, email="Danielle@ESMOS.example", tenant_id=None) == {
        "managers"
    }
    assert org.roles_of(
        aad_object_id="0f5c6f7a-1111-2222-3333-444455556666", email=None, tenant_id=None
    ) == {"agents"}
    assert (
        org.roles_of(aad_object_id=None, email="someone@esmos.example", tenant_id=None)
        == frozenset()
    )


OURS = "72f988bf-86f1-41af-91ab-2d7cd011db47"
THEIRS = "0a0b0c0d-0000-4000-8000-000000000001"


def test_roles_count_only_for_people_of_a_served_tenant():
    data = example()
    data["organisation"]["tenants"] = [OURS.upper()]
    org = parse_organisation(data)

    assert org.tenants == {OURS}
    assert org.roles_of(aad_object_id=None, email="danielle@esmos.example", tenant_id=OURS) == {
        "managers"
    }
    # The same address in another organisation's directory holds no role here.
    assert org.roles_of(aad_object_id=None, email="danielle@esmos.example", tenant_id=THEIRS) == (
        frozenset()
    )
    assert org.roles_of(aad_object_id=None, email="danielle@esmos.example", tenant_id=None) == (
        frozenset()
    )


def test_the_tenants_default_to_the_apps_own_tenant():
    org = parse_organisation(example())

    assert org.tenants == frozenset()
    assert org.with_default_tenant(OURS.upper()).tenants == {OURS}
    assert org.with_default_tenant("").tenants == frozenset()
    named = parse_organisation({"organisation": {"tenants": [THEIRS]}})
    assert named.with_default_tenant(OURS).tenants == {THEIRS}


def test_a_tenant_that_is_not_a_string_names_the_key():
    with pytest.raises(ConfigError, match=r"\[organisation\]\.tenants must be a list"):
        parse_organisation({"organisation": {"tenants": [42]}})


def test_defaults_apply_when_the_file_is_nearly_empty():
    org = parse_organisation({})

    assert str(org.sla_for("P1").resolution) == "5 working days"
    assert org.calendar.working_days == frozenset({0, 1, 2, 3, 4})


def test_the_weekly_report_follows_the_digest_unless_told_otherwise():
    data = example()
    timers = parse_organisation(data).timers
    assert (timers.weekly_report_on, timers.weekly_time) == (0, time(8, 0))  # Monday, 08:00

    data["timers"].update(digest_at="07:30")
    assert parse_organisation(data).timers.weekly_time == time(7, 30)
    data["timers"].update(weekly_report_on="Wed", weekly_report_at="09:15")
    timers = parse_organisation(data).timers
    assert (timers.weekly_report_on, timers.weekly_time) == (2, time(9, 15))


def test_round_the_clock_hours_are_accepted():
    data = example()
    data["calendar"]["working_hours"] = "00:00-24:00"

    assert parse_organisation(data).calendar.day_end == time(0)


def _broken(section: str, key: str, value: object) -> dict:
    data = example()
    data.setdefault(section.split(".")[0], {})
    target = data
    for part in section.split("."):
        target = target.setdefault(part, {})
    target[key] = value
    return data


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        (
            "organisation",
            "time_zone",
            "Mars/Olympus",
            "[organisation].time_zone: 'Mars/Olympus' is not an IANA time zone",
        ),
        (
            "organisation",
            "default_locale",
            "fr",
            "[organisation].default_locale: 'fr' is not one of en, de",
        ),
        ("organisation", "colour", "blue", "[organisation] has unknown key 'colour'"),
        (
            "calendar",
            "working_days",
            ["mon", "funday"],
            "[calendar].working_days: 'funday' is not a weekday",
        ),
        (
            "calendar",
            "working_hours",
            "9 to 5",
            "[calendar].working_hours: '9 to 5' is not a range of hours",
        ),
        ("calendar", "working_hours", "17:00-08:00", "ends before it starts"),
        (
            "calendar",
            "holidays_country",
            "XX",
            "[calendar].holidays_country: 'XX' is not a supported country",
        ),
        (
            "calendar",
            "holidays_subdivision",
            "ZZ",
            "[calendar].holidays_subdivision: 'ZZ' is not a subdivision of DE",
        ),
        (
            "calendar",
            "closed_dates",
            ["2026-13-01"],
            "[calendar].closed_dates: '2026-13-01' is not a date",
        ),
        (
            "sla.default",
            "resolution",
            "5 wrking days",
            "[sla.default].resolution: '5 wrking days' is not a duration",
        ),
        (
            "sla.P1",
            "first_response",
            "0h",
            "[sla.P1].first_response: '0h' must be longer than zero",
        ),
        ("sla.P1", "response", "4h", "[sla.P1] has unknown key 'response'"),
        ("sla", "P9", {}, "[sla] has unknown key 'P9'"),
        ("csat", "target", 5, "[csat].target: 5.0 is outside the 1–4 scale"),
        ("csat", "target", "high", "[csat].target must be a number, got 'high'"),
        (
            "roles",
            "managers",
            ["Danielle"],
            "[roles].managers: 'Danielle' is neither an e-mail address nor an Azure AD object id",
        ),
        ("roles", "admins", [], "[roles] has unknown key 'admins'"),
        ("roles", "agents", "alex@esmos.example", "[roles].agents must be a list"),
        ("catalogue", "modules", [""], "[catalogue].modules must be a list of non-empty strings"),
        ("timers", "weekly_report_on", "monday", "[timers].weekly_report_on: 'monday' is not a"),
        ("timers", "weekly_report_on", 1, "[timers].weekly_report_on: 1 is not a weekday"),
        ("timers", "weekly_report_at", "8 am", "[timers].weekly_report_at: '8 am' is not a time"),
        ("timers", "digest_at", "25:00", "[timers].digest_at: '25:00' is not a time of day"),
        ("vendor", "response", "soon", "[vendor].response: 'soon' is not a duration"),
        ("vendor", "reminder_at", 1.5, "[vendor].reminder_at: 1.5 is not between 0 and 1"),
        ("vendor", "time_zone", "Mars/Olympus", "[vendor].time_zone: 'Mars/Olympus' is not an"),
        ("vendor", "working_hours", "9 to 5", "[vendor].working_hours: '9 to 5' is not a range"),
        ("vendor", "answer", "8h", "[vendor] has unknown key 'answer'"),
    ],
)
def test_each_mistake_names_the_key_and_what_is_wrong(section, key, value, message):
    with pytest.raises(ConfigError) as raised:
        parse_organisation(_broken(section, key, value), source="esmbot.toml")

    assert message in str(raised.value)
    assert str(raised.value).startswith("esmbot.toml: ")


def test_a_file_that_is_not_toml_is_reported(tmp_path):
    path = tmp_path / "esmbot.toml"
    path.write_text("[organisation\nname = 'x'")

    with pytest.raises(ConfigError, match="not valid TOML"):
        load_organisation(path)


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_organisation(tmp_path / "nope.toml")


def test_settings_use_the_bot_framework_names():
    settings = load_settings(
        {"MicrosoftAppId": "app", "MicrosoftAppPassword": "pw", "PORT": "8080"}
    )

    assert (settings.app_id, settings.app_password, settings.port, settings.local_mode) == (
        "app",
        "pw",
        8080,
        False,
    )
    assert load_settings({}).local_mode
    assert [load_settings(e).reuse_port for e in ({}, {"ESMBOT_REUSE_PORT": "1"})] == [False, True]
    assert not load_settings({"ESMBOT_REUSE_PORT": "false"}).reuse_port
    assert load_settings({}).database_url == "sqlite+inline:///./esmbot.db"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORT": "http"}, "PORT: 'http' is not a whole number"),
        ({"PORT": "70000"}, "PORT: 70000 is not a TCP port"),
        ({"MicrosoftAppId": "app"}, "MicrosoftAppPassword: required"),
        ({"MicrosoftAppType": "Global"}, "MicrosoftAppType: 'Global' is not one of"),
        ({"MicrosoftAppType": "SingleTenant"}, "MicrosoftAppTenantId: required"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL: use sqlite+aiosqlite"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT: use json or text"),
        ({"ESMBOT_REUSE_PORT": "maybe"}, "ESMBOT_REUSE_PORT: use 1 or 0, got 'maybe'"),
        ({"ESMBOT_OWN_PORT": "3978"}, "ESMBOT_OWN_PORT: 3978 is not a TCP port other than PORT"),
        (
            {"ESMBOT_REPLICA_NAME": "r" * 101},
            "ESMBOT_REPLICA_NAME: at most 100 characters, got 101",
        ),
        ({"ESMBOT_GRAPH": "1"}, "ESMBOT_GRAPH: needs MicrosoftAppId and MicrosoftAppTenantId"),
        (
            {
                "ESMBOT_GRAPH": "1",
                "ESMBOT_GRAPH_CLIENT_ID": "g",
                "ESMBOT_GRAPH_TENANT_ID": "t",
                "GRAPH_BASE_URL": "graph.microsoft.us",
            },
            "GRAPH_BASE_URL: 'graph.microsoft.us' is not an http",
        ),
    ],
)
def test_bad_environment_names_the_variable(environ, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("+", r"\+")):
        load_settings(environ)


def test_a_dotenv_file_fills_in_what_the_environment_lacks(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("PORT=4000\nLOG_FORMAT=text\n")
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.delenv("PORT", raising=False)

    settings = load_settings(env_file=str(tmp_path / ".env"))

    assert (settings.port, settings.log_format) == (4000, "json")


def test_processes_sharing_a_port_have_names_of_their_own():
    from bot.app import replica_name

    shared = Settings(reuse_port=True)
    assert replica_name(shared).endswith(f":{shared.port}:{os.getpid()}")
    assert replica_name(Settings(reuse_port=True, own_port=9101)).endswith(":9101")
    assert replica_name(Settings(reuse_port=True, replica_name="a")) == "a"
    # One process to a port keeps its name across restarts: no process id in it.
    assert replica_name(Settings()).endswith(f":{Settings().port}")


def test_service_levels_per_request_type_override_those_per_priority():
    data = example()
    data["sla"]["P2"]["incident"] = {"resolution": "2 working days"}
    data["sla"]["default"]["service request"] = {"first_response": "8h"}
    org = parse_organisation(data)

    # [sla.P2.incident] over [sla.P2] (first response 24h, resolution 3 working days).
    assert str(org.sla_for("P2", "incident").resolution) == "2 working days"
    assert str(org.sla_for("P2", "incident").first_response) == "24 hours"
    assert str(org.sla_for("P2", "bug").resolution) == "3 working days"
    # [sla.default.<type>] under any priority's own: P1 keeps its 4h, P3 takes the type's 8h.
    assert str(org.sla_for("P1", "service request").first_response) == "4 hours"
    assert str(org.sla_for("P3", "Service Request").first_response) == "8 hours"
    assert str(org.sla_for("P3", None).first_response) == "48 hours"
    assert "sla request" in org.ticket_types and "project request" in org.ticket_types


def test_a_service_level_for_a_type_outside_the_catalogue_is_refused():
    data = example()
    data["sla"]["P2"]["incidnet"] = {"resolution": "1 working day"}

    with pytest.raises(ConfigError, match=r"\[sla.P2\].incidnet: 'incidnet' is not a request type"):
        parse_organisation(data, source="esmbot.toml")


def test_graph_settings_default_to_the_public_cloud_and_the_bots_app():
    settings = load_settings(
        {"MicrosoftAppId": "app", "MicrosoftAppPassword": "pw", "MicrosoftAppTenantId": "t1",
         "ESMBOT_GRAPH": "true"}
    )  # fmt: skip
    assert settings.graph and settings.graph_credentials == ("app", "pw", "t1")
    assert settings.graph_base_url == "https://graph.microsoft.com/v1.0"
    assert settings.authority_host == "https://login.microsoftonline.com"
    sovereign = load_settings(
        {"MicrosoftAppId": "app", "MicrosoftAppPassword": "pw", "MicrosoftAppTenantId": "t1",
         "ESMBOT_GRAPH": "1", "GRAPH_BASE_URL": "https://graph.microsoft.us/v1.0",
         "MicrosoftAuthorityHost": "https://login.microsoftonline.us"}
    )  # fmt: skip
    assert sovereign.graph_base_url == "https://graph.microsoft.us/v1.0"
    assert sovereign.authority_host == "https://login.microsoftonline.us"
