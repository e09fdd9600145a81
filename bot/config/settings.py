"""Deployment settings and secrets, read from environment variables (and a `.env` file)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.errors import ConfigError

# SQLite on the event loop's own thread: ticket events go in at 1,109 a second this way and at
# 748 through aiosqlite, whose thread round trips cost 0.38 ms of CPU per event more.
DEFAULT_DATABASE_URL = "sqlite+inline:///./esmbot.db"
DEFAULT_CONFIG_PATH = "esmbot.toml"


@dataclass(frozen=True)
class Settings:
    """What differs between deployments of esmbot: where it listens, what it talks to, its secrets."""

    app_id: str = ""
    app_password: str = ""
    app_tenant_id: str = ""
    app_type: str = "MultiTenant"
    database_url: str = DEFAULT_DATABASE_URL
    config_path: str = DEFAULT_CONFIG_PATH
    # Empty: loopback in local mode (it takes activities without a token), else every interface.
    host: str = ""
    port: int = 3978
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    # Empty: readable text on a terminal, JSON lines otherwise (a service manager, a collector).
    log_format: str = ""
    bot_name: str = "esmbot"
    jira_base_url: str = ""
    jira_user_email: str = ""
    jira_api_token: str = ""
    jira_project_key: str = ""
    jira_webhook_secret: str = ""
    # For Jira Server and Data Center, whose webhooks cannot sign: `?token=` in the webhook URL.
    jira_webhook_token: str = ""
    api_token: str = ""
    # Teams allows a bot about 30 messages a second per tenant (50 in newer documents).
    teams_rate_per_second: int = 30
    # Where this replica runs, the same after each restart of it and no other replica's;
    # empty: the host and the port. See bot/app.py.
    replica_name: str = ""
    # Listen with SO_REUSEPORT, so that several processes on one host can share the port.
    reuse_port: bool = False
    # A second port of this process's alone (with reuse_port, the shared one reaches any of
    # them), so that Prometheus can scrape each process's own counters.
    own_port: int | None = None
    # A folder where the card templates are kept compiled between starts; empty: none.
    template_cache: str = ""
    # Where people reach esmbot (the links in cards to its PDF reports); empty: its own address.
    public_url: str = ""
    # The key that signs those links; empty: one derived from the app password (see
    # bot/reports/links.py), which every replica shares.
    link_secret: str = ""
    # Microsoft Graph, to reach people who never chatted with the bot (bot/graph/): off unless
    # asked for, since it needs application permissions an admin has consented to.
    graph: bool = False
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    # The sign-in host: login.microsoftonline.us for US Government clouds, for example.
    authority_host: str = "https://login.microsoftonline.com"
    # A certificate instead of the app password: a PEM file with the private key, and the
    # certificate's SHA-1 thumbprint in hex.
    app_certificate_key_path: str = ""
    app_certificate_thumbprint: str = ""
    # The app's id in the organisation's Teams catalogue; empty: looked up by the manifest's id.
    teams_catalog_app_id: str = ""
    # An app registration of its own for Graph's permissions; empty: the bot's (MicrosoftApp*).
    graph_client_id: str = ""
    graph_client_secret: str = ""
    graph_tenant_id: str = ""

    @property
    def local_mode(self) -> bool:
        """Without an app id the bot accepts unauthenticated traffic, as the Emulator expects."""
        return not self.app_id

    @property
    def listen_host(self) -> str:
        if self.host:
            return self.host
        return "127.0.0.1" if self.local_mode else "0.0.0.0"

    @property
    def base_url(self) -> str:
        """Where people reach esmbot: ESMBOT_PUBLIC_URL, else the address it listens on."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.listen_host == "0.0.0.0" else self.listen_host
        return f"http://{host}:{self.port}"

    @property
    def jira_configured(self) -> bool:
        return bool(self.jira_base_url and self.jira_user_email and self.jira_api_token)

    @property
    def graph_credentials(self) -> tuple[str, str, str]:
        """The client id, secret and tenant Graph signs in with."""
        return (
            self.graph_client_id or self.app_id,
            self.graph_client_secret or self.app_password,
            self.graph_tenant_id or self.app_tenant_id,
        )

    def with_database(self, database_url: str) -> Settings:
        return replace(self, database_url=database_url)


