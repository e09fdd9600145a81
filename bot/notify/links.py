"""The only links a card may open: a Teams chat with a known address, or a plain http(s) URL."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from bot.notify.filters import clean

TEAMS_CHAT = "https://teams.microsoft.com/l/chat/0/0?users="
_EMAIL = re.compile(r"^[^@\s\"<>&?#/]+@[^@\s\"<>&?#/]+\.[^@\s\"<>&?#/]+$")
_SPACE = re.compile(r"\s")


def chat_link(email: str | None) -> str | None:
    """A Teams deep link that opens a 1:1 chat with this address, or None for no usable address."""
    if not email or not _EMAIL.match(email.strip()):
        return None
    return TEAMS_CHAT + quote(email.strip(), safe="@")


def link(url: str | None) -> str | None:
    """The URL if it is a plain http(s) address, else None, so no button opens anything else."""
    if not url or clean(url) != url or _SPACE.search(url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None
