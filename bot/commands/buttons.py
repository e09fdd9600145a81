"""Card buttons: an Action.Submit press runs the same command on behalf of whoever pressed it.

The card's data is what the sender controls, so it only names a verb, a ticket and the card it
is on: who may do what comes from esmbot.toml through the command's own role check, as for a
typed command, and what a redrawn card says comes from the database.
"""

from __future__ import annotations

import logging
from argparse import Namespace
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.common import is_ticket_key
from bot.commands.errors import told
from bot.commands.problems import ALERT_VERBS, LINK_VERB, alert_pressed, link_pressed
from bot.commands.registry import CommandContext, Registry, Reply
from bot.commands.runner import refuse
from bot.commands.tickets import PRIORITIES, acknowledge, escalate, priority, take
from bot.config import Organisation
from bot.errors import EsmbotError
from bot.notify.compose import Recipient
from bot.notify.views import Reader
from bot.tickets.actions import UnknownTicket
from bot.tickets.due import DONE
from bot.tickets.due_models import DueAction
from bot.tickets.models import Ticket
from bot.tickets.planning import FIRST_RESPONSE, NUDGE, RESOLUTION
from bot.tickets.service import ticket_by_key
from bot.tickets.sla import time_left
from bot.tickets.state import policy_for

log = logging.getLogger(__name__)

# A pressed card is redrawn from the ticket as it now stands: its owner, no stale buttons.
AGENT_CARD = "agents/new_ticket"
SLA_NUDGE = "agents/sla_nudge"
# The cards whose buttons say which card they are on ("card" in their data). The sender controls
# that data, so only these names count; a card that names none (posted before cards named
# themselves) or an unknown one is drawn as the new-ticket card. A card showing words said once
# (a customer's reply, a reopen reason) cannot be drawn again from the ticket: it stays as it is.
_REDRAWN = frozenset({AGENT_CARD, SLA_NUDGE})
_KEPT = frozenset({"agents/customer_replied", "agents/reopened"})
# The deadlines that have nudges, with the ticket's due time for each.
_NUDGED = {FIRST_RESPONSE: "first_response_due", RESOLUTION: "resolution_due"}


async def _escalate(context: CommandContext, key: str, data: Mapping[str, Any]) -> Reply:
    reason = data.get("reason")
    words = [reason.strip()[:1000]] if isinstance(reason, str) and reason.strip() else None
    return await escalate(context, Namespace(key=key, to="vendor", reason=words))


async def _priority(context: CommandContext, key: str, data: Mapping[str, Any]) -> Reply:
    chosen = data.get("priority")
    if not isinstance(chosen, str) or chosen.upper() not in PRIORITIES:
        return Reply(context.phrases().t("commands.button.no_priority"))
    return await priority(context, Namespace(key=key, priority=chosen.upper(), reason=None))


# verb → (the command whose role check applies, what the press does with the card's data)
_DESK_VERBS: dict[
    str, tuple[str, Callable[[CommandContext, str, Mapping[str, Any]], Awaitable[Reply]]]
] = {
    "ack": ("ack", lambda context, key, _data: acknowledge(context, key)),
    "assign_me": ("assign", lambda context, key, _data: take(context, key)),
    "escalate": ("escalate", _escalate),
    "priority": ("priority", _priority),
}
DESK_VERBS = frozenset(_DESK_VERBS)


@dataclass(frozen=True)
class Pressed:
    """The answer to a press, and the card to put in place of the pressed one (if any)."""

    reply: Reply
    card: dict[str, Any] | None = None


async def press(registry: Registry, context: CommandContext, value: object) -> Pressed:
    data = value if isinstance(value, dict) else {}
    verb, key = data.get("action"), data.get("ticket")
    if isinstance(verb, str) and verb in ALERT_VERBS:
        return Pressed(await alert_pressed(registry, context, verb, data.get("alert")))
    if verb == LINK_VERB:
        return Pressed(await link_pressed(registry, context, key, data.get("problem")))
    if not isinstance(verb, str) or verb not in _DESK_VERBS:
        return Pressed(Reply(context.phrases().t("commands.button.unknown")))
    name, run = _DESK_VERBS[verb]
    if not is_ticket_key(key):
        return Pressed(Reply(context.phrases().t("commands.button.no_ticket", name=name)))
    assert isinstance(key, str)
    key = key.upper()
    command = registry.get(name)
    assert command is not None, f"/{name} is not registered"
    refusal = await refuse(command, context, f"button {verb} {key}")
    if refusal is not None:
        return Pressed(refusal)
    try:
        reply = await run(context, key, data)
    except UnknownTicket as error:
        return Pressed(Reply(told(error, context.phrases())))
    except EsmbotError as error:
        # Taken by someone else, or a move the lifecycle forbids: the card still gets redrawn.
        reply = Reply(told(error, context.phrases()))
    return Pressed(reply, await current_card(context, key, data))


async def current_card(
    context: CommandContext, key: str, pressed: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The pressed card for the ticket as it stands, as an activity, for the reader here.

    `pressed` is the press's data; None (no redraw) when the card cannot be drawn again.
    """
    notifier = context.actions.notifier
    data = pressed or {}
    named = data.get("card") if isinstance(data.get("card"), str) else None
    if notifier is None or named in _KEPT:
        return None
    template = named if named in _REDRAWN else AGENT_CARD
    async with context.database.transaction() as session:
        ticket = await ticket_by_key(session, key=key)
        if ticket is None:
            return None
        extras: dict[str, Any] | None = {}
        if template == SLA_NUDGE:
            extras = await _nudge_as_sent(session, ticket, data.get("sla"), context.organisation)
        if extras is None:
            return None
        view = await notifier.ticket_view(session, ticket)
    person = context.person
    reader = (
        Reader(name=person.name, locale=person.locale, time_zone=person.time_zone)
        if context.conversation.scope == "personal"
        else Reader()
    )
    try:
        # Rendered like an outbox row, but never stored: it replaces the card in this turn.
        row = notifier.render_row(
            template=template,
            audience="agents",
            recipient=Recipient(context.conversation.id, reader),
            dedupe_key="",
            view=view,
            extras=extras,
        )
    except EsmbotError as error:
        log.warning("could not redraw the card", extra={"ticket": key, "error": str(error)})
        return None
    return row.activity


async def _nudge_as_sent(
    session: AsyncSession, ticket: Ticket, sla: object, organisation: Organisation
) -> dict[str, Any] | None:
    """What the last nudge sent for this deadline said, from the database, not from the card.

    The card only says which deadline it was about; None when no such nudge went out.
    """
    if not isinstance(sla, str) or sla not in _NUDGED:
        return None
    due = getattr(ticket, _NUDGED[sla])
    nudge = await session.scalar(
        select(DueAction)
        .where(
            DueAction.ticket_id == ticket.id,
            DueAction.kind == NUDGE,
            DueAction.sla == sla,
            DueAction.status == DONE,
        )
        .order_by(DueAction.done_at.desc(), DueAction.id.desc())
        .limit(1)
    )
    if due is None or nudge is None or nudge.done_at is None:
        return None
    policy = policy_for(organisation, ticket.priority, ticket.type)
    business = (policy.first_response if sla == FIRST_RESPONSE else policy.resolution).business
    left = time_left(due, nudge.done_at, organisation.calendar, business)
    return {
        "sla_name": sla,
        "due": due,
        "time_left": max(left, timedelta(0)),
        "percent": round((nudge.fraction or 0) * 100),
    }
