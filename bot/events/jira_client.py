"""esmbot's client for the Jira Cloud REST API v3: the few calls it makes, retried only where safe."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote, urlsplit

import aiohttp

from bot.errors import ConfigError, EsmbotError

if TYPE_CHECKING:
    from bot.config.settings import Settings

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# A module travels as a label rather than a component: a component must be created by a project
# admin before an issue may name it, and an unknown one fails the whole create with a 400, while a
# label needs no set-up. Labels cannot contain spaces, so spaces become underscores.
MODULE_LABEL_PREFIX = "module:"
SUMMARY_LIMIT = 255
_HEADERS = {"Accept": "application/json", "User-Agent": "esmbot"}
_OVERLOADED = {429, 503}


class JiraError(EsmbotError):
    """Jira refused or failed a call; the message is fit for the person who asked for it.

    `retryable` says whether doing the same thing again later is safe and may succeed. It is False
    when Jira said no, and when the outcome is unknown (a create that got a 500 may have created).
    """

    def __init__(
        self, message: str, *, status: int | None = None, retryable: bool = False, attempts: int = 1
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.attempts = attempts


@dataclass(frozen=True)
class CreatedIssue:
    key: str
    id: str


@dataclass(frozen=True)
class JiraUser:
    account_id: str
    display_name: str
    email: str | None  # absent when the user's privacy settings hide it
    active: bool


def to_adf(text: str) -> dict[str, Any]:
    """Plain text as an ADF document: blank lines part paragraphs, single newlines are hard breaks."""
    paragraphs: list[dict[str, Any]] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        content: list[dict[str, Any]] = []
        for line in block.split("\n"):
            if not line:
                continue  # ADF forbids empty text nodes
            if content:
                content.append({"type": "hardBreak"})
            content.append({"type": "text", "text": line})
        if content:
            paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def module_label(module: str) -> str:
    return MODULE_LABEL_PREFIX + "_".join(module.split())


def module_from_labels(labels: Iterable[str]) -> str | None:
    """The module that `module_label` put among an issue's labels, if any."""
    for label in labels:
        if label.startswith(MODULE_LABEL_PREFIX):
            return label[len(MODULE_LABEL_PREFIX) :].replace("_", " ") or None
    return None


