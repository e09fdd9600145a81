"""Calls to Microsoft Graph: a token on each, 429 and 503 waited out, backoff, and JSON batching."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.graph.tokens import TokenSource

log = logging.getLogger(__name__)

# Graph's JSON batching takes at most 20 requests at once.
BATCH_LIMIT = 20
# Statuses worth trying again: throttled, and the transient server errors.
RETRIED = frozenset({429, 500, 502, 503, 504})
# Those whose Retry-After header says how long to wait.
WAIT_AS_TOLD = frozenset({429, 503})


class GraphUnavailable(Exception):
    """Graph could not be reached at all (network, timeouts), even after the retries."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a call is tried."""

    attempts: int = 5
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    # A Retry-After longer than this is cut to it: the row waits in the outbox, not here.
    max_retry_after: float = 120.0
    timeout: float = 30.0


@dataclass(frozen=True)
class GraphResponse:
    """What Graph answered: the status, the JSON body (None when empty) and the headers."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> str:
        """Graph's error code ("Forbidden", "Request_ResourceNotFound"...), or ""."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("code", ""))
        return ""

    @property
    def error_message(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("message", ""))
        return ""


@dataclass(frozen=True)
class BatchItem:
    """One request of a batch: method and path below the version, with an optional body."""

    method: str
    path: str
    body: Any = None


class GraphClient:
    """One app's calls to Graph over one aiohttp session; `sleep` is injectable for tests."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens, self._sleep = tokens, sleep
        self.policy = policy or RetryPolicy()
        self._session: aiohttp.ClientSession | None = None
        self.throttled = 0  # 429s received, batch items included
        self.waited: list[float] = []  # each wait before a retry, in seconds

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self, method: str, path: str, *, body: Any = None, params: Mapping[str, str] | None = None
    ) -> GraphResponse:
        """One request, tried again on 429, 503 and the other transient answers."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(method, path, body=body, params=params)
            except (TimeoutError, aiohttp.ClientError) as error:
                if attempt >= self.policy.attempts:
                    raise GraphUnavailable(f"{method} {path}: {error!r}") from None
                await self._wait(self._backoff(attempt))
                continue
            if response.status not in RETRIED or attempt >= self.policy.attempts:
                return response
            await self._wait(self._delay(response, attempt))

    async def batch(self, items: Sequence[BatchItem]) -> list[GraphResponse]:
        """Each item's answer, in the items' order: up to 20 per `$batch`, and the items Graph
        throttled or failed for a moment sent again (each is throttled on its own)."""
        answers: dict[int, GraphResponse] = {}
        todo = list(range(len(items)))
        attempt = 0
        while todo:
            attempt += 1
            again: list[int] = []
            delay = 0.0
            for start in range(0, len(todo), BATCH_LIMIT):
                chunk = todo[start : start + BATCH_LIMIT]
                for index, answer in zip(chunk, await self._batch(items, chunk), strict=True):
                    answers[index] = answer
                    if answer.status in RETRIED and attempt < self.policy.attempts:
                        again.append(index)
                        delay = max(delay, self._delay(answer, attempt))
            todo = again
            if todo:
                await self._wait(delay)
        return [answers[index] for index in range(len(items))]

    async def _batch(self, items: Sequence[BatchItem], chunk: list[int]) -> list[GraphResponse]:
        requests = []
        for index in chunk:
            item = items[index]
            request: dict[str, Any] = {"id": str(index), "method": item.method, "url": item.path}
            if item.body is not None:
                request["body"] = item.body
                request["headers"] = {"Content-Type": "application/json"}
            requests.append(request)
        outer = await self.call("POST", "/$batch", body={"requests": requests})
        if not outer.ok:  # the batch itself failed: every item shares its answer
            return [outer for _ in chunk]
        found = {
            str(answer.get("id")): answer
            for answer in (outer.body or {}).get("responses", [])
            if isinstance(answer, dict)
        }  # they may come back in any order
        results = []
        for index in chunk:
            answer = found.get(str(index), {"status": 500})
            headers = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()}
            result = GraphResponse(int(answer.get("status", 500)), answer.get("body"), headers)
            if result.status == 429:
                self.throttled += 1
            results.append(result)
        return results

    async def _send(
        self, method: str, path: str, *, body: Any, params: Mapping[str, str] | None
    ) -> GraphResponse:
        token = await self._tokens.token()
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.policy.timeout)
            )
        async with self._session.request(
            method,
            f"{self.base_url}{path}",
            json=body,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            text = await response.text()
            try:
                parsed = await response.json(content_type=None) if text.strip() else None
            except ValueError:
                parsed = {"error": {"code": "NotJson", "message": text[:200]}}
            if response.status == 429:
                self.throttled += 1
            return GraphResponse(response.status, parsed, dict(response.headers))

    def _delay(self, response: GraphResponse, attempt: int) -> float:
        told = _retry_after(response.headers) if response.status in WAIT_AS_TOLD else None
        if told is not None:
            return min(told, self.policy.max_retry_after)
        return self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (attempt - 1)))

    async def _wait(self, seconds: float) -> None:
        self.waited.append(seconds)
        await self._sleep(seconds)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None
