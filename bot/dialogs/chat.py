"""The customer's 1:1 chat: continues a dialog in progress or works out what a new message wants."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext, DialogSet, DialogTurnStatus
from sqlalchemy.engine import Connection

from bot.dialogs import replies
from bot.dialogs.follow_up import ANSWER_WHICH, REOPEN, AnswerWhichDialog, ReopenDialog
from bot.dialogs.intents import Intent, Recogniser
from bot.dialogs.open_ticket import (
    OPEN_TICKET,
    OpenTicketDialog,
    draft_from_text,
    may_open,
    refusal,
)
from bot.dialogs.preload import PreloadingState
from bot.dialogs.storage import SqlStorage, StateConflict
from bot.dialogs.voice import Desk, Voice, remember_turn
from bot.directory.models import Person
from bot.tickets import requester

log = logging.getLogger(__name__)

# What each dialog is called when it lapses or is cancelled ("a new ticket", "your answer").
_DIALOG_NAMES = {OPEN_TICKET: "new_ticket", REOPEN: "reopen", ANSWER_WHICH: "answer"}
# How far back a resolved ticket is looked for at all; the reopen window decides the rest.
REOPEN_LOOKBACK = timedelta(days=62)
# The Action.Submit verbs of the customer's cards that the chat answers.
CHAT_VERBS = frozenset(
    {"answer", "solved", "still_broken", "csat", "status", "new_ticket", "my_tickets", "draft",
     "choose"}
)  # fmt: skip


class CustomerChat:
    """Everything a customer says in the 1:1 chat, in their language; state lives in the
    database, so a conversation survives a restart and may continue on another replica."""

    def __init__(self, desk: Desk, storage: SqlStorage) -> None:
        self._desk = desk
        self._state = PreloadingState(storage)
        self._dialog_state = self._state.create_property("dialogs")
        self._last_turn = self._state.create_property("last_turn")
        self._dialogs = DialogSet(self._dialog_state)
        self._dialogs.add(OpenTicketDialog(desk))
        self._dialogs.add(ReopenDialog(desk))
        self._dialogs.add(AnswerWhichDialog(desk))
        self._recogniser = Recogniser(desk.renderer.languages.values())
        # Two messages sent quickly are taken one after the other, not raced.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def preload(self, connection: Connection, turn_context: TurnContext) -> None:
        """Reads the turn's dialog state in the caller's transaction, before on_message or
        on_press (which read it again if this chat saved state in between)."""
        self._state.preload(connection, turn_context)

    async def on_message(self, turn_context: TurnContext, person: Person) -> None:
        await self._turn(turn_context, person, self._message)

    async def on_press(self, turn_context: TurnContext, person: Person) -> None:
        await self._turn(turn_context, person, self._press)

    async def welcome(self, turn_context: TurnContext, person: Person, bot_name: str) -> None:
        voice = Voice.of(person, self._desk.renderer)
        extras = {
            "name": person.name or None,
            "bot": bot_name,
            "service": self._desk.organisation.service,
            "can_open": may_open(voice, self._desk),
        }
        await turn_context.send_activity(voice.card("welcome", extras=extras))

    @staticmethod
    def handles_press(value: object) -> bool:
        """Whether a card press belongs to the customer's chat rather than to a desk command."""
        if not isinstance(value, dict):
            return False
        return value.get("action") in CHAT_VERBS

    async def _turn(
        self,
        turn_context: TurnContext,
        person: Person,
        work: Callable[[DialogContext, Voice], Awaitable[None]],
    ) -> None:
        voice = Voice.of(person, self._desk.renderer)
        remember_turn(turn_context, voice)
        conversation = turn_context.activity.conversation.id
        lock = self._locks.get(conversation)
        if lock is None:
            lock = self._locks[conversation] = asyncio.Lock()
        async with lock:
            await self._state.load(turn_context, force=True)
            dc = await self._dialogs.create_context(turn_context)
            try:
                await self._expire(dc, voice)
                await work(dc, voice)
                if dc.active_dialog is not None:
                    # Only a question left open can expire; a turn that leaves none open (a
                    # status asked, a ticket shown) changes no state, so nothing is written.
                    await self._last_turn.set(turn_context, self._desk.now().isoformat())
                try:
                    await self._state.save_changes(turn_context)
                except StateConflict:
                    # Another replica took a message of this chat at the same moment.
                    await turn_context.send_activity(voice.text("chat.busy"))
            finally:
                # The dialog context and its state manager refer to each other, and through
                # the context to everything the turn made: left so, all of it waits for a
                # pass of the garbage collector, which then stops every turn in flight.
                dc.state = None

    async def _expire(self, dc: DialogContext, voice: Voice) -> None:
        """A question left unanswered for too long is dropped, and the customer told so."""
        if dc.active_dialog is None:
            return
        last = await self._last_turn.get(dc.context, None)
        organisation = self._desk.organisation
        if last is None:
            return
        lapses = organisation.calendar.add(
            datetime.fromisoformat(last), organisation.timers.dialog_expiry
        )
        if self._desk.now() < lapses:
            return
        what = _DIALOG_NAMES.get(dc.stack[-1].id, "new_ticket")
        await dc.cancel_all_dialogs()
        await dc.context.send_activity(voice.text(f"chat.expired.{what}"))

    async def _message(self, dc: DialogContext, voice: Voice) -> None:
        text = (dc.context.activity.text or "").strip()
        heard = self._recogniser.recognise(text)
        if heard.intent == Intent.CANCEL:
            if dc.active_dialog is None:
                await dc.context.send_activity(voice.text("chat.nothing_to_cancel"))
                return
            what = _DIALOG_NAMES.get(dc.stack[-1].id, "new_ticket")
            await dc.cancel_all_dialogs()
            await dc.context.send_activity(voice.text(f"chat.cancelled.{what}"))
            return
        if dc.active_dialog is not None:
            if heard.intent == Intent.HELP:
                await dc.context.send_activity(voice.text("chat.help_in_dialog"))
                await dc.reprompt_dialog()
                return
            await self._continue(dc, voice)
            return
        await self._new_message(dc, voice, text, heard.intent, heard.key)

    async def _new_message(
        self, dc: DialogContext, voice: Voice, text: str, intent: Intent, key: str | None
    ) -> None:
        send = dc.context.send_activity
        desk = self._desk
        if intent == Intent.NEW_TICKET:
            await self._open(dc, voice, {})
        elif intent in (Intent.MY_TICKETS, Intent.CLOSED_TICKETS):
            closed = intent == Intent.CLOSED_TICKETS
            await send(await replies.my_tickets(voice, desk, closed=closed))
        elif intent == Intent.STATUS and key:
            await send(await replies.ticket_status(voice, desk, key))
        elif intent == Intent.HELP:
            await send(replies.help_text(voice, desk))
        elif intent == Intent.GREETING:
            await send(voice.text("chat.greeting", name=voice.person.name or ""))
        elif intent == Intent.THANKS:
            await send(voice.text("chat.you_are_welcome"))
        elif not text:
            await send(voice.text("chat.only_text"))
        elif await self._answers_question(dc, voice, text):
            pass  # a reply while the desk waits for them answers the desk
        elif intent == Intent.PROBLEM and not await self._offers_reopen(dc, voice, text):
            await self._open(dc, voice, draft_from_text(text))
        elif intent == Intent.PROBLEM:
            pass  # asked whether to reopen the ticket just resolved
        else:
            await send(voice.text("chat.not_understood"))

    async def _answers_question(self, dc: DialogContext, voice: Voice, text: str) -> bool:
        """A plain reply while the desk waits for this customer answers the desk's question."""
        async with self._desk.database.reading() as session:
            waiting = await requester.waiting_on(session, person=voice.person)
        if not waiting:
            return False
        if len(waiting) == 1:
            answered = await replies.answer(voice, self._desk, waiting[0].key, text)
            await dc.context.send_activity(answered.reply)
            return True
        tickets = [[ticket.key, ticket.summary[:60]] for ticket in waiting[:5]]
        await dc.begin_dialog(ANSWER_WHICH, {"tickets": tickets, "text": text})
        return True

    async def _offers_reopen(self, dc: DialogContext, voice: Voice, text: str) -> bool:
        """A problem described soon after a ticket was resolved is probably that ticket again."""
        organisation, now = self._desk.organisation, self._desk.now()
        async with self._desk.database.reading() as session:
            recent = await requester.recently_finished(
                session, person=voice.person, since=now - REOPEN_LOOKBACK
            )
        if recent is None or recent.resolved_at is None:
            return False
        if organisation.calendar.add(recent.resolved_at, organisation.timers.reopen_window) < now:
            return False
        options = {"key": recent.key, "summary": recent.summary[:100], "text": text[:4000]}
        await dc.begin_dialog(REOPEN, options)
        return True

    async def _open(self, dc: DialogContext, voice: Voice, draft: dict[str, Any]) -> None:
        if not may_open(voice, self._desk):
            await dc.context.send_activity(refusal(voice, self._desk))
            return
        await dc.cancel_all_dialogs()
        await dc.begin_dialog(OPEN_TICKET, {"draft": draft})

    async def _continue(self, dc: DialogContext, voice: Voice) -> None:
        result = await dc.continue_dialog()
        then = result.result if result.status == DialogTurnStatus.Complete else None
        if isinstance(then, dict) and then.get("then") == OPEN_TICKET:
            await self._open(dc, voice, dict(then.get("draft") or {}))

    async def _press(self, dc: DialogContext, voice: Voice) -> None:
        data = dc.context.activity.value
        assert isinstance(data, dict)
        verb = data.get("action")
        if verb == "draft":  # the summary card of a new ticket
            if dc.active_dialog is not None and dc.stack[0].id == OPEN_TICKET:
                if data.get("choice") == "cancel":
                    await dc.cancel_all_dialogs()
                    await dc.context.send_activity(voice.text("chat.cancelled.new_ticket"))
                    return
                await self._continue(dc, voice)
            else:
                await dc.context.send_activity(voice.text("chat.open.draft_closed"))
            return
        if verb == "choose":  # an answer picked on a question's card; the question checks whose
            if dc.active_dialog is not None:
                await self._continue(dc, voice)
            else:
                await dc.context.send_activity(voice.text("chat.question.closed"))
            return
        if verb == "new_ticket":
            await self._open(dc, voice, {})
            return
        if verb == "my_tickets":
            closed = data.get("closed") is True
            await dc.context.send_activity(
                await replies.my_tickets(voice, self._desk, closed=closed)
            )
            return
        answered = await replies.press(voice, self._desk, data)
        await dc.context.send_activity(answered.reply)
        card_id = dc.context.activity.reply_to_id
        if answered.card is not None and card_id:
            answered.card.id = card_id
            try:
                await dc.context.update_activity(answered.card)
            except Exception as error:  # the answer is stored; the old card only stays as it was
                log.warning("could not update the pressed card", extra={"error": repr(error)})
