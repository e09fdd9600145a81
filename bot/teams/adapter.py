"""Builds botbuilder's CloudAdapter for esmbot and answers turn errors with an apology."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import ActivityTypes

from bot.config import Settings

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on our side. Please try again in a moment."


@dataclass(frozen=True)
class _AuthConfiguration:
    """The attribute names ConfigurationBotFrameworkAuthentication reads its settings from."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


def create_authentication(settings: Settings) -> ConfigurationBotFrameworkAuthentication:
    return ConfigurationBotFrameworkAuthentication(
        _AuthConfiguration(
            APP_ID=settings.app_id,
            APP_PASSWORD=settings.app_password,
            APP_TYPE=settings.app_type,
            APP_TENANTID=settings.app_tenant_id,
        )
    )


def create_adapter(authentication: ConfigurationBotFrameworkAuthentication) -> CloudAdapter:
    adapter = CloudAdapter(authentication)
    adapter.on_turn_error = on_turn_error
    return adapter


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Logs the failure with its context and tells the user briefly, never with a stack trace."""
    activity = context.activity
    log.error(
        "turn failed",
        exc_info=error,
        extra={
            "activity_type": activity.type,
            "conversation_id": activity.conversation.id if activity.conversation else None,
            "activity_id": activity.id,
        },
    )
    if activity.type != ActivityTypes.message:
        return
    try:
        await context.send_activity(APOLOGY)
    except Exception:  # the connector may be what failed; the log above already tells
        log.warning("could not send the apology", exc_info=True)
