"""The one path to Teams for proactive messages: send, update in place, and re-open a 1:1 chat."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
    ErrorResponseException,
)
from msrest.exceptions import ClientRequestError

from bot.notify.delivery import DeliveryError, Sent

log = logging.getLogger(__name__)


class TeamsSender:
    """Speaks to the Bot Connector through botbuilder's CloudAdapter, and says plainly how it failed."""

    def __init__(self, adapter: CloudAdapter, app_id: str, *, timeout: float = 30.0) -> None:
        self._adapter, self._app_id, self._timeout = adapter, app_id, timeout

    async def send(
        self, reference: dict[str, Any], activity: dict[str, Any], replaces: str | None
    ) -> Sent:
        target = ConversationReference().deserialize(reference)
        outgoing = TurnContext.apply_conversation_reference(
            Activity().deserialize(activity), target
        )
        # A proactive message is a new post, not a reply to the adapter's made-up continuation id.
        outgoing.reply_to_id = None
        result: dict[str, Any] = {}

        async def deliver(turn_context: TurnContext) -> None:
            # The adapter hands exceptions in a turn to its error handler; keep them for the caller.
            try:
                connector = turn_context.turn_state[turn_context.adapter.BOT_CONNECTOR_CLIENT_KEY]
                conversation_id = target.conversation.id
                if replaces:
                    outgoing.id = replaces
                    await connector.conversations.update_activity(
                        conversation_id, replaces, outgoing
                    )
                    result["id"] = replaces
                else:
                    response = await connector.conversations.send_to_conversation(
                        conversation_id, outgoing
                    )
                    result["id"] = response.id if response else None
            except Exception as error:
                result["error"] = error

        try:
            await asyncio.wait_for(
                self._adapter.continue_conversation(target, deliver, self._app_id), self._timeout
            )
        except TimeoutError:
            raise DeliveryError(None, f"no answer from Teams within {self._timeout:g} s") from None
        if "error" in result:
            raise _delivery_error(result["error"]) from result["error"]
        return Sent(activity_id=result.get("id"))

    async def reopen(self, reference: dict[str, Any]) -> dict[str, Any] | None:
        """Creates the 1:1 chat again for the user of a stale reference (they must still have the app)."""
        stale = ConversationReference().deserialize(reference)
        tenant = getattr(stale.conversation, "tenant_id", None)
        parameters = ConversationParameters(
            is_group=False,
            bot=stale.bot,
            members=[ChannelAccount(id=stale.user.id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        created: dict[str, Any] = {}

        async def remember(turn_context: TurnContext) -> None:
            created["reference"] = TurnContext.get_conversation_reference(turn_context.activity)

        try:
            await self._adapter.create_conversation(
                self._app_id, remember, parameters, stale.channel_id, stale.service_url
            )
        except Exception as error:  # the user may have removed the app: then they stay unreachable
            log.info(
                "could not re-open the chat", extra={"user": stale.user.id, "error": repr(error)}
            )
            return None
        fresh: ConversationReference | None = created.get("reference")
        if fresh is None:
            return None
        fresh.user = stale.user
        fresh.bot = stale.bot
        return fresh.serialize()


def _delivery_error(error: BaseException) -> DeliveryError:
    if isinstance(error, ErrorResponseException):
        response = error.response
        status = response.status_code if response is not None else None
        retry_after = (
            _seconds(response.headers.get("Retry-After")) if response is not None else None
        )
        code = ""
        if error.error is not None and getattr(error.error, "error", None) is not None:
            code = error.error.error.code or ""
        return DeliveryError(
            status, f"Teams answered {status} {code}".strip(), retry_after=retry_after, code=code
        )
    if isinstance(error, ClientRequestError | OSError | TimeoutError):
        return DeliveryError(None, f"could not reach Teams: {error.__class__.__name__}")
    return DeliveryError(None, f"sending failed: {error!r}")


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