_ENV_NAMES: dict[str, str] = {
    "MicrosoftAppId": "app_id",
    "MicrosoftAppPassword": "app_password",
    "MicrosoftAppTenantId": "app_tenant_id",
    "MicrosoftAppType": "app_type",
    "DATABASE_URL": "database_url",
    "ESMBOT_CONFIG": "config_path",
    "HOST": "host",
    "PORT": "port",
    "ESMBOT_MAX_BODY_BYTES": "max_body_bytes",
    "LOG_LEVEL": "log_level",
    "LOG_FORMAT": "log_format",
    "ESMBOT_BOT_NAME": "bot_name",
    "JIRA_BASE_URL": "jira_base_url",
    "JIRA_USER_EMAIL": "jira_user_email",
    "JIRA_API_TOKEN": "jira_api_token",
    "JIRA_PROJECT_KEY": "jira_project_key",
    "JIRA_WEBHOOK_SECRET": "jira_webhook_secret",
    "JIRA_WEBHOOK_TOKEN": "jira_webhook_token",
    "ESMBOT_API_TOKEN": "api_token",
    "ESMBOT_TEAMS_RATE": "teams_rate_per_second",
    "ESMBOT_REPLICA_NAME": "replica_name",
    "ESMBOT_REUSE_PORT": "reuse_port",
    "ESMBOT_OWN_PORT": "own_port",
    "ESMBOT_TEMPLATE_CACHE": "template_cache",
    "ESMBOT_PUBLIC_URL": "public_url",
    "ESMBOT_LINK_SECRET": "link_secret",
    "ESMBOT_GRAPH": "graph",
    "GRAPH_BASE_URL": "graph_base_url",
    "MicrosoftAuthorityHost": "authority_host",
    "MicrosoftAppCertificateKeyPath": "app_certificate_key_path",
    "MicrosoftAppCertificateThumbprint": "app_certificate_thumbprint",
    "ESMBOT_TEAMS_CATALOG_APP_ID": "teams_catalog_app_id",
    "ESMBOT_GRAPH_CLIENT_ID": "graph_client_id",
    "ESMBOT_GRAPH_CLIENT_SECRET": "graph_client_secret",
    "ESMBOT_GRAPH_TENANT_ID": "graph_tenant_id",
}
_INT_FIELDS = {"port", "max_body_bytes", "teams_rate_per_second", "own_port"}
# The outbox and the leases keep the name in columns of 128 characters, with room for what a
# start adds to it.
MAX_REPLICA_NAME = 100
_BOOL_FIELDS = {"reuse_port", "graph"}
_BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
_APP_TYPES = {"MultiTenant", "SingleTenant", "UserAssignedMSI"}
_LOG_FORMATS = {"", "json", "text"}
_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR"}


def load_settings(environ: Mapping[str, str] | None = None, env_file: str = ".env") -> Settings:
    """Builds Settings from the environment; a `.env` file fills in what the environment lacks."""
    values: dict[str, str] = {}
    if environ is None:
        file_values = dotenv_values(env_file) if Path(env_file).is_file() else {}
        values.update({k: v for k, v in file_values.items() if v is not None})
        values.update(os.environ)
    else:
        values.update(environ)
    fields: dict[str, object] = {}
    for env_name, field in _ENV_NAMES.items():
        raw = values.get(env_name)
        if raw is None or (raw == "" and field in _INT_FIELDS | _BOOL_FIELDS):
            continue
        if field in _INT_FIELDS:
            fields[field] = _parse_int(env_name, raw)
        elif field in _BOOL_FIELDS:
            fields[field] = _parse_bool(env_name, raw)
        else:
            fields[field] = raw.strip()
    settings = Settings(**fields)  # type: ignore[arg-type]  # each value has its field's kind
    _validate(settings)
    return settings


