"""The dashboard tab's single sign-on: checks the Azure AD token TeamsJS got for the signed-in user.

The token must be signed by one of Azure AD's keys for its tenant, be meant for esmbot (its app
id, or `api://<host>/<app id>`), come from a tenant esmbot serves, and not have expired.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import jwt

from bot.config import Organisation

KEYS_URL = "https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys"
LEEWAY_SECONDS = 300  # the clock skew Azure AD's own libraries allow


class Unauthorised(Exception):
    """No token, or one esmbot does not accept; the message says which part failed."""


@dataclass(frozen=True)
class Viewer:
    """Who the token says is looking: their object id, address and tenant."""

    object_id: str | None
    email: str | None
    tenant_id: str | None
    name: str | None = None


@dataclass
class TabTokens:
    """Checks the bearer tokens of one app registration against its tenants' signing keys."""

    app_id: str
    host: str  # the host of the tab's pages, as in the manifest's webApplicationInfo resource
    organisation: Organisation
    keys_url: str = KEYS_URL

    def __post_init__(self) -> None:
        self._clients: dict[str, jwt.PyJWKClient] = {}

    async def viewer(self, authorization: str | None) -> Viewer:
        """The signed-in person of `Authorization: Bearer <token>`, or Unauthorised."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorised("sign-in required: no bearer token")
        token = token.strip()
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorised("the token cannot be read") from None
        tenant = str(unverified.get("tid") or "").lower()
        if not tenant or not self.organisation.serves(tenant):
            raise Unauthorised("the token's tenant is not one esmbot serves")
        try:
            key = await asyncio.to_thread(self._client(tenant).get_signing_key_from_jwt, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=[self.app_id, f"api://{self.host}/{self.app_id}"],
                issuer=[
                    f"https://login.microsoftonline.com/{tenant}/v2.0",
                    f"https://sts.windows.net/{tenant}/",
                ],
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "aud", "iss", "tid"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorised("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthorised("the token is meant for another application") from None
        except jwt.PyJWKClientError:
            raise Unauthorised("the token's signing key is not one of Azure AD's") from None
        except jwt.PyJWTError as error:
            raise Unauthorised(f"the token is not valid: {error}") from None
        email = claims.get("preferred_username") or claims.get("upn") or claims.get("email")
        return Viewer(
            object_id=str(claims.get("oid") or "").lower() or None,
            email=str(email).lower() if email else None,
            tenant_id=tenant,
            name=claims.get("name"),
        )

    def _client(self, tenant: str) -> jwt.PyJWKClient:
        # One client per tenant keeps its keys cached (five minutes) between requests.
        client = self._clients.get(tenant)
        if client is None:
            client = self._clients[tenant] = jwt.PyJWKClient(self.keys_url.format(tenant=tenant))
        return client
