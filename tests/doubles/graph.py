"""Microsoft's sign-in service and Microsoft Graph, as doubles speaking their real HTTP shapes.

One aiohttp server answers both: the sign-in service's OpenID configuration and token endpoint
(client credentials), and the Graph calls esmbot makes (users, mailbox time zone, the app
catalogue, installedApps with 201/409/403/404/429, the 1:1 chat, and `$batch`). msal needs an
https authority: `Route` is the HTTP client handed to msal, which sends the authority's
requests to this double instead.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from aiohttp import web

AUTHORITY_HOST = "https://login.test"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
PERMISSIONS = (
    "User.Read.All",
    "TeamsAppInstallation.ReadWriteSelfForUser.All",
    "AppCatalog.Read.All",
    "MailboxSettings.Read",
)
Answer = tuple[int, Any, dict[str, str]]


class Route(requests.Session):
    """msal's HTTP client in tests: requests for the https authority go to the double."""

    def __init__(self, double: GraphDouble) -> None:
        super().__init__()
        self.double = double

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        text = url.decode() if isinstance(url, bytes) else url
        if text.startswith(AUTHORITY_HOST):
            text = self.double.url + "/login" + text[len(AUTHORITY_HOST) :]
        return super().request(method, text, *args, **kwargs)


@dataclass
class Fault:
    """An answer instead of the real one for the next `times` calls of `operation`."""

    operation: str
    status: int
    times: int = 1
    retry_after: float | None = None
    code: str = ""
    message: str = ""
    user: str | None = None  # only for calls about this user (id or address)


@dataclass
class Call:
    operation: str
    method: str
    path: str
    status: int
    batched: bool = False


