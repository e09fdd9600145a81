"""Graph access tokens from msal: one client per app, its cache reused until shortly before expiry."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import msal
import requests

from bot.config import Settings
from bot.errors import EsmbotError


class SignInError(EsmbotError):
    """The sign-in service refused esmbot a token (a wrong secret, an unknown tenant...)."""


class TokenSource(Protocol):
    async def token(self) -> str: ...


class MsalTokens:
    """Client-credentials tokens for Graph, with the app's secret, a certificate or a managed
    identity. msal keeps each token in its cache and asks the sign-in service again only
    shortly before it expires; msal is synchronous, so it runs on a worker thread."""

    def __init__(self, settings: Settings, *, http_client: Any | None = None) -> None:
        graph = urlsplit(settings.graph_base_url)
        self.resource = f"{graph.scheme}://{graph.netloc}"
        self._settings, self._http = settings, http_client
        self._client: Any = None
        # msal reads the authority's OpenID configuration when the client is made: that is
        # done on the worker thread too, once, under this lock.
        self._lock = threading.Lock()

    async def token(self) -> str:
        """A valid access token, from the cache when it still holds one."""
        result = await asyncio.to_thread(self._acquire)
        token = result.get("access_token")
        if not token:
            raise SignInError(
                f"sign-in refused: {result.get('error', 'no token')}: "
                f"{result.get('error_description', '')}".strip()
            )
        return str(token)

    def _acquire(self) -> dict[str, Any]:
        client = self._made()
        if isinstance(client, msal.ManagedIdentityClient):
            return dict(client.acquire_token_for_client(resource=self.resource))
        scopes = [f"{self.resource}/.default"]
        return dict(client.acquire_token_for_client(scopes=scopes) or {})

    def _made(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make()
            return self._client

    def _make(self) -> Any:
        settings = self._settings
        client_id, _secret, tenant = settings.graph_credentials
        http = self._http if self._http is not None else requests.Session()
        if settings.app_type == "UserAssignedMSI" and not settings.graph_client_id:
            return msal.ManagedIdentityClient(
                msal.UserAssignedManagedIdentity(client_id=client_id), http_client=http
            )
        return msal.ConfidentialClientApplication(
            client_id,
            client_credential=_credential(settings),
            authority=f"{settings.authority_host.rstrip('/')}/{tenant}",
            http_client=http,
            # The authority is taken as configured: a sovereign cloud or a test double needs
            # no look-up in the public cloud's list of instances.
            instance_discovery=False,
        )


def _credential(settings: Settings) -> str | dict[str, str]:
    if settings.app_certificate_key_path:
        return {
            "private_key": Path(settings.app_certificate_key_path).read_text(),
            "thumbprint": settings.app_certificate_thumbprint,
        }
    return settings.graph_credentials[1]
