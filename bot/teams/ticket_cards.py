"""A ticket's card where others may read it too, trimmed to what the person asking may see."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config import Organisation
from bot.directory.models import Person
from bot.notify.compose import Notifier
from bot.notify.labels import labelled
from bot.notify.render import RenderedMessage
from bot.notify.views import Reader
from bot.notify.words import Phrases
from bot.tickets.lifecycle import Status
from bot.tickets.search import Found, status_names

TEMPLATE = "ticket_card"
DESK = frozenset({"agents", "managers"})
# What of a ticket a reader sees: the queue's view, the reporter's, or that it exists.
DESK_VIEW, CUSTOMER_VIEW, HIDDEN = "desk", "customer", "hidden"


class TicketCards:
    """Draws the ticket card (customer/ticket_card) in the view the reader's role allows."""

    def __init__(self, organisation: Organisation, notifier: Notifier) -> None:
        self._organisation = organisation
        self._notifier = notifier
        self._status_words = _status_words(notifier.renderer.languages)

    @property
    def status_words(self) -> Mapping[str, str]:
        """Each status by its name in every language, lower case, and by its stored name."""
        return self._status_words

    def sees_queue(self, person: Person) -> bool:
        """Agents and managers find and read the whole queue."""
        return bool(self._organisation.person_roles(person) & DESK)

    def view_for(self, person: Person, found: Found) -> str:
        if self.sees_queue(person):
            return DESK_VIEW
        ticket = found.ticket
        if person.id in (ticket.reporter_id, ticket.opened_by_id):
            return CUSTOMER_VIEW
        return HIDDEN

    def card(self, person: Person, found: Found, *, view: str | None = None) -> RenderedMessage:
        """The card for this reader, in their words and time zone."""
        reader = Reader(name=person.name, locale=person.locale, time_zone=person.time_zone)
        renderer = self._notifier.renderer
        shown = self._notifier.view_of(
            found.ticket, reporter=found.reporter, assignee=found.assignee
        )
        return renderer.render(
            "customer",
            TEMPLATE,
            ticket=labelled(shown, renderer.phrases(reader)),
            reader=reader,
            extras={"view": view or self.view_for(person, found)},
        )

    def phrases(self, person: Person) -> Phrases:
        """The reader's words, for what is said beside the cards."""
        reader = Reader(locale=person.locale, time_zone=person.time_zone)
        return self._notifier.renderer.phrases(reader)

    def status_label(self, person: Person, found: Found) -> str:
        """The ticket's status as this reader's card says it."""
        table = "status" if self.sees_queue(person) else "status_for_customer"
        return self.phrases(person).t(f"{table}.{found.ticket.status}")


def _status_words(languages: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    words = status_names()
    for table in ("status", "status_for_customer"):
        for phrases in languages.values():
            for status in Status:
                said = phrases.get(f"{table}.{status}")
                if isinstance(said, str):
                    words.setdefault(said.lower(), str(status))
    return words