@dataclass
class GraphDouble:
    """A tenant's directory and Teams app catalogue, with the permissions the app was granted."""

    client_id: str = "00000000-0000-0000-0000-0000000000e5"
    client_secret: str = "graph-test-secret"
    app_external_id: str = ""  # the manifest's id; the client id when empty
    catalog_id: str = "d0c0ffee-0000-4000-8000-00000000ca7a"
    granted: set[str] = field(default_factory=lambda: set(PERMISSIONS))
    token_lifetime: int = 3599
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    time_zones: dict[str, str] = field(default_factory=dict)
    installed: dict[str, str] = field(default_factory=dict)  # user id -> installation id
    calls: list[Call] = field(default_factory=list)
    tokens_issued: int = 0
    faults: list[Fault] = field(default_factory=list)
    # Called after an install, as Teams then tells the bot (installationUpdate).
    on_install: Callable[[dict[str, Any], str], Awaitable[None]] | None = None
    # Graph's published pace for installs, enforced when set: installs per second per app.
    install_rate: float | None = None
    # Calls of these operations wait until their event is set: "Teams is still setting it up".
    held: dict[str, asyncio.Event] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self) -> None:
        self._tokens: set[str] = set()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._install_times: list[float] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # -- setting up ---------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        email: str,
        *,
        object_id: str,
        language: str | None = "en-US",
        time_zone: str | None = None,
    ) -> dict[str, Any]:
        user = {
            "id": object_id,
            "displayName": name,
            "mail": email,
            "userPrincipalName": email,
            "preferredLanguage": language,
        }
        self.users[object_id] = user
        if time_zone:
            self.time_zones[object_id] = time_zone
        return user

    def fail(self, operation: str, status: int, **fault: Any) -> None:
        self.faults.append(Fault(operation, status, **fault))

    def chat_id(self, user_id: str) -> str:
        return f"19:{user_id}_{self.client_id}@unq.gbl.spaces"

    def count(self, operation: str, status: int | None = None) -> int:
        return sum(
            1
            for call in self.calls
            if call.operation == operation and (status is None or call.status == status)
        )

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/login/{tail:.*}", self._login)
        app.router.add_route("*", "/v1.0/{tail:.*}", self._graph)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1.0"

    async def close(self) -> None:
        for task in list(self._tasks):
            await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- sign-in ------------------------------------------------------------------------------

    async def _login(self, request: web.Request) -> web.Response:
        tail = request.match_info["tail"]
        tenant = tail.split("/", 1)[0]
        if tail.endswith("/v2.0/.well-known/openid-configuration"):
            base = f"{AUTHORITY_HOST}/{tenant}"
            return web.json_response(
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{AUTHORITY_HOST}/{tenant}/v2.0",
                    "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                }
            )
        if tail.endswith("/oauth2/v2.0/token") and request.method == "POST":
            form = await request.post()
            if tenant != TENANT:
                return _login_error(400, "invalid_request", "AADSTS90002: Tenant not found.")
            if form.get("client_id") != self.client_id or (
                form.get("client_secret") != self.client_secret
            ):
                return _login_error(
                    401, "invalid_client", "AADSTS7000215: Invalid client secret provided."
                )
            self.tokens_issued += 1
            token = f"graph-token-{self.tokens_issued}"
            self._tokens.add(token)
            return web.json_response(
                {
                    "token_type": "Bearer",
                    "expires_in": self.token_lifetime,
                    "ext_expires_in": self.token_lifetime,
                    "access_token": token,
                }
            )
        return web.json_response({"error": "not_found"}, status=404)

    # -- Graph --------------------------------------------------------------------------------

    async def _graph(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self._tokens:
            return _graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        body = await request.json() if request.can_read_body else None
        path = "/" + request.match_info["tail"]
        if path == "/$batch" and request.method == "POST":
            return web.json_response(await self._batch(body))
        status, answer, headers = await self._answer(request.method, path, request.query, body)
        if answer is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(answer, status=status, headers=headers)

    async def _batch(self, body: Any) -> dict[str, Any]:
        requests_ = body.get("requests", []) if isinstance(body, dict) else []
        if len(requests_) > 20 or len({r.get("id") for r in requests_}) != len(requests_):
            raise web.HTTPBadRequest(text="a batch holds at most 20 requests with unique ids")
        responses = []
        for inner in reversed(requests_):  # out of order, as Graph may answer
            parts = urlsplit(inner["url"])
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            status, answer, headers = await self._answer(
                inner["method"], parts.path, query, inner.get("body"), batched=True
            )
            responses.append(
                {"id": inner["id"], "status": status, "headers": headers, "body": answer}
            )
        return {"responses": responses}

    async def _answer(
        self, method: str, path: str, query: Any, body: Any, *, batched: bool = False
    ) -> Answer:
        operation, user, handler = self._route(method, path)
        if operation in self.held:
            await self.held[operation].wait()
        fault = self._fault(operation, user)
        if fault is not None:
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else {}
            answer: Answer = (
                fault.status,
                {"error": {"code": fault.code or _CODES.get(fault.status, "Error"),
                           "message": fault.message or "the double was told to fail"}},
                headers,
            )  # fmt: skip
        else:
            answer = await handler(user, path, query, body)
        self.calls.append(Call(operation, method, path, answer[0], batched))
        return answer

    def _route(self, method: str, path: str) -> tuple[str, str | None, Any]:
        for pattern, verb, operation, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                user = unquote(match.group(1)) if match.groups() else None
                return operation, user, handler
        return "unknown", None, self._unknown

    def _routes(self) -> list[tuple[str, str, str, Any]]:
        user = r"/users/([^/]+)"
        return [
            (r"/users", "GET", "list_users", self._list_users),
            (user, "GET", "get_user", self._get_user),
            (user + r"/mailboxSettings/timeZone", "GET", "get_time_zone", self._time_zone),
            (r"/appCatalogs/teamsApps", "GET", "list_catalog", self._catalog),
            (user + r"/teamwork/installedApps", "GET", "list_installed", self._list_installed),
            (user + r"/teamwork/installedApps", "POST", "install", self._install),
            (user + r"/teamwork/installedApps/[^/]+/chat", "GET", "get_chat", self._chat),
        ]

    def _fault(self, operation: str, user: str | None) -> Fault | None:
        for fault in self.faults:
            if fault.operation == operation and fault.times > 0 and fault.user in (None, user):
                fault.times -= 1
                return fault
        return None

    def _user(self, key: str | None) -> dict[str, Any] | None:
        key = (key or "").strip("()'").lower()
        for user in self.users.values():
            if key in (user["id"].lower(), user["mail"].lower(), user["userPrincipalName"].lower()):
                return user
        return None

    def _missing(self, permission: str) -> Answer | None:
        if permission in self.granted:
            return None
        return (
            403,
            {"error": {"code": "Forbidden", "message": "Missing role permissions on the request."
                       f" API requires one of '{permission}'."}},
            {},
        )  # fmt: skip

    async def _get_user(self, key: str, _path: str, _query: Any, _body: Any) -> Answer:
        if refused := self._missing("User.Read.All"):
            return refused
        user = self._user(key)
        if user is None:
            return 404, _not_found(f"Resource '{key}' does not exist."), {}
        return 200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
                     **user}, {}  # fmt: skip

    async def _list_users(self, _user: Any, _path: str, query: Any, _body: Any) -> Answer:
        if refused := self._missing("User.Read.All"):
            return refused
        users = list(self.users.values())
        found = re.search(r"mail eq '([^']*)'", query.get("$filter", ""))
        if found:
            users = [u for u in users if u["mail"].lower() == found.group(1).lower()]
        return 200, {"value": users[: int(query.get("$top", 100))]}, {}

    async def _time_zone(self, key: str, _path: str, _query: Any, _body: Any) -> Answer:
        if refused := self._missing("MailboxSettings.Read"):
            return refused
        user = self._user(key)
        if user is None:
            return 404, _not_found(f"Resource '{key}' does not exist."), {}
        zone = self.time_zones.get(user["id"], "UTC")
        return 200, {"@odata.context": "…/mailboxSettings/timeZone", "value": zone}, {}

    async def _catalog(self, _user: Any, _path: str, query: Any, _body: Any) -> Answer:
        if refused := self._missing("AppCatalog.Read.All"):
            return refused
        wanted = self.app_external_id or self.client_id
        found = re.search(r"externalId eq '([^']*)'", query.get("$filter", ""))
        apps = (
            [{"id": self.catalog_id, "externalId": wanted, "displayName": "esmbot",
              "distributionMethod": "organization"}]
            if found is None or found.group(1) == wanted
            else []
        )  # fmt: skip
        return 200, {"value": apps}, {}

    async def _list_installed(self, key: str, _path: str, _query: Any, _body: Any) -> Answer:
        if refused := self._missing("TeamsAppInstallation.ReadWriteSelfForUser.All"):
            return refused
        user = self._user(key)
        if user is None:
            return 404, _not_found(f"Resource '{key}' does not exist."), {}
        installation = self.installed.get(user["id"])
        value = (
            [{"id": installation, "teamsApp": {"id": self.catalog_id, "displayName": "esmbot"}}]
            if installation
            else []
        )
        return 200, {"value": value}, {}

    async def _install(self, key: str, _path: str, _query: Any, body: Any) -> Answer:
        if refused := self._missing("TeamsAppInstallation.ReadWriteSelfForUser.All"):
            return refused
        user = self._user(key)
        if user is None:
            return 404, _not_found(f"Resource '{key}' does not exist."), {}
        bound = (body or {}).get("teamsApp@odata.bind", "")
        if not bound.endswith(f"/appCatalogs/teamsApps/{self.catalog_id}"):
            return 404, _not_found("The app does not exist in the catalog."), {}
        if self.install_rate:
            now = time.monotonic()
            self._install_times = [t for t in self._install_times if now - t < 1.0]
            if len(self._install_times) >= self.install_rate:
                return (
                    429,
                    {"error": {"code": "TooManyRequests", "message": "Throttled"}},
                    {"Retry-After": "1"},
                )
            self._install_times.append(now)
        if user["id"] in self.installed:
            return 409, {"error": {"code": "Conflict",
                                   "message": "App is already installed for the user."}}, {}  # fmt: skip
        self.installed[user["id"]] = f"inst-{next(self._ids)}"
        if self.on_install is not None:
            task = asyncio.create_task(self.on_install(user, self.chat_id(user["id"])))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return 201, None, {}

    async def _chat(self, key: str, path: str, _query: Any, _body: Any) -> Answer:
        if refused := self._missing("TeamsAppInstallation.ReadWriteSelfForUser.All"):
            return refused
        user = self._user(key)
        installation = path.rsplit("/", 2)[-2]
        if user is None or self.installed.get(user["id"]) != installation:
            return 404, _not_found("The installation does not exist."), {}
        return 200, {"id": self.chat_id(user["id"]), "chatType": "oneOnOne"}, {}

    async def _unknown(self, *_args: Any) -> Answer:
        return 400, {"error": {"code": "BadRequest", "message": "unsupported in the double"}}, {}


_CODES = {403: "Forbidden", 404: "NotFound", 429: "TooManyRequests", 503: "ServiceUnavailable"}


def _not_found(message: str) -> dict[str, Any]:
    return {"error": {"code": "Request_ResourceNotFound", "message": message}}


def _graph_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _login_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)
