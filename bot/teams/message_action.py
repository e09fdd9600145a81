"""The "Create a ticket" message action: Teams' dialog invokes, answered with the guided form."""

from __future__ import annotations

import logging
import re
from html import unescape
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema.teams import (
    MessageActionsPayload,
    MessagingExtensionAction,
    MessagingExtensionActionResponse,
    MessagingExtensionAttachment,
    MessagingExtensionResult,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleTaskInfo,
)

from bot.dialogs.open_ticket import may_open, refusal
from bot.dialogs.ticket_form import FormProblem, Source, first_answers, form_card, read_form
from bot.dialogs.voice import Desk, Voice
from bot.directory.models import Person
from bot.directory.service import PersonSighting, find_person, remember_person
from bot.errors import EsmbotError
from bot.notify.render import RenderedMessage
from bot.teams.roster import roster_entry
from bot.teams.sightings import tenant_id
from bot.teams.ticket_cards import CUSTOMER_VIEW, TicketCards
from bot.tickets.search import find_ticket

log = logging.getLogger(__name__)

COMMAND = "createTicket"
DIALOG_WIDTH, DIALOG_HEIGHT = "medium", "large"
# Teams sends a message's body as HTML: line breaks are kept as such, the rest is unwrapped.
_BREAKS = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


class MessageAction:
    """Opens the form from a message and opens the ticket the form describes, as the chat does."""

    def __init__(self, desk: Desk, cards: TicketCards) -> None:
        self._desk = desk
        self._cards = cards

    async def fetch(
        self, turn_context: TurnContext, action: MessagingExtensionAction, person: Person
    ) -> MessagingExtensionActionResponse:
        voice = Voice.of(person, self._desk.renderer)
        if action.command_id != COMMAND or action.message_payload is None:
            return _told(voice.t("chat.form.not_a_message"))
        if not may_open(voice, self._desk):
            return _told(refusal(voice, self._desk))
        source = await self._source(turn_context, action.message_payload)
        return _dialog(
            voice, form_card(voice, self._desk, source, first_answers(source, self._desk))
        )

    async def submit(
        self, turn_context: TurnContext, action: MessagingExtensionAction, person: Person
    ) -> MessagingExtensionActionResponse | None:
        """The ticket, posted where the action was used; the form again, saying what was wrong."""
        voice = Voice.of(person, self._desk.renderer)
        if action.command_id != COMMAND:
            return _told(voice.t("chat.form.not_a_message"))
        # Checked again: the submit is a request of its own, and may come without the dialog.
        if not may_open(voice, self._desk):
            return _told(refusal(voice, self._desk))
        answers: dict[str, Any] = action.data if isinstance(action.data, dict) else {}
        source = Source("", None)
        if action.message_payload is not None:
            source = await self._source(turn_context, action.message_payload)
        try:
            filled = await read_form(voice, self._desk, source, answers)
            applied = await self._desk.actions.open(
                filled.draft, reporter=filled.reporter, opened_by=person
            )
        except FormProblem as problem:
            return _dialog(
                voice, form_card(voice, self._desk, source, answers, problem=str(problem))
            )
        except EsmbotError as error:
            log.warning("could not open the ticket", extra={"error": str(error)})
            problem_text = voice.t("chat.form.failed", reason=str(error))
            return _dialog(
                voice, form_card(voice, self._desk, source, answers, problem=problem_text)
            )
        async with self._desk.database.reading() as session:
            found = await find_ticket(session, applied.ticket_key)
            desk_ids = await self._cards.desk_ids(session)
        if found is None:  # Jira's copy arrives by its webhook; what Jira said is enough here
            return _told(
                voice.t("chat.form.posted", key=applied.ticket_key, summary=filled.draft.summary)
            )
        # Whoever is in the chat reads it: the card shows what its reporter would see.
        refresh_ids = self._cards.refresh_ids(found, desk_ids)
        rendered = self._cards.card(person, found, view=CUSTOMER_VIEW, refresh_ids=refresh_ids)
        return await _post(turn_context, rendered)

    async def _source(self, turn_context: TurnContext, message: MessageActionsPayload) -> Source:
        """The message's words as text, and its author as esmbot knows them (or learns them now
        from the roster); an author nobody can name is left out, and the reader is the reporter."""
        body = message.body
        content = body.content if body is not None and isinstance(body.content, str) else ""
        if body is None or (body.content_type or "html").lower() == "html":
            content = html_text(content)
        user = message.from_property.user if message.from_property is not None else None
        aad = (user.id or "").lower() if user is not None else ""
        if not aad:
            return Source(content, None)
        known = PersonSighting(teams_user_id="", aad_object_id=aad)
        async with self._desk.database.transaction() as session:
            author = await find_person(session, sighting=known)
        if author is not None:
            return Source(content, author)
        entry = await roster_entry(turn_context, aad)
        if entry.teams_user_id is None:
            return Source(content, None)
        sighting = PersonSighting(
            teams_user_id=entry.teams_user_id,
            aad_object_id=entry.aad_object_id or aad,
            name=entry.name or (user.display_name if user is not None else "") or "",
            email=entry.email,
            upn=entry.upn,
            tenant_id=tenant_id(turn_context.activity),
        )
        async with self._desk.database.transaction() as session:
            author = await remember_person(session, sighting=sighting)
            author.roles = sorted(self._desk.organisation.person_roles(author))
        return Source(content, author)


def html_text(content: str) -> str:
    """A Teams message's HTML as the plain text its reader sees, one line per paragraph."""
    text = _TAGS.sub("", _BREAKS.sub("\n", content))
    lines = [" ".join(unescape(line).split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


async def _post(
    turn_context: TurnContext, rendered: RenderedMessage
) -> MessagingExtensionActionResponse | None:
    """The ticket card in the conversation; where esmbot may not post (it is not a member), the
    card goes into the compose box instead, for the person to send."""
    attachment = CardFactory.adaptive_card(rendered.card)
    activity = MessageFactory.attachment(attachment)
    activity.summary = rendered.summary
    try:
        await turn_context.send_activity(activity)
        return None
    except Exception as error:
        log.info("could not post the ticket card; offered to insert", extra={"error": repr(error)})
    return MessagingExtensionActionResponse(
        compose_extension=MessagingExtensionResult(
            type="result",
            attachment_layout="list",
            attachments=[
                MessagingExtensionAttachment(
                    content_type=attachment.content_type, content=attachment.content
                )
            ],
        )
    )


def _dialog(voice: Voice, card: dict[str, Any]) -> MessagingExtensionActionResponse:
    return MessagingExtensionActionResponse(
        task=TaskModuleContinueResponse(
            value=TaskModuleTaskInfo(
                title=voice.t("chat.form.title"),
                width=DIALOG_WIDTH,
                height=DIALOG_HEIGHT,
                card=CardFactory.adaptive_card(card),
            )
        )
    )


def _told(text: str) -> MessagingExtensionActionResponse:
    return MessagingExtensionActionResponse(task=TaskModuleMessageResponse(value=text))
