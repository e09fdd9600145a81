"""Builds esmbot's CloudAdapter, reusing its connector clients, and answers turn errors with an apology."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

from bot.config import Settings
from bot.notify.render import Renderer
from bot.notify.views import Reader
from bot.teams.connector_http import BACKOFF_SECONDS, RETRIES, ConnectorPoster
from bot.teams.sightings import locale_of

log = logging.getLogger(__name__)

# Teams answers from a handful of regional service URLs; the bound only matters when
# unauthenticated callers (local mode) name any URL they like.
CONNECTOR_CLIENTS = 64


@dataclass(frozen=True)
class _AuthConfiguration:
    """The attribute names ConfigurationBotFrameworkAuthentication reads its settings from."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


class ReusingAuthentication(ConfigurationBotFrameworkAuthentication):
    """botbuilder's configured authentication, keeping the clients it makes for outgoing calls.

    Stock botbuilder builds a new ConnectorClient and UserTokenClient, with new credentials,
    for every turn and every proactive message. Here each client is built once per app id,
    audience and service URL, so its credentials (and their token cache) and its HTTP session
    (and its open connections) live on.
    """

    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)
        self._connectors = _ConnectorClients()
        self._user_token_clients: dict[str | None, UserTokenClient] = {}

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _ReusingConnectorFactory(
                self._connectors, _app_id(result.claims_identity), result.connector_factory
            )
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _ReusingConnectorFactory(
            self._connectors,
            _app_id(claims_identity),
            super().create_connector_factory(claims_identity),
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        # It depends on the app id alone; esmbot never signs users in, so it is rarely used.
        app_id = _app_id(claims_identity)
        client = self._user_token_clients.get(app_id)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            self._user_token_clients[app_id] = client
        return client


_Key = tuple[str | None, str | None, str]  # app id, audience, service URL


class _ConnectorClients:
    """The connector clients built so far, the least recently used dropped past the bound."""

    def __init__(self) -> None:
        self._clients: OrderedDict[_Key, ConnectorClient] = OrderedDict()

    async def get(
        self, key: _Key, build: Callable[[], Awaitable[ConnectorClient]]
    ) -> ConnectorClient:
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        client = await build()
        self._clients[key] = client
        if len(self._clients) > CONNECTOR_CLIENTS:
            self._clients.popitem(last=False)
        return client


class _ReusingConnectorFactory(ConnectorFactory):
    """Hands out the kept client for a service URL, asking botbuilder's factory only for a new one."""

    def __init__(
        self, clients: _ConnectorClients, app_id: str | None, stock: ConnectorFactory
    ) -> None:
        self._clients, self._app_id, self._stock = clients, app_id, stock

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        return await self._clients.get(
            (self._app_id, audience, service_url), lambda: self._build(service_url, audience)
        )

    async def _build(self, service_url: str, audience: str | None) -> ConnectorClient:
        client = await self._stock.create(service_url, audience)
        # msrest tries a failed call three more times, 4.8 s apart in all: a turn waiting on a
        # failed roster look-up kept the person waiting that long. One quick retry, then the
        # caller decides; the dispatcher retries a send with its own backoff and pacing.
        policy = client.config.retry_policy
        policy.retries, policy.backoff_factor = RETRIES, BACKOFF_SECONDS
        return client


def _app_id(claims_identity: ClaimsIdentity) -> str | None:
    # As botbuilder reads it: the token's audience from a channel, else its app id claim.
    app_id = claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
    if app_id is None:
        app_id = claims_identity.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
    return app_id


def create_authentication(settings: Settings) -> ReusingAuthentication:
    return ReusingAuthentication(
        _AuthConfiguration(
            APP_ID=settings.app_id,
            APP_PASSWORD=settings.app_password,
            APP_TYPE=settings.app_type,
            APP_TENANTID=settings.app_tenant_id,
        )
    )


class EsmbotAdapter(CloudAdapter):
    """botbuilder's CloudAdapter, posting a turn's messages itself (bot/teams/connector_http.py).

    Only messages and typing go that way; what else a turn may send (an invoke's answer, a
    delay, a trace) is left to the stock adapter, which does not call out for it.
    """

    _POSTED = frozenset({ActivityTypes.message, ActivityTypes.typing})

    def __init__(self, authentication: ConfigurationBotFrameworkAuthentication) -> None:
        super().__init__(authentication)
        self.poster = ConnectorPoster()

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses = []
        for activity in activities:
            if activity.type not in self._POSTED:
                responses += await super().send_activities(context, [activity])
                continue
            activity.id = None
            connector = context.turn_state.get(self.BOT_CONNECTOR_CLIENT_KEY)
            credentials = connector.config.credentials if connector is not None else None
            response = await self.poster.post(activity, credentials)
            responses.append(response if response.id else ResourceResponse(id=""))
        return responses


def create_adapter(
    authentication: ConfigurationBotFrameworkAuthentication, renderer: Renderer
) -> EsmbotAdapter:
    """The adapter; a failed turn is answered with an apology in the words of `renderer`."""
    adapter = EsmbotAdapter(authentication)
    adapter.on_turn_error = partial(on_turn_error, renderer=renderer)
    return adapter


async def on_turn_error(context: TurnContext, error: Exception, *, renderer: Renderer) -> None:
    """Logs the failure with its context and tells the user briefly, in their language, never
    with a stack trace."""
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
        apology = renderer.phrases(Reader(locale=locale_of(activity))).t("commands.turn.apology")
        await context.send_activity(apology)
    except Exception:  # the connector may be what failed; the log above already tells
        log.warning("could not send the apology", exc_info=True)
