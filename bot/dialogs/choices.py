"""Questions with fixed answers: each answer in the customer's words, asked on one choice card."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import PromptOptions

from bot.config.organisation import LOCALES
from bot.dialogs.voice import Voice
from bot.notify.labels import label
from bot.notify.views import Reader


def worded(
    voice: Voice,
    value: str,
    *,
    kind: str | None = None,
    key: str | None = None,
    params: Mapping[str, object] | None = None,
    words: tuple[str, ...] = (),
) -> Choice:
    """One answer: its stored value, shown in the customer's words (the catalogue's label of a
    `kind`, or the phrase `key` filled with `params`), and read from what they type in any
    language."""
    readers = [voice.renderer.phrases(Reader(locale=language)) for language in LOCALES]
    if kind is not None:
        shown = voice.label(kind, value)
        names = [label(phrases, kind, value) for phrases in readers]
    else:
        filled = dict(params or {})
        shown = voice.t(key or "", **filled)
        names = [phrases.t(key or "", **filled) for phrases in readers]
    return titled(value, shown, *names, *words)


def titled(value: str, title: str, *words: str) -> Choice:
    """An answer shown as `title` and also read from `words`."""
    # The first synonym is the title the card shows.
    return Choice(value=value, synonyms=list(dict.fromkeys([title, *words])))


def ask(voice: Voice, field: str, question: str, choices: list[Choice]) -> PromptOptions:
    """The question `field` as a card (customer/choose) for CardChoicePrompt.

    Each asking gets a name of its own, sent back with the card's answer: a press on a card
    from an earlier question, even the same question asked before, is not taken for this one.
    """
    asked = secrets.token_urlsafe(8)
    answers = [[choice.value, choice.synonyms[0]] for choice in choices]
    card = voice.card(
        "choose",
        extras={"question": question, "field": field, "asked": asked, "choices": answers},
    )
    return PromptOptions(
        prompt=card,
        retry_prompt=voice.text("chat.open.choose"),
        choices=choices,
        validations={"field": field, "asked": asked},
    )
