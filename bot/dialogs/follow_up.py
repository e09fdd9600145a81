"""Short dialogs about tickets that exist: which question a reply answers, and reopening."""

from __future__ import annotations

from botbuilder.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)

from bot.dialogs.choices import ask, titled, worded
from bot.dialogs.open_ticket import OPEN_TICKET, draft_from_text
from bot.dialogs.prompts import CardChoicePrompt
from bot.dialogs.replies import answer
from bot.dialogs.voice import Desk, voice_of
from bot.errors import EsmbotError
from bot.tickets.lifecycle import Status

REOPEN = "reopen"
ANSWER_WHICH = "answer_which"
NEW = "new"
CHOICE = "choice"


def start_new_ticket(text: str) -> dict[str, object]:
    """A dialog's result asking the chat to open a ticket from `text` once this dialog ends."""
    return {"then": OPEN_TICKET, "draft": draft_from_text(text)}


class ReopenDialog(ComponentDialog):
    """Options: {"key", "summary", "text"}: reopen that ticket with the text, or open a new one."""

    def __init__(self, desk: Desk) -> None:
        super().__init__(REOPEN)
        self._desk = desk
        self.add_dialog(CardChoicePrompt(CHOICE))
        self.add_dialog(WaterfallDialog("reopen_steps", [self._ask, self._act]))
        self.initial_dialog_id = "reopen_steps"

    async def _ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        voice, options = voice_of(step.context), step.options
        step.values.update(options)
        key = options["key"]
        choices = [
            worded(voice, REOPEN, key="chat.reopen.yes", params={"key": key},
                    words=("yes", "ja", "reopen", "wieder öffnen")),
            worded(voice, NEW, key="chat.reopen.no", words=("no", "nein", "new", "neu")),
        ]  # fmt: skip
        question = voice.t("chat.reopen.ask", key=key, summary=options["summary"])
        return await step.prompt(CHOICE, ask(voice, REOPEN, question, choices))

    async def _act(self, step: WaterfallStepContext) -> DialogTurnResult:
        voice, key, text = voice_of(step.context), step.values["key"], step.values["text"]
        if step.result.value == NEW:
            return await step.end_dialog(start_new_ticket(text))
        try:
            await self._desk.actions.move(key, Status.REOPENED, actor=voice.person, reason=text)
        except EsmbotError as error:
            await step.context.send_activity(
                voice.text("chat.answer.failed", key=key, reason=str(error))
            )
            return await step.end_dialog()
        await step.context.send_activity(voice.text("chat.feedback.reopened", key=key))
        return await step.end_dialog(key)


class AnswerWhichDialog(ComponentDialog):
    """Options: {"tickets": [[key, summary], ...], "text"}: several questions wait for an answer."""

    def __init__(self, desk: Desk) -> None:
        super().__init__(ANSWER_WHICH)
        self._desk = desk
        self.add_dialog(CardChoicePrompt(CHOICE))
        self.add_dialog(WaterfallDialog("answer_which_steps", [self._ask, self._act]))
        self.initial_dialog_id = "answer_which_steps"

    async def _ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        voice, options = voice_of(step.context), step.options
        step.values.update(options)
        choices = [
            titled(key, f"{key} – {summary}", key.lower()) for key, summary in options["tickets"]
        ]
        choices.append(worded(voice, NEW, key="chat.answer.none_of_these", words=("none", "keins")))
        question = voice.t("chat.answer.which")
        return await step.prompt(CHOICE, ask(voice, ANSWER_WHICH, question, choices))

    async def _act(self, step: WaterfallStepContext) -> DialogTurnResult:
        voice, text = voice_of(step.context), step.values["text"]
        if step.result.value == NEW:
            return await step.end_dialog(start_new_ticket(text))
        answered = await answer(voice, self._desk, step.result.value, text)
        await step.context.send_activity(answered.reply)
        return await step.end_dialog(step.result.value)
