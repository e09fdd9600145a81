"""Card buttons: an Action.Submit press runs the same command on behalf of whoever pressed it.

The card's data is what the sender controls, so it only names a verb and a ticket: who may do
what comes from esmbot.toml through the command's own role check, as for a typed command.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.commands.common import is_ticket_key
from bot.commands.registry import CommandContext, Registry, Reply
from bot.commands.runner import refuse
from bot.commands.tickets import acknowledge, take
from bot.errors import EsmbotError
from bot.notify.compose import Recipient
from bot.notify.views import Reader
from bot.tickets.actions import UnknownTicket
from bot.tickets.service import ticket_by_key

log = logging.getLogger(__name__)

# The agents' card is redrawn from the ticket as it now stands: its owner, no stale buttons.
AGENT_CARD = "agents/new_ticket"

# verb → (the command whose role check applies, what the press does)
_DESK_VERBS: dict[str, tuple[str, Callable[[CommandContext, str], Awaitable[Reply]]]] = {
    "ack": ("ack", acknowledge),
    "assign_me": ("assign", take),
}
# Buttons on the customers' cards; their dialogs answer them once they exist.
CUSTOMER_VERBS = frozenset({"solved", "still_broken", "answer", "csat"})
NOT_YET = "Thanks — I can't handle that button yet."


@dataclass(frozen=True)
class Pressed:
    """The answer to a press, and the card to put in place of the pressed one (if any)."""

    reply: Reply
    card: dict[str, Any] | None = None


async def press(registry: Registry, context: CommandContext, value: object) -> Pressed:
    data = value if isinstance(value, dict) else {}
    verb, key = data.get("action"), data.get("ticket")
    if verb in CUSTOMER_VERBS:
        return Pressed(Reply(NOT_YET))
    if not isinstance(verb, str) or verb not in _DESK_VERBS:
        return Pressed(
            Reply("I don't know that button, so I did nothing. Type /help to see what I can do.")
        )
    name, run = _DESK_VERBS[verb]
    if not is_ticket_key(key):
        return Pressed(
            Reply(f"That button doesn't say which ticket it is for. Type /{name} and the key.")
        )
    assert isinstance(key, str)
    key = key.upper()
    command = registry.get(name)
    assert command is not None, f"/{name} is not registered"
    refusal = await refuse(command, context, f"button {verb} {key}")
    if refusal is not None:
        return Pressed(refusal)
    try:
        reply = await run(context, key)
    except UnknownTicket as error:
        return Pressed(Reply(str(error)))
    except EsmbotError as error:
        # Taken by someone else, or a move the lifecycle forbids: the card still gets redrawn.
        reply = Reply(str(error))
    return Pressed(reply, await current_card(context, key))


async def current_card(context: CommandContext, key: str) -> dict[str, Any] | None:
    """The agents' card for the ticket as it stands, as an activity, for the reader here."""
    notifier = context.actions.notifier
    if notifier is None:
        return None
    async with context.database.transaction() as session:
        ticket = await ticket_by_key(session, key=key)
        if ticket is None:
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
            template=AGENT_CARD,
            audience="agents",
            recipient=Recipient(context.conversation, reader),
            dedupe_key="",
            view=view,
            extras={},
        )
    except EsmbotError as error:
        log.warning("could not redraw the card", extra={"ticket": key, "error": str(error)})
        return None
    return row.activity
