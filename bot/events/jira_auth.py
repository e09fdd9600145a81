"""Who may post Jira events: a body signed with the shared secret, a token in the URL, or, in
local mode with neither set, anyone."""

from __future__ import annotations

import hmac

from bot.config import Settings
from bot.events.jira_webhook import signature_valid

SWITCHED_OFF = (
    "Jira events are refused until JIRA_WEBHOOK_SECRET (signed Jira Cloud webhooks) or "
    "JIRA_WEBHOOK_TOKEN (?token=… in the webhook URL, for Jira Server and Data Center) is set"
)


def jira_refusal(
    settings: Settings, body: bytes, signature: str | None, token: str | None
) -> str | None:
    """Why this delivery is refused (what is missing), or None when it may pass."""
    secret, expected = settings.jira_webhook_secret, settings.jira_webhook_token
    if not secret and not expected:
        # Local mode stays open for trying things out; start-up warns about it.
        return None if settings.local_mode else SWITCHED_OFF
    if secret and signature_valid(secret, body, signature):
        return None
    if expected and token is not None and _same(token, expected):
        return None
    wanted = [
        *(["a valid X-Hub-Signature"] if secret else []),
        *(["the right ?token= in the webhook URL"] if expected else []),
    ]
    return f"missing or wrong credentials: send {' or '.join(wanted)}"


def _same(given: str, expected: str) -> bool:
    # Constant time, so the answer's timing tells nothing about how much of the token matched.
    return hmac.compare_digest(given.encode(), expected.encode())
