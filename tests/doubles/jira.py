"""A stand-in for Jira Cloud's REST API v3: the calls esmbot makes, answered in Jira's own shapes.

It runs as a real aiohttp server, keeps its issues in memory, checks basic auth, records every
request, and can be told to answer 429/5xx or to stall, so that the real client is exercised.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web

NOT_FOUND = "Issue does not exist or you do not have permission to see it."

# status name -> (id, status category key, status category name)
STATUSES: dict[str, tuple[str, str, str]] = {
    "To Do": ("10000", "new", "To Do"),
    "In Progress": ("3", "indeterminate", "In Progress"),
    "Waiting for customer": ("10001", "indeterminate", "In Progress"),
    "Waiting for vendor": ("10002", "indeterminate", "In Progress"),
    "Resolved": ("5", "done", "Done"),
    "Closed": ("6", "done", "Done"),
}

# transition id -> (transition name, target status)
TRANSITIONS: dict[str, tuple[str, str]] = {
    "11": ("Back to do", "To Do"),
    "21": ("Start progress", "In Progress"),
    "31": ("Wait for customer", "Waiting for customer"),
    "41": ("Wait for vendor", "Waiting for vendor"),
    "51": ("Resolve", "Resolved"),
    "61": ("Close", "Closed"),
    "71": ("Reopen", "In Progress"),
}

# The transitions available from each status, as Jira lists them.
WORKFLOW: dict[str, tuple[str, ...]] = {
    "To Do": ("21", "31", "41", "51", "61"),
    "In Progress": ("11", "31", "41", "51", "61"),
    "Waiting for customer": ("21", "51", "61"),
    "Waiting for vendor": ("21", "51", "61"),
    "Resolved": ("61", "71"),
    "Closed": ("71",),
}

PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
FIELDS = frozenset(
    {"project", "summary", "issuetype", "description", "priority", "labels", "reporter"}
)
CREATE_ONLY = frozenset({"project", "issuetype", "reporter"})
ISSUE_TYPES = ("Service Request", "Incident", "Problem", "Change", "Task", "Bug")
# Jira Service Management's link types: (name, outward, inward).
LINK_TYPES = {
    "Problem/Incident": ("causes", "is caused by"),
    "Relates": ("relates to", "relates to"),
    "Blocks": ("blocks", "is blocked by"),
}


@dataclass
class Recorded:
    """One request the client made, and the status it got."""

    operation: str  # create_issue, get_issue, edit_issue, add_comment, get_transitions, ...
    method: str
    path: str
    key: str | None
    query: dict[str, str]
    body: Any
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """An answer to give instead of success to the next `times` matching calls.

    With `apply_first` the call takes effect and only its answer is replaced, as when a gateway
    times out after Jira did the work.
    """

    status: int
    times: int = 1
    retry_after: float | None = None
    stall_seconds: float = 0.0
    operation: str | None = None
    key: str | None = None
    apply_first: bool = False

    def matches(self, operation: str, key: str | None) -> bool:
        return self.operation in (None, operation) and self.key in (None, key)


# A handler gets the issue named in the path (None for calls on no issue), the body, the query.
Handler = Callable[[Any, Any, dict[str, str]], Awaitable[web.Response]]


class JiraDouble:
    """An in-memory Jira Cloud site with one project; `issues` maps keys to their state."""

    def __init__(
        self,
        *,
        project_key: str = "SR",
        email: str = "esmbot@esmos.example",
        api_token: str = "jira-test-token",
    ) -> None:
        self.project_key = project_key
        self.email = email
        self.api_token = api_token
        self.issues: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.calls: list[Recorded] = []
        self.links: list[tuple[str, str, str]] = []  # (type, outward key, inward key)
        self.url = ""
        self._faults: list[Fault] = []
        self._numbers = itertools.count(1)
        self._ids = itertools.count(10001)
        self._comment_ids = itertools.count(10100)
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.bot_account_id = "557058:esmbot"
        self.add_user(self.bot_account_id, "esmbot", email=email)
        issue = "/rest/api/3/issue/{key}"
        self.app = web.Application()
        self.app.add_routes(
            [
                web.post("/rest/api/3/issue", self._route("create_issue", self._create)),
                web.get(issue, self._route("get_issue", self._get_issue)),
                web.put(issue, self._route("edit_issue", self._edit)),
                web.post(issue + "/comment", self._route("add_comment", self._comment)),
                web.get(issue + "/transitions", self._route("get_transitions", self._transitions)),
                web.post(issue + "/transitions", self._route("transition", self._transition)),
                web.put(issue + "/assignee", self._route("assign", self._assign)),
                web.get("/rest/api/3/user", self._route("get_user", self._get_user)),
                web.post("/rest/api/3/issueLink", self._route("link_issues", self._link)),
            ]
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Starts serving and returns the base URL, as JIRA_BASE_URL would be set."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.url

    async def close(self) -> None:
        self._closing.set()  # stalled calls give up instead of holding the shutdown
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def add_user(
        self, account_id: str, display_name: str, *, email: str | None = None, active: bool = True
    ) -> None:
        """A Jira account; without `email` it looks like a user who hides their address."""
        self.users[account_id] = {"name": display_name, "email": email, "active": active}

    def add_issue(self, summary: str = "Seeded issue", *, status: str = "To Do") -> str:
        """An issue that exists before the test starts, without a recorded call."""
        key = self._store(summary, "Service Request")
        self.issues[key]["status"] = status
        return key

    def fail(self, status: int, **options: Any) -> Fault:
        """Answers the next matching calls with `status` (see Fault for the options)."""
        fault = Fault(status=status, **options)
        self._faults.append(fault)
        return fault

    def stall(self, seconds: float, **options: Any) -> Fault:
        """Delays the next matching calls, which then take effect as usual."""
        return self.fail(200, stall_seconds=seconds, **options)

    def calls_to(self, operation: str) -> list[Recorded]:
        return [call for call in self.calls if call.operation == operation]

    async def wait_until(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Waits until a recorded call makes `condition` true; fails loudly if none does."""

        async def satisfied() -> None:
            async with self._changed:
                await self._changed.wait_for(condition)

        try:
            await asyncio.wait_for(satisfied(), within)
        except TimeoutError:
            raise AssertionError(
                f"the Jira double never reached the condition in {within} s"
            ) from None

    def _route(self, operation: str, handler: Handler) -> Callable[[web.Request], Awaitable[Any]]:
        async def respond(request: web.Request) -> web.Response:
            key = request.match_info.get("key")
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            response = await self._answer(request, operation, key, body, handler)
            async with self._changed:
                seen = (request.method, request.path, key, dict(request.query), body)
                self.calls.append(
                    Recorded(
                        operation, *seen, status=response.status, headers=dict(request.headers)
                    )
                )
                self._changed.notify_all()
            return response

        return respond

    async def _answer(
        self, request: web.Request, operation: str, key: str | None, body: Any, handler: Handler
    ) -> web.Response:
        expected = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            # Jira Cloud answers a failed basic auth in plain text, not in its JSON error shape.
            return web.Response(
                status=401, text="Client must be authenticated to access this resource."
            )
        if isinstance(body, str):
            return _errors(400, ["Unexpected character in the request body: not JSON."])
        fault = self._take_fault(operation, key)
        if fault is not None and fault.stall_seconds:
            try:
                await asyncio.wait_for(self._closing.wait(), fault.stall_seconds)
                return _errors(503, ["The Jira double is shutting down."])
            except TimeoutError:
                pass
        if key is not None and key not in self.issues:
            return _errors(404, [NOT_FOUND])
        issue = self.issues.get(key) if key else None
        if fault is None or fault.status < 300:
            return await handler(issue, body, dict(request.query))
        if fault.apply_first:
            await handler(issue, body, dict(request.query))
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        if fault.status in (502, 503, 504):
            # Gateways in front of Jira answer with an HTML page.
            title = f"{fault.status} {HTTPStatus(fault.status).phrase}"
            page = f"<html><body><h1>{title}</h1></body></html>"
            return web.Response(
                status=fault.status, text=page, content_type="text/html", headers=headers
            )
        message = "Rate limit exceeded." if fault.status == 429 else "Internal server error"
        return _errors(fault.status, [message], headers=headers)

    def _take_fault(self, operation: str, key: str | None) -> Fault | None:
        for fault in self._faults:
            if fault.times > 0 and fault.matches(operation, key):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _store(self, summary: str, issuetype: str) -> str:
        key = f"{self.project_key}-{next(self._numbers)}"
        self.issues[key] = {
            "id": str(next(self._ids)),
            "key": key,
            "summary": summary,
            "description": None,
            "issuetype": issuetype,
            "status": "To Do",
            "priority": "Medium",
            "labels": [],
            "reporter": self.bot_account_id,
            "assignee": None,
            "comments": [],
        }
        return key

    async def _create(self, issue: Any, body: Any, query: dict[str, str]) -> web.Response:
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return _errors(400, ["Can not deserialize the request: 'fields' is missing."])
        errors = self._check_fields(fields, creating=True)
        project = fields.get("project") or {}
        if project.get("key") != self.project_key:
            errors["project"] = "Specify a valid project ID or key"
        issuetype = (fields.get("issuetype") or {}).get("name")
        if issuetype not in ISSUE_TYPES:
            errors["issuetype"] = "Specify a valid issue type"
        reporter = fields.get("reporter") or {}
        reporter_id = reporter.get("id") or reporter.get("accountId") or self.bot_account_id
        if reporter_id not in self.users:
            errors["reporter"] = "Specify a valid value for reporter"
        if errors:
            return _errors(400, [], errors)
        created = self.issues[self._store(fields["summary"], issuetype)]
        created.update(description=fields.get("description"), reporter=reporter_id)
        created.update(labels=fields.get("labels", []))
        created.update(priority=fields.get("priority", {}).get("name", "Medium"))
        return web.json_response(
            {"id": created["id"], "key": created["key"], "self": self._self(created)}, status=201
        )

    def _check_fields(self, fields: dict[str, Any], *, creating: bool) -> dict[str, str]:
        errors: dict[str, str] = {}
        for name in set(fields) - (FIELDS if creating else FIELDS - CREATE_ONLY):
            errors[name] = (
                f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            )
        summary = fields.get("summary")
        if (creating or "summary" in fields) and (not isinstance(summary, str) or not summary):
            errors["summary"] = "You must specify a summary of the issue."
        elif isinstance(summary, str) and len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        elif isinstance(summary, str) and "\n" in summary:
            errors["summary"] = "The summary is invalid because it contains newline characters."
        if "description" in fields and not _is_adf(fields["description"]):
            errors["description"] = (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        priority = fields.get("priority")
        if "priority" in fields and not (
            isinstance(priority, dict) and priority.get("name") in PRIORITIES
        ):
            errors["priority"] = "The priority selected is invalid."
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            errors["labels"] = "Labels must be a list of strings."
        elif bad := [label for label in labels if not label or " " in label]:
            errors["labels"] = f"The label '{bad[0]}' contains spaces which is invalid."
        return errors

    async def _get_issue(self, issue: Any, body: Any, query: dict[str, str]) -> web.Response:
        status_id, category, category_name = STATUSES[issue["status"]]
        fields = {
            "summary": issue["summary"],
            "description": issue["description"],
            "issuetype": {"name": issue["issuetype"]},
            "status": {
                "name": issue["status"],
                "id": status_id,
                "statusCategory": {"key": category, "name": category_name},
            },
            "priority": {"name": issue["priority"]},
            "labels": issue["labels"],
            "assignee": self._user_ref(issue["assignee"]),
            "reporter": self._user_ref(issue["reporter"]),
        }
        wanted = [name for name in query.get("fields", "").split(",") if name]
        if wanted:
            fields = {name: value for name, value in fields.items() if name in wanted}
        return web.json_response(
            {"id": issue["id"], "key": issue["key"], "self": self._self(issue), "fields": fields}
        )

    async def _edit(self, issue: Any, body: Any, query: dict[str, str]) -> web.Response:
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return _errors(400, ["Can not deserialize the request: 'fields' is missing."])
        errors = self._check_fields(fields, creating=False)
        if errors:
            return _errors(400, [], errors)
        for name in ("summary", "description", "labels"):
            if name in fields:
                issue[name] = fields[name]
        if "priority" in fields:
            issue["priority"] = fields["priority"]["name"]
        return web.Response(status=204)

    async def _comment(self, issue: Any, body: Any, query: dict[str, str]) -> web.Response:
        document = body.get("body") if isinstance(body, dict) else None
        if not _is_adf(document) or not document["content"]:
            return _errors(400, [], {"comment": "Comment body can not be empty!"})
        properties = body.get("properties") or []
        internal = any(
            p.get("key") == "sd.public.comment" and (p.get("value") or {}).get("internal") is True
            for p in properties
            if isinstance(p, dict)
        )
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        comment_id = str(next(self._comment_ids))
        issue["comments"].append(
            {"id": comment_id, "body": document, "internal": internal, "properties": properties}
        )
        author = self._user_ref(self.bot_account_id)
        return web.json_response(
            {
                "self": f"{self._self(issue)}/comment/{comment_id}",
                "id": comment_id,
                "author": author,
                "body": document,
                "updateAuthor": author,
                "created": now,
                "updated": now,
                "jsdPublic": not internal,
            },
            status=201,
        )

    async def _transitions(self, issue: Any, body: Any, query: dict[str, str]) -> web.Response:
        listed = []
        for transition_id in WORKFLOW[issue["status"]]:
            name, target = TRANSITIONS[transition_id]
            status_id, category, category_name = STATUSES[target]
            listed.append(
                {
                    "id": transition_id,
                    "name": name,
                    "to": {
                        "self": f"{self.url}/rest/api/3/status/{status_id}",
                        "name": target,
                        "id": status_id,
                        "statusCategory": {"key": category, "name": category_name},
                    },
                    "hasScreen": False,
                    "isAvailable": True,
                }
            )
        return web.json_response({"expand": "transitions", "transitions": listed})

    async def _transition(self, issue: Any, body: Any, query: dict[str, str]) -> web.Response:
        transition_id = ((body or {}).get("transition") or {}).get("id")
        if transition_id is None:
            return _errors(400, ["Missing 'transition' identifier"])
        if str(transition_id) not in WORKFLOW[issue["status"]]:
            return _errors(400, [f"Transition id '{transition_id}' is not valid for this issue."])
        issue["status"] = TRANSITIONS[str(transition_id)][1]
        return web.Response(status=204)

    async def _assign(self, issue: Any, body: Any, query: dict[str, str]) -> web.Response:
        if not isinstance(body, dict) or "accountId" not in body:
            return _errors(400, ["Missing 'accountId'"])
        account_id = body["accountId"]
        if account_id is not None and not (self.users.get(account_id) or {}).get("active"):
            return _errors(400, [], {"assignee": f"User '{account_id}' cannot be assigned issues."})
        issue["assignee"] = account_id
        return web.Response(status=204)

    async def _link(self, issue: Any, body: Any, query: dict[str, str]) -> web.Response:
        if not isinstance(body, dict):
            return _errors(400, ["Can not deserialize the request."])
        name = (body.get("type") or {}).get("name")
        if name not in LINK_TYPES:
            return _errors(404, [f"No issue link type with name '{name}' found."])
        outward = (body.get("outwardIssue") or {}).get("key")
        inward = (body.get("inwardIssue") or {}).get("key")
        if outward not in self.issues or inward not in self.issues:
            return _errors(404, [NOT_FOUND])
        if (name, outward, inward) not in self.links:  # Jira keeps one link of a type per pair
            self.links.append((name, outward, inward))
        return web.Response(status=201)

    async def _get_user(self, issue: Any, body: Any, query: dict[str, str]) -> web.Response:
        account_id = query.get("accountId", "")
        if not account_id:
            return _errors(400, ["The query parameter 'accountId' is required."])
        user = self.users.get(account_id)
        if user is None:
            return _errors(
                404, ["Specified user does not exist or you do not have required permissions"]
            )
        return web.json_response(self._user_ref(account_id))

    def _user_ref(self, account_id: str | None) -> dict[str, Any] | None:
        if account_id is None:
            return None
        user = self.users[account_id]
        ref: dict[str, Any] = {
            "self": f"{self.url}/rest/api/3/user?accountId={account_id}",
            "accountId": account_id,
            "accountType": "atlassian",
            "displayName": user["name"],
            "active": user["active"],
            "timeZone": "Europe/Berlin",
        }
        if user["email"] is not None:  # hidden addresses are left out entirely, as Jira does
            ref["emailAddress"] = user["email"]
        return ref

    def _self(self, issue: dict[str, Any]) -> str:
        return f"{self.url}/rest/api/3/issue/{issue['id']}"


def _is_adf(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and document.get("type") == "doc"
        and document.get("version") == 1
        and isinstance(document.get("content"), list)
    )


def _errors(status: int, messages: list[str], errors: Any = None, **options: Any) -> web.Response:
    """An error in Jira's shape: general messages, and messages per field."""
    body = {"errorMessages": messages, "errors": errors or {}}
    return web.json_response(body, status=status, **options)
