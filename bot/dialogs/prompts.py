"""Prompts the chat needs beyond botbuilder's: cards the customer answers with a button or words."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs.choices import Choice, ChoiceRecognizers, FindChoicesOptions, FoundChoice
from botbuilder.dialogs.prompts import Prompt, PromptOptions, PromptRecognizerResult
from botbuilder.schema import Activity, ActivityTypes

from bot.dialogs.intents import normalise

REVIEW_VERB = "draft"
CHOOSE_VERB = "choose"
CONFIRM_WORDS = frozenset(
    {"confirm", "yes", "ok", "okay", "send", "send it", "submit", "looks good", "correct",
     "ja", "bestätigen", "senden", "abschicken", "passt", "stimmt", "richtig"}
)  # fmt: skip
CHANGE_WORDS = ("change", "edit", "correct", "ändern", "bearbeiten", "korrigieren")


class _CardPrompt(Prompt):
    """Sends its prompt (a card) as it is, and the retry prompt when the answer was not read."""

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, object],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        if is_retry and options.retry_prompt is not None:
            await turn_context.send_activity(options.retry_prompt)
        elif options.prompt is not None:
            await turn_context.send_activity(options.prompt)

    async def on_recognize(
        self,
        turn_context: TurnContext,
        state: dict[str, object],
        options: PromptOptions,
    ) -> PromptRecognizerResult:
        result = PromptRecognizerResult()
        activity = turn_context.activity
        if activity.type == ActivityTypes.message:
            answer = self.read(activity, options)
            if answer is not None:
                result.succeeded, result.value = True, answer
        return result

    def read(self, activity: Activity, options: PromptOptions) -> Any:
        """The answer in a message, or None when it holds none."""
        raise NotImplementedError


class CardChoicePrompt(_CardPrompt):
    """A question with a fixed set of answers, asked with a card's Input.ChoiceSet.

    Recognises a FoundChoice, as botbuilder's ChoicePrompt does: from the card's Action.Submit
    ({"action": "choose", "field": name, "asked": id, "choice": value}, only from the card of
    this asking, named in `options.validations` by the same "field" and "asked"), or from typed
    words matched against each choice's value and synonyms (its labels in every language), or
    a typed number.
    """

    def read(self, activity: Activity, options: PromptOptions) -> FoundChoice | None:
        choices: list[Choice] = options.choices or []
        asked = options.validations or {}
        value: Any = activity.value
        if isinstance(value, dict) and value.get("action") == CHOOSE_VERB:
            if not all(value.get(name) == asked.get(name) for name in ("field", "asked")):
                return None  # an answer to an older card is asked again, never misread
            picked = value.get("choice")
            for index, choice in enumerate(choices):
                if picked == choice.value:
                    return FoundChoice(value=choice.value, index=index, score=1.0)
            return None
        if not activity.text:
            return None
        # Numbers are read as the answers' numbers in every language, without number models.
        found = ChoiceRecognizers.recognize_choices(
            activity.text, choices, FindChoicesOptions(recognize_ordinals=False)
        )
        return found[0].resolution if found else None


class ReviewPrompt(_CardPrompt):
    """Shows the draft card; answered by its buttons or by "confirm" / "change impact" typed.

    Recognises {"choice": "confirm"} or {"choice": "edit", "field": name}; `options.validations`
    holds the names of the fields that can be changed, with the words that name them.
    """

    def read(self, activity: Activity, options: PromptOptions) -> dict[str, Any] | None:
        fields: dict[str, list[str]] = options.validations or {}
        value: Any = activity.value
        if isinstance(value, dict) and value.get("action") == REVIEW_VERB:
            choice, field = value.get("choice"), value.get("field")
            if choice == "confirm" or (choice == "edit" and field in fields):
                return {"choice": choice, "field": field}
            return None
        words = normalise(activity.text or "")
        if words in CONFIRM_WORDS:
            return {"choice": "confirm", "field": None}
        if words.startswith(CHANGE_WORDS):
            rest = words.split(" ", 1)[1] if " " in words else ""
            for field, names in fields.items():
                if rest and any(rest == name or rest.startswith(name) for name in names):
                    return {"choice": "edit", "field": field}
        return None
