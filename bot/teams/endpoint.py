"""The Bot Framework endpoint: checks the body and the caller, then hands the activity to the bot."""

from __future__ import annotations

import logging

from aiohttp import web
from botbuilder.core import Bot, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError

from bot.web.errors import ClientError, json_error, read_json_object

log = logging.getLogger(__name__)


def messages_route(
    adapter: CloudAdapter, authentication: ConfigurationBotFrameworkAuthentication, bot: Bot
) -> web.RouteDef:
    async def messages(request: web.Request) -> web.Response:
        _raw, body = await read_json_object(request)
        activity = _activity_from(body)
        # Authenticate before the turn runs, so that a refused caller leaves no trace anywhere.
        try:
            auth = await authentication.authenticate_request(
                activity, request.headers.get("Authorization", "")
            )
        except PermissionError as error:
            log.info("refused an unauthenticated activity", extra={"reason": str(error)})
            return json_error(401, "missing or invalid Bearer token")
        except Exception as error:
            # A malformed token makes the validation library raise its own errors.
            log.info("refused an activity with a bad token", extra={"reason": repr(error)})
            return json_error(401, "missing or invalid Bearer token")
        invoke_response = await adapter.process_activity(auth, activity, bot.on_turn)
        if invoke_response:
            return _invoke_answer(invoke_response.status, invoke_response.body)
        return web.Response(status=201)

    return web.post("/api/messages", messages)


def _invoke_answer(status: int, body: object) -> web.Response:
    """An invoke's answer. botbuilder's handler has already made a dict of the model it was
    given; serializing that dict again fails, so only a model still a model is serialized."""
    if body is None:
        return web.Response(status=status)
    if isinstance(body, (dict, list)):
        return web.json_response(body, status=status)
    return web.json_response(serializer_helper(body), status=status)


def _activity_from(body: dict[str, object]) -> Activity:
    if not isinstance(body.get("type"), str) or not body["type"]:
        raise ClientError(400, "not a Bot Framework activity: 'type' is missing")
    try:
        activity = Activity().deserialize(body)
    except (DeserializationError, ValueError, TypeError, AttributeError) as error:
        raise ClientError(400, f"not a valid activity: {error}") from None
    missing = [
        name
        for name, value in (
            ("serviceUrl", activity.service_url),
            ("conversation.id", activity.conversation and activity.conversation.id),
            ("channelId", activity.channel_id),
        )
        if not isinstance(value, str) or not value
    ]
    if missing:
        raise ClientError(400, f"not a valid activity: missing {', '.join(missing)}")
    if not activity.service_url.startswith(("https://", "http://")):
        raise ClientError(400, "not a valid activity: serviceUrl must be an http(s) URL")
    return activity
