"""The compose box's "Tickets" search and pasted ticket links: each answered with ticket cards."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from botbuilder.core import CardFactory
from botbuilder.schema import CardAction, ThumbnailCard
from botbuilder.schema.teams import (
    AppBasedLinkQuery,
    MessagingExtensionAttachment,
    MessagingExtensionQuery,
    MessagingExtensionResponse,
    MessagingExtensionResult,
)

from bot.db import Database
from bot.directory.models import Person
from bot.notify.render import RenderedMessage
from bot.teams.ticket_cards import HIDDEN, TicketCards
from bot.tickets.search import MAX_RESULTS, Found, find_ticket, find_tickets, read_query

COMMAND = "searchTickets"
QUERY_PARAMETER = "q"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
# A ticket's page: Jira's /browse/KEY on the configured site, esmbot's own /tickets/KEY.
_JIRA_PATH = re.compile(r"^/browse/([A-Za-z][A-Za-z0-9_]{0,30}-[0-9]{1,12})/?$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}-[0-9]{1,12}$")
_OWN_PATH = re.compile(r"^/tickets/([A-Za-z][A-Za-z0-9_]{0,30}-[0-9]{1,12})/?$")


class TicketSearch:
    """Finds tickets for the person searching, and unfolds the links they paste."""

    def __init__(self, database: Database, cards: TicketCards, *, jira_base_url: str = "") -> None:
        self._database = database
        self._cards = cards
        self._jira_host = urlsplit(jira_base_url).netloc.lower() if jira_base_url else ""

    async def query(
        self, person: Person, query: MessagingExtensionQuery
    ) -> MessagingExtensionResponse:
        words = self._cards.phrases(person)
        if query.command_id != COMMAND:
            return _message(words.t("ticket_search.unknown_command"))
        text = ""
        for parameter in query.parameters or []:
            if parameter.name == QUERY_PARAMETER and isinstance(parameter.value, str):
                text = parameter.value
        options = query.query_options
        skip = options.skip if options is not None and isinstance(options.skip, int) else 0
        count = options.count if options is not None and isinstance(options.count, int) else 0
        wanted = read_query(text, self._cards.status_words)
        async with self._database.reading() as session:
            found = await find_tickets(
                session,
                wanted,
                person=person,
                whole_queue=self._cards.sees_queue(person),
                skip=skip,
                count=count or MAX_RESULTS,
            )
        if not found and skip == 0:
            # The same answer for a ticket that does not exist and one they may not see.
            typed = " ".join(text.split())[:100]
            if not typed:
                return _message(words.t("ticket_search.none_open"))
            return _message(words.t("ticket_search.none", query=typed))
        # A list of previews: the card itself is drawn only for the one picked (selectItem).
        return _results([self._listed(person, ticket) for ticket in found])

    async def select(self, person: Person, value: object) -> MessagingExtensionResponse:
        """The card of the ticket picked from the results, to insert; drawn for the person
        picking it, who may have picked any key (the value is theirs to forge)."""
        key = value.get("ticket") if isinstance(value, dict) else None
        found = None
        if isinstance(key, str) and _KEY.match(key):
            async with self._database.reading() as session:
                found = await find_ticket(session, key)
                desk_ids = await self._cards.desk_ids(session) if found else []
        if found is None or self._cards.view_for(person, found) == HIDDEN:
            typed = key[:40] if isinstance(key, str) else ""
            return _message(self._cards.phrases(person).t("ticket_search.none", query=typed))
        return _results([self._result(person, found, desk_ids)])

    async def unfold(self, person: Person, query: AppBasedLinkQuery) -> MessagingExtensionResponse:
        """A pasted link to a ticket, as its card: in full for whoever may see the ticket, for
        anyone else only that it exists. A link to no ticket esmbot knows unfolds to nothing."""
        key = self.ticket_key(query.url if isinstance(query.url, str) else "")
        found = None
        if key is not None:
            async with self._database.reading() as session:
                found = await find_ticket(session, key)
                desk_ids = await self._cards.desk_ids(session) if found else []
        if found is None:
            return _results([])
        return _results([self._result(person, found, desk_ids)])

    def ticket_key(self, url: str) -> str | None:
        """The key a ticket's link names: a Jira issue on the configured site, or esmbot's own."""
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            return None
        if parts.scheme != "https":
            return None
        own = _OWN_PATH.match(parts.path)
        if own:
            return own[1].upper()
        jira = _JIRA_PATH.match(parts.path)
        if jira and self._jira_host and parts.netloc.lower() == self._jira_host:
            return jira[1].upper()
        return None

    def _listed(self, person: Person, found: Found) -> MessagingExtensionAttachment:
        """One search result: the ticket's key, summary and status; picking it asks for its card."""
        preview = ThumbnailCard(
            title=f"{found.ticket.key}: {found.ticket.summary[:80]}",
            text=self._cards.status_label(person, found),
            tap=CardAction(type="invoke", value={"ticket": found.ticket.key}),
        )
        attachment = CardFactory.thumbnail_card(preview)
        return MessagingExtensionAttachment(
            content_type=attachment.content_type, content=attachment.content, preview=attachment
        )

    def _result(
        self, person: Person, found: Found, desk_ids: list[str]
    ) -> MessagingExtensionAttachment:
        """The ticket's card as this reader may see it; once shared, Teams asks esmbot for
        each viewer's own version of it."""
        view = self._cards.view_for(person, found)
        refresh_ids = self._cards.refresh_ids(found, desk_ids)
        rendered: RenderedMessage = self._cards.card(
            person, found, view=view, refresh_ids=refresh_ids
        )
        # The preview shows no more than the card does.
        if view == HIDDEN:
            preview = ThumbnailCard(title=rendered.summary)
        else:
            title = f"{found.ticket.key}: {found.ticket.summary[:80]}"
            preview = ThumbnailCard(title=title, text=self._cards.status_label(person, found))
        return MessagingExtensionAttachment(
            content_type=ADAPTIVE,
            content=rendered.card,
            preview=CardFactory.thumbnail_card(preview),
        )


def _results(attachments: list[MessagingExtensionAttachment]) -> MessagingExtensionResponse:
    return MessagingExtensionResponse(
        compose_extension=MessagingExtensionResult(
            type="result", attachment_layout="list", attachments=attachments
        )
    )


def _message(text: str) -> MessagingExtensionResponse:
    return MessagingExtensionResponse(
        compose_extension=MessagingExtensionResult(type="message", text=text)
    )
