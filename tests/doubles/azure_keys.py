"""Azure AD's signing keys, as a double: a JWKS endpoint per tenant and tokens signed with its key.

It speaks the shape `https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys` answers
(`{"keys": [JWK, ...]}`), so that PyJWKClient reads it as it reads Azure AD.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "test-key-1"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class AzureKeys:
    """Serves the public half of `key` for every tenant; `token` signs claims with a key."""

    def __init__(self) -> None:
        self.key = new_key()
        self.requests = 0

    def app(self) -> web.Application:
        async def keys(_request: web.Request) -> web.Response:
            self.requests += 1
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return web.json_response(
                {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}
            )

        made = web.Application()
        made.router.add_get("/{tenant}/discovery/v2.0/keys", keys)
        return made


def token(
    *,
    tenant: str,
    audience: str,
    oid: str,
    email: str,
    expires_in: int = 3600,
    key: rsa.RSAPrivateKey,
    version: str = "2.0",
    **extra: Any,
) -> str:
    """A token as Azure AD issues one to TeamsJS for the tab (v2: `aud` is the app id)."""
    now = int(time.time())
    issuer = (
        f"https://login.microsoftonline.com/{tenant}/v2.0"
        if version == "2.0"
        else f"https://sts.windows.net/{tenant}/"
    )
    claims = {
        "aud": audience, "iss": issuer, "tid": tenant, "oid": oid, "preferred_username": email,
        "name": email.split("@")[0].title(), "scp": "access_as_user", "ver": version,
        "iat": now - 10, "nbf": now - 10, "exp": now + expires_in, **extra,
    }  # fmt: skip
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})
