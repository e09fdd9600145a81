"""How the chat speaks to one customer: their words, dates in their zone, and cards as activities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity

from bot.config import Organisation
from bot.db import Database
from bot.directory.models import Person
from bot.notify.labels import label, labelled
from bot.notify.render import Renderer
from bot.notify.views import Reader, TicketView
from bot.notify.words import Phrases
from bot.tickets.actions import TicketActions

TURN_KEY = "esmbot.turn"


@dataclass(frozen=True)
class Desk:
    """What every dialog and reply needs from the app: shared by all turns."""

    database: Database
    organisation: Organisation
    actions: TicketActions
    renderer: Renderer

    def now(self) -> datetime:
        return self.actions.clock()


@dataclass(frozen=True)
class Voice:
    """One customer's turn: who they are and how to say things to them."""

    person: Person
    reader: Reader
    phrases: Phrases
    renderer: Renderer

    @classmethod
    def of(cls, person: Person, renderer: Renderer) -> Voice:
        reader = Reader(name=person.name, locale=person.locale, time_zone=person.time_zone)
        return cls(person, reader, renderer.phrases(reader), renderer)

    @property
    def language(self) -> str:
        return self.phrases.language

    def t(self, key: str, /, **params: object) -> str:
        return self.phrases.t(key, **params)

    def when(self, moment: datetime | None) -> str:
        return self.phrases.when(moment)

    def label(self, kind: str, value: str) -> str:
        """A catalogue entry (a ticket type or area) in the customer's words."""
        return label(self.phrases, kind, value)

    def text(self, key: str, /, **params: object) -> Activity:
        return MessageFactory.text(self.t(key, **params))

    def card(
        self,
        template: str,
        *,
        ticket: TicketView | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> Activity:
        """A customer card (`customer/<template>`) with its plain-text fallback and summary."""
        shown = labelled(ticket, self.phrases)
        rendered = self.renderer.render(
            "customer", template, ticket=shown, reader=self.reader, extras=extras or {}
        )
        activity = MessageFactory.attachment(CardFactory.adaptive_card(rendered.card))
        activity.summary = rendered.summary
        activity.text = None
        return activity


def remember_turn(turn_context: TurnContext, voice: Voice) -> None:
    turn_context.turn_state[TURN_KEY] = voice


def voice_of(turn_context: TurnContext) -> Voice:
    """The voice the chat set for this turn (dialogs are only run after it is set)."""
    voice = turn_context.turn_state.get(TURN_KEY)
    if not isinstance(voice, Voice):
        raise RuntimeError("the customer chat did not set up this turn")
    return voice
