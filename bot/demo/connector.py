"""A stand-in for Microsoft's Bot Connector service: records what the bot sends, and can misbehave.

It speaks the REST calls esmbot makes (`/v3/conversations/...`) over real HTTP, so the real
CloudAdapter talks to it as it would to Teams. The demo and the tests both use it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    """One call the bot made: which operation, on which conversation, with which body."""

    operation: str  # send, reply, update, delete, create_conversation, get_member
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    posted_id: str | None = None  # the id Teams gave a new post or reply, which updates name
    at: float = field(default_factory=time.monotonic)  # when it arrived, on the monotonic clock

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")


@dataclass
class Fault:
    """An answer to give instead of success, to the next `times` calls that match."""

    status: int
    times: int = 1
    retry_after: float | None = None
    stall_seconds: float = 0.0
    operation: str | None = None
    conversation_id: str | None = None
    code: str = ""

    def matches(self, operation: str, conversation_id: str) -> bool:
        return (self.operation in (None, operation)) and (
            self.conversation_id in (None, conversation_id)
        )


# Microsoft's published limits for one bot: per conversation 7 in 1 s, 8 in 2 s, 60 in 30 s; for
# the bot in a tenant 30 per second. Pairs of (seconds, most calls).
CONVERSATION_LIMITS = ((1.0, 7), (2.0, 8), (30.0, 60))
TENANT_RATE = 30
# Calls that count against the limits: writes, not the roster reads (which have their own).
_LIMITED = frozenset({"send", "reply", "update", "delete", "create_conversation"})


class Limits:
    """Sliding windows over the calls Teams accepted; says how long a call over a limit must wait.

    A refused call consumes nothing, as a caller that honours Retry-After would expect.
    `tenant_rate` is the bot's calls per second over all conversations.
    """

    def __init__(self, tenant_rate: int = TENANT_RATE) -> None:
        self._accepted: dict[tuple[str, float], deque[float]] = {}
        self._bot = ((1.0, tenant_rate),)

    def admit(self, conversation_id: str, now: float) -> float | None:
        """Records the call and returns None, or returns the seconds until it would be allowed."""
        windows = [("*", seconds, limit) for seconds, limit in self._bot]
        if conversation_id:
            windows += [(conversation_id, s, limit) for s, limit in CONVERSATION_LIMITS]
        wait = 0.0
        for key, seconds, limit in windows:
            times = self._accepted.setdefault((key, seconds), deque())
            while times and times[0] <= now - seconds:
                times.popleft()
            if len(times) >= limit:
                wait = max(wait, times[len(times) - limit] + seconds - now)
        if wait > 0:
            return wait
        for key, seconds, _limit in windows:
            self._accepted[(key, seconds)].append(now)
        return None


_ERROR_CODES = {
    403: "BotNotInConversationRoster",
    404: "ConversationNotFound",
    412: "PreconditionFailed",
    413: "MessageSizeTooBig",
    429: "Throttled",
}


class ConnectorDouble:
    """A recording Bot Connector; `url` is what activities carry as their serviceUrl."""

    def __init__(self, *, enforce_limits: bool = False, tenant_rate: int = TENANT_RATE) -> None:
        """With `enforce_limits` every write past Teams' limits gets a 429 with Retry-After.

        `tenant_rate` lowers the bot's limit of calls per second, to reach it in a short test.
        """
        self.calls: list[Recorded] = []
        self.limits = Limits(tenant_rate) if enforce_limits else None
        self.throttled = 0  # how many 429s the limits gave (injected faults not counted)
        self.members: dict[str, dict[str, Any]] = {}
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        # Calls received and not yet answered: a test that waits for quiet waits for these too.
        self.unanswered = 0
        self.app = web.Application(middlewares=[self._counted])
        self.app.add_routes(
            [
                web.post("/v3/conversations", self._create_conversation),
                web.post("/v3/conversations/{conversation}/activities", self._send),
                web.post("/v3/conversations/{conversation}/activities/{activity}", self._reply),
                web.put("/v3/conversations/{conversation}/activities/{activity}", self._update),
                web.delete("/v3/conversations/{conversation}/activities/{activity}", self._delete),
                web.get("/v3/conversations/{conversation}/members/{member}", self._get_member),
            ]
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound}/"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def add_member(
        self, member_id: str, *, name: str, email: str, aad_object_id: str | None = None
    ) -> None:
        """Someone the roster knows, so that TeamsInfo.get_member finds their e-mail."""
        self.members[member_id] = {
            "id": member_id,
            "name": name,
            "email": email,
            "userPrincipalName": email,
            "aadObjectId": aad_object_id,
            "userRole": "user",
        }

    def fail(self, status: int, **options: Any) -> Fault:
        """Answers the next matching calls with `status` (see Fault for the options)."""
        fault = Fault(status=status, **options)
        self._faults.append(fault)
        return fault

    def stall(self, seconds: float, **options: Any) -> Fault:
        return self.fail(200, stall_seconds=seconds, **options)

    def sent(self, conversation_id: str | None = None) -> list[Recorded]:
        """The messages that reached a conversation (new posts and replies), oldest first."""
        return [
            call
            for call in self.calls
            if call.operation in ("send", "reply")
            and call.status < 300
            and (conversation_id is None or call.conversation_id == conversation_id)
        ]

    def changes(self, conversation_id: str | None = None) -> list[Recorded]:
        """What people saw change: new messages and cards updated in place, oldest first."""
        return [
            call
            for call in self.calls
            if call.operation in ("send", "reply", "update")
            and call.status < 300
            and (conversation_id is None or call.conversation_id == conversation_id)
        ]

    def shown(self, conversation_id: str | None = None) -> list[Recorded]:
        """The messages as Teams now shows them, oldest first: each as its latest update left it."""
        latest = {
            (call.conversation_id.split(";")[0], call.activity_id): call
            for call in self.calls
            if call.operation == "update" and call.status < 300
        }
        shown = []
        for message in self.sent(conversation_id):
            update = latest.get((message.conversation_id.split(";")[0], message.posted_id))
            shown.append(message if update is None else replace(message, body=update.body))
        return shown

    async def wait_for(
        self,
        count: int,
        conversation_id: str | None = None,
        within: float = 5.0,
        *,
        redraws: bool = False,
    ) -> list[Recorded]:
        """Waits until `count` messages reached the conversation; fails loudly if they never do.

        With `redraws`, cards updated in place count too (see `changes`).
        """
        counted = self.changes if redraws else self.sent

        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(counted(conversation_id)) >= count)

        try:
            await asyncio.wait_for(enough(), within)
        except TimeoutError:
            got = [call.text for call in counted(conversation_id)]
            raise AssertionError(
                f"expected {count} messages in {conversation_id}, got {got}"
            ) from None
        return counted(conversation_id)

    @web.middleware
    async def _counted(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.unanswered += 1
        try:
            return await handler(request)
        finally:
            self.unanswered -= 1

    async def _record(
        self, request: web.Request, operation: str, success: dict[str, Any], status: int = 200
    ) -> web.Response:
        conversation_id = request.match_info.get("conversation", "")
        body: dict[str, Any] = {}
        if request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else {}
        headers: dict[str, str] = {}
        wait = self._over_limit(operation, conversation_id)
        fault = None if wait is None else Fault(429, retry_after=_whole_seconds(wait))
        if fault is None:
            fault = self._take_fault(operation, conversation_id)
        else:
            self.throttled += 1
        if fault is not None:
            if fault.stall_seconds:
                await asyncio.sleep(fault.stall_seconds)
            if fault.status < 300:
                fault = None
            else:
                status = fault.status
                if fault.retry_after is not None:
                    headers["Retry-After"] = f"{fault.retry_after:g}"
        call = Recorded(
            operation=operation,
            conversation_id=conversation_id,
            activity_id=request.match_info.get("activity"),
            body=body,
            status=status,
            headers=dict(request.headers),
            posted_id=success.get("id")
            if operation in ("send", "reply") and status < 300
            else None,
        )
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        if status >= 400:
            code = (fault.code if fault else "") or _ERROR_CODES.get(status, "ServiceError")
            error = {"code": code, "message": "injected" if fault else "not found"}
            return web.json_response({"error": error}, status=status, headers=headers)
        return web.json_response(success, status=status)

    def _over_limit(self, operation: str, conversation_id: str) -> float | None:
        if self.limits is None or operation not in _LIMITED:
            return None
        # A new chat has no id yet: only the bot's own limit applies to creating it.
        key = "" if operation == "create_conversation" else conversation_id
        return self.limits.admit(key, time.monotonic())

    def _take_fault(self, operation: str, conversation_id: str) -> Fault | None:
        for fault in self._faults:
            if fault.times > 0 and fault.matches(operation, conversation_id):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _send(self, request: web.Request) -> web.Response:
        return await self._record(request, "send", {"id": f"activity-{next(self._ids)}"})

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._record(request, "reply", {"id": f"activity-{next(self._ids)}"})

    async def _update(self, request: web.Request) -> web.Response:
        return await self._record(request, "update", {"id": request.match_info["activity"]})

    async def _delete(self, request: web.Request) -> web.Response:
        return await self._record(request, "delete", {})

    async def _create_conversation(self, request: web.Request) -> web.Response:
        number = next(self._ids)
        return await self._record(
            request,
            "create_conversation",
            {
                "id": f"a:created-{number}",
                "activityId": f"activity-{number}",
                "serviceUrl": self.url,
            },
            status=201,
        )

    async def _get_member(self, request: web.Request) -> web.Response:
        # Teams finds a member by Teams user id, or by Entra object id as a message's author has.
        wanted = request.match_info["member"]
        member = self.members.get(wanted) or next(
            (found for found in self.members.values() if found["aadObjectId"] == wanted), None
        )
        return await self._record(request, "get_member", member or {}, 200 if member else 404)


def _whole_seconds(wait: float) -> float:
    # Retry-After carries whole seconds, so a caller that honours it waits at least as long.
    return float(max(1, math.ceil(wait)))
