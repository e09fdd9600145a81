"""Builds the Graph client and the reacher from the settings, for bot/app.py to run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.db import Database
from bot.graph.client import GraphClient, RetryPolicy
from bot.graph.install import Installer
from bot.graph.reach import Identity, Reacher, ReachSettings
from bot.graph.tokens import MsalTokens
from bot.notify.compose import Notifier
from bot.notify.metrics import Metrics


@dataclass(frozen=True)
class GraphParts:
    """What a deployment or a test may choose: msal's HTTP client, how waits are slept, the pace."""

    http_client: Any = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    reach: ReachSettings = field(default_factory=ReachSettings)


def graph_client(settings: Settings, parts: GraphParts | None = None) -> GraphClient:
    parts = parts or GraphParts()
    tokens = MsalTokens(settings, http_client=parts.http_client)
    return GraphClient(settings.graph_base_url, tokens, policy=parts.policy, sleep=parts.sleep)


def build_reacher(
    settings: Settings,
    *,
    database: Database,
    notifier: Notifier,
    metrics: Metrics,
    clock: Callable[[], datetime],
    name: str,
    on_ready: Callable[[], None],
    parts: GraphParts | None = None,
) -> Reacher:
    parts = parts or GraphParts()
    graph = graph_client(settings, parts)
    client_id, _secret, tenant = settings.graph_credentials
    return Reacher(
        database=database,
        graph=graph,
        installer=Installer(
            # The manifest's id is the bot's app id (bot/teams/manifest.py).
            graph,
            manifest_id=settings.app_id or client_id,
            catalog_id=settings.teams_catalog_app_id,
        ),
        notifier=notifier,
        metrics=metrics,
        clock=clock,
        identity=Identity(settings.app_id or client_id, settings.bot_name, tenant),
        name=name,
        settings=parts.reach,
        on_ready=on_ready,
    )