class JiraClient:
    """Talks to one Jira Cloud site as one user (e-mail + API token).

    Reads, PUTs and transitions are repeated after a 429, a 5xx, a timeout or a broken
    connection. Creating POSTs (issues, comments) are repeated only when Jira surely did nothing:
    a 429, or a connection that never opened; after a 5xx or a timeout they may have taken
    effect, so they fail with `retryable=False` instead of risking a duplicate.
    """

    def __init__(
        self,
        base_url: str,
        email: str,
        api_token: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 30.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._base = base_url.rstrip("/")
        self._host = urlsplit(self._base).netloc or self._base
        # Built by hand: aiohttp 3.14 deprecates BasicAuth, and 3.10 lacks its replacement.
        credentials = base64.b64encode(f"{email}:{api_token}".encode()).decode("ascii")
        self._headers = {**_HEADERS, "Authorization": f"Basic {credentials}"}
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._seconds = timeout
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._max_retry_after = max_retry_after
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> JiraClient:
        if not settings.jira_configured:
            raise ConfigError(
                "Jira is not configured: set JIRA_BASE_URL, JIRA_USER_EMAIL and JIRA_API_TOKEN"
            )
        return cls(
            settings.jira_base_url, settings.jira_user_email, settings.jira_api_token, **options
        )

    async def close(self) -> None:
        """Closes the HTTP session if this client opened it; a session passed in stays open."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def create_issue(
        self,
        *,
        project_key: str,
        summary: str,
        description: str,
        issue_type: str,
        priority: str | None = None,
        labels: Iterable[str] = (),
        reporter_account_id: str | None = None,
        module: str | None = None,
    ) -> CreatedIssue:
        """Creates an issue. Jira rejects newlines and more than 255 characters in a summary, so
        newlines become spaces and a long summary is cut with an ellipsis."""
        summary = " ".join(summary.split())
        if len(summary) > SUMMARY_LIMIT:
            summary = summary[: SUMMARY_LIMIT - 1] + "…"
        labels = [*labels, module_label(module)] if module else list(labels)
        optional = {
            "description": to_adf(description) if description.strip() else None,
            "priority": {"name": priority} if priority else None,
            "labels": labels,
            "reporter": {"id": reporter_account_id} if reporter_account_id else None,
        }
        fields = {
            "project": {"key": project_key},
            "summary": summary,
            "issuetype": {"name": issue_type},
        }
        fields |= {name: value for name, value in optional.items() if value}
        data = await self._call(
            "POST",
            "/rest/api/3/issue",
            body={"fields": fields},
            doing="creating the issue",
            safe=False,
            uncertain="it may or may not exist",
        )
        if not isinstance(data, dict) or "key" not in data or "id" not in data:
            raise JiraError("Jira answered the create without an issue key")
        return CreatedIssue(key=str(data["key"]), id=str(data["id"]))

    async def add_comment(self, key: str, body: str, *, internal: bool) -> str:
        """Comments on an issue and returns the comment's id; internal comments (Jira Service
        Management) are seen by agents only."""
        payload: dict[str, Any] = {"body": to_adf(body)}
        if internal:
            payload["properties"] = [{"key": "sd.public.comment", "value": {"internal": True}}]
        data = await self._on_issue(
            "POST",
            key,
            "/comment",
            body=payload,
            doing=f"adding a comment to {key}",
            safe=False,
            uncertain="the comment may or may not have been added",
        )
        if not isinstance(data, dict) or "id" not in data:
            raise JiraError(f"Jira answered the comment on {key} without a comment id")
        return str(data["id"])

    async def transition(self, key: str, status_name: str) -> None:
        """Moves an issue to the status named (or along the transition named), ignoring case."""
        doing = f"reading the transitions of {key}"
        data = await self._on_issue("GET", key, "/transitions", doing=doing, safe=True)
        transitions = [t for t in (data or {}).get("transitions", []) if isinstance(t, dict)]
        chosen = _choose(transitions, status_name)
        if chosen is None:
            targets = sorted(
                {str((t.get("to") or {}).get("name", t.get("name"))) for t in transitions}
            )
            raise JiraError(
                f"{key} cannot move to {status_name!r} in Jira; from its current status it can "
                f"move to: {', '.join(targets) if targets else 'nothing'}"
            )
        target = str((chosen.get("to") or {}).get("name") or status_name)
        try:
            await self._on_issue(
                "POST",
                key,
                "/transitions",
                body={"transition": {"id": str(chosen["id"])}},
                doing=f"moving {key} to {target}",
                safe=True,
            )
        except JiraError as error:
            # When a retry follows a lost answer, Jira may already have moved the issue and now
            # calls the transition invalid; the issue's status tells whether that happened.
            if error.status != 400 or error.attempts < 2:
                raise
            if (await self._status_of(key)).casefold() != target.casefold():
                raise

    async def assign(self, key: str, account_id: str | None) -> None:
        """Assigns an issue to a Jira account; None leaves it unassigned."""
        doing = f"assigning {key}" if account_id else f"unassigning {key}"
        body = {"accountId": account_id}
        await self._on_issue("PUT", key, "/assignee", body=body, doing=doing, safe=True)

    async def set_priority(self, key: str, priority_name: str) -> None:
        body = {"fields": {"priority": {"name": priority_name}}}
        doing = f"setting the priority of {key}"
        await self._on_issue("PUT", key, body=body, doing=doing, safe=True)

    async def link_issues(self, *, outward: str, inward: str, link_type: str) -> None:
        """Links two issues: `outward` is where the link starts (the problem that causes),
        `inward` where it ends (the incident it causes). Jira keeps one link of a type between
        two issues, so a retry after a lost answer adds none."""
        await self._call(
            "POST",
            "/rest/api/3/issueLink",
            body={
                "type": {"name": link_type},
                "outwardIssue": {"key": outward},
                "inwardIssue": {"key": inward},
            },
            doing=f"linking {inward} to {outward}",
            safe=True,
            missing=f"{outward} or {inward} does not exist in Jira",
        )

    async def get_user(self, account_id: str) -> JiraUser:
        data = await self._call(
            "GET",
            "/rest/api/3/user",
            params={"accountId": account_id},
            doing=f"looking up the Jira user {account_id}",
            safe=True,
            missing=f"the Jira user {account_id} does not exist",
        )
        if not isinstance(data, dict):
            raise JiraError(f"Jira answered the look-up of user {account_id} without a user")
        return JiraUser(
            account_id=str(data.get("accountId") or account_id),
            display_name=str(data.get("displayName") or ""),
            email=data.get("emailAddress") or None,
            active=bool(data.get("active", False)),
        )

    async def _status_of(self, key: str) -> str:
        params = {"fields": "status"}
        doing = f"reading the status of {key}"
        data = await self._on_issue("GET", key, params=params, doing=doing, safe=True)
        return str(((data or {}).get("fields") or {}).get("status", {}).get("name", ""))

    async def _on_issue(self, method: str, key: str, suffix: str = "", **options: Any) -> Any:
        """A call on one issue, where a 404 means that Jira does not know the key."""
        # Quoting keeps a stray "/" or "?" in a key from reshaping the URL.
        path = f"/rest/api/3/issue/{quote(key, safe='')}{suffix}"
        return await self._call(method, path, missing=f"{key} does not exist in Jira", **options)

    def _client(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("JiraClient is closed")
        if self._session is None:
            # Opened on first use, inside the running loop, rather than in __init__.
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        *,
        doing: str,
        safe: bool,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        uncertain: str = "",
        missing: str = "",
    ) -> Any:
        """One logical call: the HTTP attempts, the waits between them, the error it ends in.

        `safe` means repeating the request cannot do the thing twice; `uncertain` says what may
        have happened when an unsafe request got no clear answer.
        """
        session = self._client()
        status: int | None = None
        failure = ""
        for attempt in range(1, self._max_attempts + 1):
            delay: float | None = None
            try:
                async with session.request(
                    method,
                    self._base + path,
                    json=body,
                    params=params,
                    headers=self._headers,
                    timeout=self._timeout,
                ) as response:
                    raw = await response.read()
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
                # The connection never opened, so Jira saw nothing: safe to repeat even a create.
                status, failure = None, f"Jira at {self._host} could not be reached while {doing}"
            except (TimeoutError, aiohttp.ClientConnectionError) as error:
                # The request may have reached Jira and taken effect.
                status, failure = (
                    None,
                    (
                        f"Jira did not answer within {self._seconds:g} s while {doing}"
                        if isinstance(error, TimeoutError)
                        else f"The connection to Jira broke while {doing}"
                    ),
                )
                if not safe:
                    raise JiraError(
                        f"{failure}; {uncertain} — nothing was stored", attempts=attempt
                    ) from None
            else:
                data = _parse(raw)
                if status < 300:
                    return data
                if status == 429 or (status >= 500 and safe):
                    delay = self._retry_after(retry_after)
                    failure = (
                        f"Jira is overloaded ({status} while {doing})"
                        if status in _OVERLOADED
                        else f"Jira kept failing ({status} while {doing})"
                    )
                elif status >= 500:
                    raise JiraError(
                        f"Jira answered {status} while {doing}; {uncertain} — nothing was stored",
                        status=status,
                        attempts=attempt,
                    )
                else:
                    raise self._refusal(
                        status, data, doing=doing, missing=missing, path=path, attempts=attempt
                    )
            if attempt < self._max_attempts:
                wait = delay if delay is not None else self._backoff_for(attempt)
                extra = {"path": path, "attempt": attempt, "status": status, "wait": wait}
                log.warning("jira call repeated", extra=extra)
                await self._sleep(wait)
        raise JiraError(
            f"{failure}; tried {self._max_attempts} times",
            status=status,
            retryable=True,
            attempts=self._max_attempts,
        )

    def _backoff_for(self, attempt: int) -> float:
        # Jitter spreads out the retries of many callers that failed at the same moment.
        ceiling = min(self._max_backoff, self._backoff * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)

    def _retry_after(self, header: str | None) -> float | None:
        """Jira's Retry-After in seconds, capped so that one answer cannot stall a caller."""
        try:
            seconds = float(header or "")
        except ValueError:
            return None  # absent, or an HTTP date, which Jira Cloud does not send
        return min(seconds, self._max_retry_after) if seconds >= 0 else None

    def _refusal(
        self, status: int, data: Any, *, doing: str, missing: str, path: str, attempts: int
    ) -> JiraError:
        detail = _details(data)
        if status == 401:
            message = "Jira refused the credentials (401): check JIRA_USER_EMAIL and JIRA_API_TOKEN"
        elif status == 403:
            message = f"Jira denied esmbot's Jira user permission for {doing} (403)"
        elif status == 404 and not isinstance(data, dict):
            # Jira answers its own 404s in JSON; anything else means we are not talking to Jira.
            message = f"{self._base} has no Jira REST API at {path} (404): check JIRA_BASE_URL"
        elif status == 404:
            message = f"{missing or 'what was asked for does not exist in Jira'} (404)"
        elif status == 400:
            message = f"Jira rejected {doing} (400)"
        else:
            message = f"Jira answered {status} while {doing}"
        if detail and status not in (401, 404):
            message = f"{message}: {detail}"
        return JiraError(message, status=status, attempts=attempts)


def _choose(transitions: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    wanted = wanted.strip().casefold()
    for transition in transitions:
        if str((transition.get("to") or {}).get("name", "")).casefold() == wanted:
            return transition
    for transition in transitions:
        if str(transition.get("name", "")).casefold() == wanted:
            return transition
    return None


def _parse(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text  # a gateway's page or Jira's plain-text 401


def _details(data: Any, limit: int = 300) -> str:
    """Jira's own words from an error body: errorMessages, then field: message pairs."""
    if isinstance(data, dict):
        parts = [str(message) for message in data.get("errorMessages") or []]
        errors = data.get("errors") or {}
        if isinstance(errors, dict):
            parts += [f"{field}: {message}" for field, message in errors.items()]
        text = "; ".join(parts)
    elif isinstance(data, str) and not data.lstrip().startswith("<"):
        text = " ".join(data.split())
    else:
        text = ""  # an HTML error page says nothing worth repeating
    return text if len(text) <= limit else text[: limit - 1] + "…"
