"""What `serve` says as it starts: where it listens, what it refuses to run without, and what
it warns about."""

from __future__ import annotations

import ipaddress

from sqlalchemy.engine import make_url

from bot.config.organisation import Organisation
from bot.config.settings import Settings
from bot.errors import ConfigError


def check(settings: Settings, organisation: Organisation) -> list[str]:
    """The warnings for this configuration; ConfigError for one esmbot must not serve with."""
    if (
        not settings.local_mode
        and not organisation.with_default_tenant(settings.app_tenant_id).tenants
    ):
        raise ConfigError(
            f"{organisation.source or 'esmbot.toml'}: [organisation].tenants is required when "
            "MicrosoftAppId is set (or set MicrosoftAppTenantId): without it any organisation "
            "that installs the app could talk to the desk"
        )
    warnings = []
    if not settings.jira_webhook_secret and not settings.jira_webhook_token:
        if settings.local_mode:
            warnings.append(
                "local mode: /api/events/jira takes events from anyone who can reach it; set "
                "JIRA_WEBHOOK_SECRET or JIRA_WEBHOOK_TOKEN before exposing it"
            )
        else:
            warnings.append(
                "/api/events/jira is refused: set JIRA_WEBHOOK_SECRET (signed Jira Cloud "
                "webhooks) or JIRA_WEBHOOK_TOKEN (?token=… in the webhook URL) to take Jira events"
            )
    if settings.local_mode and not _loopback(settings.listen_host):
        warnings.append(
            f"local mode listens on {settings.listen_host}, beyond loopback: it takes activities "
            "without a token, so anyone who can reach it can speak as any user; unset HOST or "
            "set MicrosoftAppId"
        )
    return warnings


def listening_line(settings: Settings, organisation: Organisation, *, example: bool) -> str:
    """ "esmbot listening on http://127.0.0.1:3978 — local mode, SQLite ./esmbot.db"."""
    host = settings.listen_host
    shown = f"[{host}]" if ":" in host else host
    mode = "local mode" if settings.local_mode else f"app {settings.app_id}"
    parts = [mode, _database(settings.database_url)]
    if example:
        parts.append(f"the example organisation (no {settings.config_path})")
    return f"esmbot listening on http://{shown}:{settings.port} — {', '.join(parts)}"


def _database(database_url: str) -> str:
    # Never the password: only what tells an operator which database this is.
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite {url.database or ':memory:'}"
    where = f"{url.host or 'localhost'}{f':{url.port}' if url.port else ''}"
    return f"PostgreSQL {where}/{url.database or ''}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere
