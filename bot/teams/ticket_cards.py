"""A ticket's card where others may read it too, trimmed to what the person asking may see."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.config.organisation import RoleMembers
from bot.directory.models import Person
from bot.notify.compose import Notifier
from bot.notify.labels import labelled
from bot.notify.render import RenderedMessage
from bot.notify.views import Reader
from bot.notify.words import Phrases
from bot.tickets.lifecycle import Status
from bot.tickets.search import Found, status_names

TEMPLATE = "ticket_card"
# Teams asks for a viewer's own card for at most this many people.
MAX_REFRESH_IDS = 60
FINISHED = frozenset({Status.CLOSED, Status.CANCELLED, Status.RESOLVED})
DESK = frozenset({"agents", "managers"})
# What of a ticket a reader sees: the queue's view, the reporter's, or that it exists.
DESK_VIEW, CUSTOMER_VIEW, HIDDEN = "desk", "customer", "hidden"


class TicketCards:
    """Draws the ticket card (customer/ticket_card) in the view the reader's role allows."""

    def __init__(self, organisation: Organisation, notifier: Notifier) -> None:
        self._organisation = organisation
        self._notifier = notifier
        self._status_words = _status_words(notifier.renderer.languages)
        members = RoleMembers(
            object_ids=frozenset().union(
                *(
                    organisation.roles[role].object_ids
                    for role in DESK
                    if role in organisation.roles
                )
            ),
            emails=frozenset().union(
                *(organisation.roles[role].emails for role in DESK if role in organisation.roles)
            ),
        )
        # Built once: the desk's members are the organisation's, and a refresh asks every time.
        emails, object_ids = sorted(members.emails), sorted(members.object_ids)
        self._desk_ids = (
            select(Person.teams_user_id)
            .where(
                Person.teams_user_id.is_not(None),
                or_(
                    Person.email.in_(emails),
                    Person.upn.in_(emails),
                    Person.aad_object_id.in_(object_ids),
                ),
            )
            .order_by(Person.id)
            .limit(MAX_REFRESH_IDS)
        )

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

    def card(
        self,
        person: Person,
        found: Found,
        *,
        view: str | None = None,
        buttons: Sequence[str] = (),
        notice: str | None = None,
        refresh_ids: Sequence[str] | None = None,
    ) -> RenderedMessage:
        """The card for this reader, in their words and time zone; with `refresh_ids`, Teams
        asks esmbot for each of those people's own version of it (Universal Actions)."""
        reader = Reader(name=person.name, locale=person.locale, time_zone=person.time_zone)
        renderer = self._notifier.renderer
        shown = self._notifier.view_of(
            found.ticket, reporter=found.reporter, assignee=found.assignee
        )
        extras = {
            "view": view or self.view_for(person, found),
            "buttons": list(buttons),
            "notice": notice,
            "refresh_ids": list(refresh_ids) if refresh_ids is not None else None,
        }
        return renderer.render(
            "customer",
            TEMPLATE,
            ticket=labelled(shown, renderer.phrases(reader)),
            reader=reader,
            extras=extras,
        )

    def buttons_for(self, person: Person, found: Found) -> list[str]:
        """What this reader may press on the ticket as it stands: an agent acknowledges and
        takes it, a manager also escalates it and sets its priority; its reporter adds
        information, and says it is still broken once it was resolved. Only agents own tickets."""
        roles = self._organisation.person_roles(person)
        ticket = found.ticket
        status = Status(ticket.status)
        if roles & DESK:
            if status in FINISHED:
                return []
            buttons = []
            if "agents" in roles and status == Status.NEW:
                buttons.append("ack")
            if "agents" in roles and ticket.assignee_id != person.id:
                buttons.append("assign_me")
            if "managers" in roles:
                buttons += ["priority", "escalate"]
            return buttons
        if person.id not in (ticket.reporter_id, ticket.opened_by_id):
            return []
        if status in (Status.RESOLVED, Status.CLOSED):
            return ["still_broken"]
        return [] if status == Status.CANCELLED else ["answer"]

    async def desk_ids(self, session: AsyncSession) -> list[str]:
        """The Teams user ids of the agents and managers esmbot has met, up to Teams' limit."""
        return [user for user in (await session.scalars(self._desk_ids)).all() if user]

    @staticmethod
    def refresh_ids(found: Found, desk_ids: Sequence[str]) -> list[str]:
        """Whom Teams asks esmbot for their own card: the ticket's reporter and owner, then the
        desk, up to Teams' limit; everyone else sees the card as it was sent."""
        own = [person.teams_user_id for person in (found.reporter, found.assignee) if person]
        return list(dict.fromkeys(user for user in (*own, *desk_ids) if user))[:MAX_REFRESH_IDS]

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
