"""Posts a turn's replies to the Bot Connector's REST API over aiohttp, one kept session for all."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp
from botbuilder.schema import Activity, ResourceResponse
from botframework.connector.auth import AppCredentials, AuthenticationConstants

from bot.teams.activity_json import activity_json

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
# One quick retry, then the caller decides: the turn's error handler here, the dispatcher with
# its own backoff for the connector clients bot/teams/adapter.py sets up the same way.
RETRIES = 1
BACKOFF_SECONDS = 0.25
# A longer Retry-After than this is not waited out inside a turn someone is watching.
MAX_RETRY_AFTER_SECONDS = 2.0
_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class ConnectorError(Exception):
    """The Bot Connector refused a reply, or could not be reached; says which and why."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(f"the Bot Connector answered {status}: {reason}" if status else reason)
        self.status = status


class ConnectorPoster:
    """Sends what a turn says (a reply, or a new message in the turn's conversation).

    botbuilder's connector client serializes through msrest and sends through `requests` on a
    worker thread: about 0.7 ms of CPU and two thread hand-offs per message. The Bot Connector
    reads plain JSON, which this writes from the activity's public fields
    (bot/teams/activity_json.py) and posts on the bot's event loop.
    """

    def __init__(self, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._sleep = sleep

    async def post(
        self, activity: Activity, credentials: AppCredentials | None
    ) -> ResourceResponse:
        conversation = quote(activity.conversation.id, safe="")
        url = f"{activity.service_url.rstrip('/')}/v3/conversations/{conversation}/activities"
        if activity.reply_to_id:
            url += "/" + quote(activity.reply_to_id, safe="")
        headers = {"x-ms-conversation-id": activity.conversation.id}
        token = _token(credentials)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        answer = await self._post(url, activity_json(activity), headers)
        return ResourceResponse(id=answer.get("id") if isinstance(answer, dict) else None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        attempt = 0
        while True:
            try:
                async with self._client().post(url, json=body, headers=headers) as response:
                    if response.status < 300:
                        return (
                            await response.json(content_type=None)
                            if response.content_length != 0
                            else None
                        )
                    reason = (await response.text())[:300]
                    wait = _retry_after(response.headers.get("Retry-After"))
                    error = ConnectorError(response.status, reason)
                    if response.status not in _RETRIED_STATUSES or wait is None:
                        raise error
            except (aiohttp.ClientError, TimeoutError) as failure:
                error, wait = (
                    ConnectorError(None, f"the Bot Connector could not be reached: {failure!r}"),
                    BACKOFF_SECONDS,
                )
            if attempt >= RETRIES:
                raise error
            attempt += 1
            await self._sleep(wait)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
                headers={"Accept": "application/json"},
            )
        return self._session


def _token(credentials: AppCredentials | None) -> str | None:
    # As botbuilder's credentials decide it: no app id (local mode) or the anonymous skill id
    # means the call goes out unsigned.
    if credentials is None:
        return None
    app_id = credentials.microsoft_app_id
    if not app_id or app_id == AuthenticationConstants.ANONYMOUS_SKILL_APP_ID:
        return None
    return credentials.get_access_token()


def _retry_after(value: str | None) -> float | None:
    """The wait before trying again: the connector's own if short enough, else our backoff."""
    if value is None:
        return BACKOFF_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        return BACKOFF_SECONDS
    return max(seconds, 0.0) if seconds <= MAX_RETRY_AFTER_SECONDS else None
