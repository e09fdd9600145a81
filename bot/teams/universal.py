"""Universal Actions on the ticket card: each viewer's own version of it, and what its buttons do."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse

from bot.commands.buttons import DESK_VERBS, press
from bot.commands.common import is_ticket_key
from bot.commands.registry import CommandContext, Registry
from bot.dialogs import replies
from bot.dialogs.voice import Desk, Voice
from bot.directory.models import Person
from bot.teams.ticket_cards import CUSTOMER_VIEW, TicketCards
from bot.tickets.search import Found, find_ticket

log = logging.getLogger(__name__)

REFRESH = "refresh"
CUSTOMER_VERBS = frozenset({"answer", "still_broken"})
CARD = "application/vnd.microsoft.card.adaptive"
ERROR = "application/vnd.microsoft.error"


class UniversalActions:
    """Answers `adaptiveCard/action`: a refresh with the viewer's card, a press with its effect.

    A press does what the same button does on the desk's or the customer's own cards, with the
    same checks (role, ticket, first press wins); the answer is the viewer's card as the ticket
    now stands, saying what happened or why nothing did. The card everyone else sees is redrawn
    in place too, so a client that cannot refresh still shows the ticket as it is.
    """

    def __init__(self, registry: Registry, cards: TicketCards, desk: Desk) -> None:
        self._registry = registry
        self._cards = cards
        self._desk = desk

    async def execute(
        self, turn_context: TurnContext, context: CommandContext, action: dict[str, Any]
    ) -> AdaptiveCardInvokeResponse:
        person = context.person
        words = self._cards.phrases(person)
        raw = action.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        verb, key = action.get("verb"), data.get("ticket")
        if not is_ticket_key(key):
            return _error(400, words.t("commands.button.no_ticket", name=str(verb or "")[:20]))
        assert isinstance(key, str)
        pressed = {**data, "action": verb, "ticket": key.upper()}
        notice: str | None = None
        if verb in DESK_VERBS:
            notice = (await press(self._registry, context, pressed)).reply.text
        elif verb in CUSTOMER_VERBS:
            notice = (await self.customer_press(person, pressed)).text or None
        elif verb != REFRESH:
            notice = words.t("commands.button.unknown")
        async with self._desk.database.reading() as session:
            found = await find_ticket(session, key)
            desk_ids = await self._cards.desk_ids(session)
        refresh_ids = self._cards.refresh_ids(found, desk_ids) if found else []
        if found is None:
            return _error(404, words.t("chat.check.unknown", key=key.upper()[:40]))
        rendered = self._cards.card(
            person, found, buttons=self._cards.buttons_for(person, found), notice=notice,
            refresh_ids=refresh_ids,
        )  # fmt: skip
        if verb != REFRESH:
            await self._redraw_for_everyone(turn_context, person, found, refresh_ids)
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD, value=rendered.card)

    @staticmethod
    def answers_customer(value: object) -> bool:
        """Whether a card's Action.Submit is a customer's button of the shared ticket card."""
        return isinstance(value, dict) and value.get("action") in CUSTOMER_VERBS

    async def customer_press(self, person: Person, data: dict[str, Any]) -> Activity:
        """A reporter's button, checked and done as on their own cards; the reply to it."""
        voice = Voice.of(person, self._desk.renderer)
        return (await replies.press(voice, self._desk, data)).reply

    async def _redraw_for_everyone(
        self, turn_context: TurnContext, person: Person, found: Found, refresh_ids: list[str]
    ) -> None:
        """The card in the conversation, as the ticket now stands, for those who do not refresh."""
        card_id = turn_context.activity.reply_to_id
        if not card_id:
            return
        shared = self._cards.card(person, found, view=CUSTOMER_VIEW, refresh_ids=refresh_ids)
        activity = MessageFactory.attachment(CardFactory.adaptive_card(shared.card))
        activity.summary = shared.summary
        activity.id = card_id
        try:
            await turn_context.update_activity(activity)
        except Exception as error:  # the press is done; the others' card refreshes on opening
            log.warning("could not redraw the ticket card", extra={"error": repr(error)})


def _error(status: int, message: str) -> AdaptiveCardInvokeResponse:
    code = "BadRequest" if status == 400 else "NotFound"
    return AdaptiveCardInvokeResponse(
        status_code=status, type=ERROR, value={"code": code, "message": message}
    )
