"""The tenant check: a turn from a tenant esmbot does not serve gets one polite line and leaves
no trace."""

from __future__ import annotations

import logging
from collections.abc import Callable

from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.config import Organisation
from bot.notify.metrics import Metrics
from bot.notify.render import Renderer
from bot.notify.views import Reader
from bot.teams.sightings import locale_of, tenant_id

log = logging.getLogger(__name__)


class TenantGate:
    """Stands before everything a turn learns or stores: the sender's tenant must be served."""

    def __init__(self, organisation: Organisation, renderer: Renderer, metrics: Metrics) -> None:
        self._organisation, self._renderer, self._metrics = organisation, renderer, metrics

    def admits(self, turn_context: TurnContext) -> bool:
        return self._organisation.serves(tenant_id(turn_context.activity))

    async def refuse(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        self._metrics.activity_refused("tenant")
        log.info(
            "refused an activity from a tenant esmbot does not serve",
            extra={"tenant": tenant_id(activity), "type": activity.type},
        )
        # Someone who wrote or installed the app hears why nothing happens; other activities
        # (members added, reactions, invokes) are only counted.
        if activity.type == ActivityTypes.invoke and activity.name in _INVOKE_REFUSALS:
            # A dialog, a search or a card press waits for its answer: it gets the line.
            answer = InvokeResponse(
                status=200, body=_INVOKE_REFUSALS[activity.name](self._line(turn_context))
            )
            await turn_context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=answer)
            )
            return
        if not _answerable(activity.type, activity.action):
            return
        await turn_context.send_activity(MessageFactory.text(self._line(turn_context)))

    def _line(self, turn_context: TurnContext) -> str:
        words = self._renderer.phrases(Reader(locale=locale_of(turn_context.activity)))
        return words.t(
            "tenant.refused",
            service=self._organisation.service,
            organisation=self._organisation.name,
        )


def _told_in_dialog(line: str) -> dict[str, object]:
    return {"task": {"type": "message", "value": line}}


def _told_in_results(line: str) -> dict[str, object]:
    return {"composeExtension": {"type": "message", "text": line}}


def _told_on_card(line: str) -> dict[str, object]:
    return {
        "statusCode": 400,
        "type": "application/vnd.microsoft.error",
        "value": {"code": "Forbidden", "message": line},
    }


# The invokes Teams shows an answer to, and how each shows a line of text.
_INVOKE_REFUSALS: dict[str, Callable[[str], dict[str, object]]] = {
    "composeExtension/fetchTask": _told_in_dialog,
    "composeExtension/submitAction": _told_in_dialog,
    "composeExtension/query": _told_in_results,
    "composeExtension/selectItem": _told_in_results,
    "composeExtension/queryLink": _told_in_results,
    "adaptiveCard/action": _told_on_card,
}


def _answerable(kind: str | None, action: str | None) -> bool:
    return kind == ActivityTypes.message or (
        kind == ActivityTypes.installation_update and action == "add"
    )
