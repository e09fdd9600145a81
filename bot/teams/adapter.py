"""Builds esmbot's CloudAdapter, reusing its connector clients, and answers turn errors with an apology."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import ssl
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import certifi
import requests
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AppCredentials,
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from msrest.exceptions import ClientRequestError
from msrest.pipeline import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline, Request, Response
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http.async_requests import AsyncRequestsClientResponse
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, get_environ_proxies, select_proxy
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

from bot.config import Settings
from bot.teams.turns import EsmbotAdapter
from bot.teams.wire import use_wire_serializer

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on our side. Please try again in a moment."

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
    for every turn and every proactive message, and sends through `requests` in a thread pool.
    Here each client is built once per app id, audience and service URL, its credentials (and
    so their token cache) live on, and its calls go through one aiohttp session.
    """

    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)
        self._transport = _Transport()
        self._connectors = _ConnectorClients(self._transport)
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

    async def close(self) -> None:
        """Closes the connections to the Bot Connector; a later call opens new ones."""
        await self._transport.close()


_Key = tuple[str | None, str | None, str]  # app id, audience, service URL


class _ConnectorClients:
    """The connector clients built so far, the least recently used dropped past the bound."""

    def __init__(self, transport: _Transport) -> None:
        self._transport = transport
        self._clients: OrderedDict[_Key, ConnectorClient] = OrderedDict()

    async def get(
        self, key: _Key, build: Callable[[], Awaitable[ConnectorClient]]
    ) -> ConnectorClient:
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        client = await build()
        client.config.pipeline = self._transport.pipeline(client.config)
        use_wire_serializer(client)
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
            (self._app_id, audience, service_url),
            lambda: self._stock.create(service_url, audience),
        )


def _app_id(claims_identity: ClaimsIdentity) -> str | None:
    # As botbuilder reads it: the token's audience from a channel, else its app id claim.
    app_id = claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
    if app_id is None:
        app_id = claims_identity.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
    return app_id


class _Transport:
    """One aiohttp session for every call to the Bot Connector, so connections stay open."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._keeper: AsyncGenerator[None, None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def session(self) -> aiohttp.ClientSession:
        session, loop = self._session, asyncio.get_running_loop()
        if session is None or session.closed or self._loop is not loop:
            # requests used certifi's roots (or REQUESTS_CA_BUNDLE); proxies are set per call,
            # as trust_env would also read ~/.netrc in a thread on every call.
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            context = ssl.create_default_context(cafile=bundle or certifi.where())
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
            # If nobody calls close(), the event loop still does: it closes the async
            # generators started on it when it shuts down, or when one is collected.
            self._keeper = _closing(session)
            await anext(self._keeper)
            self._session, self._loop = session, loop
        return session

    async def close(self) -> None:
        keeper, self._keeper, self._session = self._keeper, None, None
        if keeper is not None:
            await keeper.aclose()

    def pipeline(self, config: Any) -> AsyncPipeline:
        """msrest's own policies around an aiohttp sender, in place of the requests one."""
        policies = [
            config.user_agent_policy,
            _Authorization(config.credentials),
            RawDeserializer(),
            config.http_logger_policy,
        ]
        return AsyncPipeline(policies, _AiohttpSender(self, config))


class _Authorization(AsyncHTTPPolicy):
    """Signs each call as msrest's credentials policy did, fetching tokens off the event loop."""

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    async def send(self, request: Request, **kwargs: Any) -> Response:
        header = await self._header()
        if header:
            request.http_request.headers["Authorization"] = header
        else:
            request.http_request.headers.pop("Authorization", None)
        assert self.next is not None  # the pipeline links each policy to the one after it
        return await self.next.send(request, **kwargs)

    async def _header(self) -> str | None:
        credentials = self._credentials
        if credentials is None:
            return None
        if isinstance(credentials, AppCredentials):
            # Without an app id (local mode) botbuilder sends no token, as here.
            app_id = credentials.microsoft_app_id
            if not app_id or app_id == AuthenticationConstants.ANONYMOUS_SKILL_APP_ID:
                return None
            # MSAL answers from its cache, or asks Azure AD: a blocking call either way.
            token = await asyncio.to_thread(credentials.get_access_token)
            return f"Bearer {token}"
        signed = await asyncio.to_thread(credentials.signed_session, requests.Session())
        return signed.headers.get("Authorization")