def _parse_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}: {raw!r} is not a whole number") from None
    if value <= 0:
        raise ConfigError(f"environment variable {name}: must be positive, got {value}")
    return value


def _parse_bool(name: str, raw: str) -> bool:
    value = _BOOLEANS.get(raw.strip().lower())
    if value is None:
        raise ConfigError(f"environment variable {name}: use 1 or 0, got {raw!r}")
    return value


def _validate(settings: Settings) -> None:
    if settings.app_type not in _APP_TYPES:
        raise ConfigError(
            f"environment variable MicrosoftAppType: {settings.app_type!r} is not one of "
            f"{', '.join(sorted(_APP_TYPES))}"
        )
    if settings.graph:
        _validate_graph(settings)
    if (
        settings.app_id
        and settings.app_type != "UserAssignedMSI"
        and not settings.app_password
        and not settings.app_certificate_key_path
    ):
        raise ConfigError(
            "environment variable MicrosoftAppPassword: required when MicrosoftAppId is set"
        )
    if settings.app_type == "SingleTenant" and not settings.app_tenant_id:
        raise ConfigError(
            "environment variable MicrosoftAppTenantId: required when MicrosoftAppType is SingleTenant"
        )
    if not settings.database_url.startswith(
        ("sqlite+aiosqlite://", "sqlite+inline://", "postgresql+asyncpg://")
    ):
        raise ConfigError(
            "environment variable DATABASE_URL: use sqlite+aiosqlite:///path.db, "
            "sqlite+inline:///path.db or "
            f"postgresql+asyncpg://user@host/db, got {settings.database_url.split('://')[0]}://…"
        )
    if settings.port > 65535:
        raise ConfigError(f"environment variable PORT: {settings.port} is not a TCP port")
    if len(settings.replica_name) > MAX_REPLICA_NAME:
        raise ConfigError(
            f"environment variable ESMBOT_REPLICA_NAME: at most {MAX_REPLICA_NAME} characters, "
            f"got {len(settings.replica_name)}"
        )
    if settings.own_port is not None and (
        settings.own_port > 65535 or settings.own_port == settings.port
    ):
        raise ConfigError(
            f"environment variable ESMBOT_OWN_PORT: {settings.own_port} is not a TCP port "
            "other than PORT"
        )
    if settings.log_format not in _LOG_FORMATS:
        raise ConfigError(
            f"environment variable LOG_FORMAT: use json or text, got {settings.log_format!r}"
        )
    if settings.log_level.upper() not in _LOG_LEVELS:
        raise ConfigError(
            f"environment variable LOG_LEVEL: use one of {', '.join(sorted(_LOG_LEVELS))}, "
            f"got {settings.log_level!r}"
        )


def _validate_graph(settings: Settings) -> None:
    client_id, _secret, tenant = settings.graph_credentials
    if not client_id or not tenant:
        raise ConfigError(
            "environment variable ESMBOT_GRAPH: needs MicrosoftAppId and MicrosoftAppTenantId "
            "(or ESMBOT_GRAPH_CLIENT_ID and ESMBOT_GRAPH_TENANT_ID): Graph signs in to one tenant"
        )
    for name, url in (
        ("GRAPH_BASE_URL", settings.graph_base_url),
        ("MicrosoftAuthorityHost", settings.authority_host),
    ):
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ConfigError(f"environment variable {name}: {url!r} is not an http(s) URL")
    if bool(settings.app_certificate_key_path) != bool(settings.app_certificate_thumbprint):
        raise ConfigError(
            "environment variables MicrosoftAppCertificateKeyPath and "
            "MicrosoftAppCertificateThumbprint: set both or neither"
        )
