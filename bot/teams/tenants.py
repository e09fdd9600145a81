"""The tenant check: a turn from a tenant esmbot does not serve gets one polite line and leaves
no trace."""

from __future__ import annotations

import logging

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import ActivityTypes

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
        if not _answerable(activity.type, activity.action):
            return
        words = self._renderer.phrases(Reader(locale=locale_of(activity)))
        line = words.t(
            "tenant.refused",
            service=self._organisation.service,
            organisation=self._organisation.name,
        )
        await turn_context.send_activity(MessageFactory.text(line))


def _answerable(kind: str | None, action: str | None) -> bool:
    return kind == ActivityTypes.message or (
        kind == ActivityTypes.installation_update and action == "add"
    )
