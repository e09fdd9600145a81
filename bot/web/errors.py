"""Turns every failure of an HTTP request into a JSON answer: 4xx says what is wrong, 5xx hides why."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.web.nesting import MAX_DEPTH, nesting_depth

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ClientError(Exception):
    """A request the client got wrong; the message is returned to it as it is."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ClientError as error:
        log.info(
            "rejected request",
            extra={"path": request.path, "status": error.status, "reason": error.message},
        )
        return json_error(error.status, error.message)
    except web.HTTPRequestEntityTooLarge as error:
        return json_error(413, f"body too large: {error.text}")
    except web.HTTPException as error:
        if error.status >= 400:
            return json_error(error.status, error.reason)
        raise
    except Exception:
        log.exception("request failed", extra={"path": request.path, "method": request.method})
        return json_error(500, "internal error; it has been logged")


async def read_json_object(request: web.Request) -> tuple[bytes, dict[str, Any]]:
    """The raw body and its JSON object; anything else is a ClientError naming the problem."""
    raw = await read_json_body(request)
    return raw, parse_json_object(raw)


async def read_json_body(request: web.Request) -> bytes:
    """The raw body of a JSON request (for signature checks before anything is parsed)."""
    if request.content_type != "application/json":
        raise ClientError(
            415, f"send application/json, not {request.content_type or 'no content type'}"
        )
    return await request.read()


def parse_json_object(raw: bytes) -> dict[str, Any]:
    if not raw:
        raise ClientError(400, "the body is empty; a JSON object is expected")
    if nesting_depth(raw) > MAX_DEPTH:
        # Checked before parsing: the parser and all that reads its result recurse per level.
        raise ClientError(400, f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ClientError(400, f"the body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ClientError(400, f"a JSON object is expected, got a {type(body).__name__}")
    return body
