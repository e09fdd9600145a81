"""Signed links to a period's PDF report: anyone holding one may open it for 15 minutes, no longer."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from bot.errors import EsmbotError

LIFETIME = timedelta(minutes=15)
PDF_PATH = "/reports/pdf"


class LinkForged(EsmbotError):
    """The link was not signed by esmbot, or something in it was changed after it was."""


class LinkExpired(EsmbotError):
    """The link was esmbot's, but its 15 minutes are over."""


@dataclass(frozen=True)
class ReportLink:
    """What a link opens: the days of a report and the language it is written in."""

    first: date
    last: date
    language: str


def link_key(*, secret: str, app_password: str, database_url: str) -> bytes:
    """The signing key: the configured secret, else one derived from the app's password (every
    replica has it), else, in local mode, from the database every process there shares."""
    material = secret or (f"password:{app_password}" if app_password else f"db:{database_url}")
    return hashlib.sha256(b"esmbot report links\0" + material.encode()).digest()


@dataclass(frozen=True)
class ReportLinks:
    """Makes and checks the signed links of one deployment, at its public address."""

    key: bytes
    base_url: str  # where people reach esmbot, e.g. https://esmbot.example.com
    clock: Callable[[], datetime]

    def pdf(self, link: ReportLink) -> str:
        expires = int((self.clock() + LIFETIME).timestamp())
        fields = _fields(link, expires)
        query = urlencode({**fields, "sig": self._signature(fields)})
        return f"{self.base_url.rstrip('/')}{PDF_PATH}?{query}"

    def check(self, query: Mapping[str, str]) -> ReportLink:
        """The report a link's query names; LinkForged or LinkExpired when it may not be opened."""
        try:
            link = ReportLink(
                date.fromisoformat(query["from"]),
                date.fromisoformat(query["to"]),
                query["lang"],
            )
            expires = int(query["expires"])
        except (KeyError, ValueError):
            raise LinkForged("the link lacks a part or has one that cannot be read") from None
        fields = _fields(link, expires)
        if fields != {name: query[name] for name in fields}:
            raise LinkForged("the link's parts are not written as esmbot writes them")
        if not hmac.compare_digest(self._signature(fields), query.get("sig", "")):
            raise LinkForged("the link's signature does not match")
        if self.clock().timestamp() >= expires:
            raise LinkExpired("the link has expired")
        return link

    def _signature(self, fields: Mapping[str, str]) -> str:
        message = "&".join(f"{name}={value}" for name, value in fields.items()).encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()


def _fields(link: ReportLink, expires: int) -> dict[str, str]:
    return {
        "from": link.first.isoformat(),
        "to": link.last.isoformat(),
        "lang": link.language,
        "expires": str(expires),
    }