class _AiohttpSender(AsyncHTTPSender):
    """Sends over aiohttp, retrying exactly as the requests sender's urllib3 policy did.

    The answer is handed on as a `requests.Response`, so botbuilder's deserialising and its
    errors (ErrorResponseException.response) look the same as before.
    """

    def __init__(self, transport: _Transport, config: Any) -> None:
        self._transport, self._config = transport, config
        # The proxy the environment names for this service URL (HTTPS_PROXY, NO_PROXY...),
        # read once: a client only ever calls its own service URL.
        self._proxy = select_proxy(config.base_url, get_environ_proxies(config.base_url))

    async def __aenter__(self) -> _AiohttpSender:
        return self

    async def __aexit__(self, *exc_details: object) -> None:
        return None

    def build_context(self) -> None:
        return None

    async def send(self, request: Request, **kwargs: Any) -> Response:
        outgoing = request.http_request
        if outgoing.files:
            raise ClientRequestError("multipart bodies are not supported by this sender")
        body = outgoing.data.encode() if isinstance(outgoing.data, str) else outgoing.data
        headers = {**self._config.headers, **outgoing.headers}
        # aiohttp counts the encoded body itself.
        headers.pop("Content-Length", None)
        method, url = outgoing.method, outgoing.url
        retry: Retry = self._config.retry_policy()
        while True:
            try:
                answer = await self._exchange(method, url, headers, body)
            except (aiohttp.ClientError, TimeoutError) as error:
                retry = _after_failure(retry, method, url, error)
                await _pause(retry.get_backoff_time())
                continue
            status = _Status(answer)
            if not retry.is_retry(
                method, answer.status_code, bool(status.headers.get("Retry-After"))
            ):
                return Response(request, AsyncRequestsClientResponse(outgoing, answer))
            try:
                retry = retry.increment(method, url, response=status)  # type: ignore[arg-type]  # Retry reads only what _Status has
            except MaxRetryError as error:
                # requests raised RetryError here, which msrest turned into this.
                raise ClientRequestError("Error occurred in request.", error) from error
            await _pause(retry.get_retry_after(status) or retry.get_backoff_time())  # type: ignore[arg-type]  # Retry reads only what _Status has

    async def _exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> requests.Response:
        connection = self._config.connection
        # requests applied its timeout to connecting and to each read, not to the whole call.
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connection.timeout, sock_read=connection.timeout
        )
        session = await self._transport.session()
        async with session.request(
            method,
            url,
            headers=headers,
            data=body,
            timeout=timeout,
            proxy=self._proxy,
            # True takes the session's context; False, as in requests, skips verification.
            ssl=connection.verify is not False,
        ) as answer:
            content = await answer.read()
            response = requests.Response()
            response.status_code = answer.status
            response.reason = answer.reason or ""
            response.url = str(answer.url)
            response.headers = CaseInsensitiveDict(answer.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = io.BytesIO(content)
        return response


class _Status:
    """The parts of an answer urllib3's Retry reads."""

    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        self.headers = response.headers

    def get_redirect_location(self) -> bool:
        return False  # aiohttp follows redirects itself, as requests did


def _after_failure(retry: Retry, method: str, url: str, error: BaseException) -> Retry:
    """The next retry state after a failed exchange, or the error msrest raised for it."""
    if isinstance(error, aiohttp.TooManyRedirects | aiohttp.InvalidURL):
        raise ClientRequestError("Error occurred in request.", error) from error
    # urllib3 may retry a call that never connected; one that may have reached the server
    # only if its method is idempotent.
    connecting = isinstance(error, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    seen: Exception = ConnectTimeoutError(str(error)) if connecting else ProtocolError(str(error))
    try:
        return retry.increment(method, url, error=seen)
    except (MaxRetryError, ConnectTimeoutError, ProtocolError):
        raise ClientRequestError("Error occurred in request.", error) from error


async def _closing(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await session.close()


async def _pause(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


def create_authentication(settings: Settings) -> ReusingAuthentication:
    return ReusingAuthentication(
        _AuthConfiguration(
            APP_ID=settings.app_id,
            APP_PASSWORD=settings.app_password,
            APP_TYPE=settings.app_type,
            APP_TENANTID=settings.app_tenant_id,
        )
    )


def create_adapter(authentication: ConfigurationBotFrameworkAuthentication) -> CloudAdapter:
    adapter = EsmbotAdapter(authentication)
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
