"""Short dialogs about tickets that exist: which question a reply answers, and reopening."""

from __future__ import annotations

from botbuilder.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.choices import Choice, FindChoicesOptions, ListStyle
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions
from botbuilder.schema import CardAction

from bot.dialogs.open_ticket import OPEN_TICKET, draft_from_text
from bot.dialogs.replies import answer
from bot.dialogs.voice import Desk, voice_of
from bot.errors import EsmbotError
from bot.tickets.lifecycle import Status

REOPEN = "reopen"
ANSWER_WHICH = "answer_which"
NEW = "new"


def start_new_ticket(text: str) -> dict[str, object]:
    """A dialog's result asking the chat to open a ticket from `text` once this dialog ends."""
    return {"then": OPEN_TICKET, "draft": draft_from_text(text)}


def _choice_prompt() -> ChoicePrompt:
    prompt = ChoicePrompt("choice")
    prompt.style = ListStyle.hero_card
    prompt.recognizer_options = FindChoicesOptions(recognize_ordinals=False)
    return prompt


def _button(value: str, title: str, *synonyms: str) -> Choice:
    return Choice(
        value=value,
        action=CardAction(type="imBack", title=title[:80], value=value),
        synonyms=list(synonyms),
    )


class ReopenDialog(ComponentDialog):
    """Options: {"key", "summary", "text"}: reopen that ticket with the text, or open a new one."""

    def __init__(self, desk: Desk) -> None:
        super().__init__(REOPEN)
        self._desk = desk
        self.add_dialog(_choice_prompt())
        self.add_dialog(WaterfallDialog("reopen_steps", [self._ask, self._act]))
        self.initial_dialog_id = "reopen_steps"

    async def _ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        voice, options = voice_of(step.context), step.options
        step.values.update(options)
        yes = voice.t("chat.reopen.yes", key=options["key"])
        no = voice.t("chat.reopen.no")
        return await step.prompt(
            "choice",
            PromptOptions(
                prompt=voice.text(
                    "chat.reopen.ask", key=options["key"], summary=options["summary"]
                ),
                retry_prompt=voice.text("chat.open.choose"),
                choices=[
                    _button(REOPEN, yes, "yes", "ja", "reopen", "wieder öffnen"),
                    _button(NEW, no, "no", "nein", "new", "neu"),
                ],
            ),
        )

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
        self.add_dialog(_choice_prompt())
        self.add_dialog(WaterfallDialog("answer_which_steps", [self._ask, self._act]))
        self.initial_dialog_id = "answer_which_steps"

    async def _ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        voice, options = voice_of(step.context), step.options
        step.values.update(options)
        choices = [
            _button(key, f"{key} – {summary}", key.lower()) for key, summary in options["tickets"]
        ]
        choices.append(_button(NEW, voice.t("chat.answer.none_of_these"), "none", "keins"))
        return await step.prompt(
            "choice",
            PromptOptions(
                prompt=voice.text("chat.answer.which"),
                retry_prompt=voice.text("chat.open.choose"),
                choices=choices,
            ),
        )

    async def _act(self, step: WaterfallStepContext) -> DialogTurnResult:
        voice, text = voice_of(step.context), step.values["text"]
        if step.result.value == NEW:
            return await step.end_dialog(start_new_ticket(text))
        answered = await answer(voice, self._desk, step.result.value, text)
        await step.context.send_activity(answered.reply)
        return await step.end_dialog(step.result.value)
