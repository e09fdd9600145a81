"""The chat's words: every phrase the dialogs use exists in English and German, and reads right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.dialogs.intents import Intent, Recogniser
from bot.notify.render import Renderer
from bot.notify.views import Reader
from bot.notify.words import load_words

ROOT = Path(__file__).resolve().parents[2]
WORDS = load_words(ROOT / "templates" / "messages" / "i18n")
DIALOGS = sorted((ROOT / "bot" / "dialogs").glob("*.py"))
# Keys the code builds: the dialog names, the reasons a date is refused, the priorities.
BUILT = {
    "chat.cancelled.": ("new_ticket", "reopen", "answer"),
    "chat.expired.": ("new_ticket", "reopen", "answer"),
    "chat.open.first_seen_": ("unreadable", "future", "too_old"),
    "chat.open.priority_": ("P1", "P2", "P3", "P4", "not_sure"),
    "chat.field.": ("summary", "type", "module", "impact", "steps", "first_seen", "priority"),
}


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in DIALOGS:
        source = path.read_text()
        keys |= set(re.findall(r'"(chat\.[a-z_.]+[a-z_])"', source))
        for prefix in re.findall(r'f"(chat\.[a-z_.]+)\{', source):
            assert prefix in BUILT, f"{path.name} builds keys from {prefix!r}: list them in BUILT"
            keys |= {prefix + part for part in BUILT[prefix]}
    return keys


def test_every_phrase_the_chat_uses_exists_in_both_languages() -> None:
    used = used_keys()
    assert len(used) > 60
    for language in ("en", "de"):
        missing = sorted(key for key in used if key not in WORDS[language])
        assert not missing, f"missing in {language}: {missing}"


def test_both_languages_have_the_same_chat_phrases_and_placeholders() -> None:
    en = {k: v for k, v in WORDS["en"].items() if k.startswith("chat.")}
    de = {k: v for k, v in WORDS["de"].items() if k.startswith("chat.")}
    assert sorted(en) == sorted(de)
    for key, phrase in en.items():
        assert set(re.findall(r"\{(\w+)\}", str(phrase))) == set(
            re.findall(r"\{(\w+)\}", str(de[key]))
        ), key
    # A phrase of placeholders only ("{key}: {status}") is the same in every language.
    worded = [key for key in en if re.search(r"[a-z]{3}", re.sub(r"\{\w+\}", "", str(en[key])))]
    same = [key for key in worded if en[key] == de[key]]
    assert not same, f"untranslated: {same}"


@pytest.mark.parametrize(
    ("text", "intent", "key"),
    [
        ("new ticket", Intent.NEW_TICKET, None),
        ("Neues Ticket!", Intent.NEW_TICKET, None),
        ("I have a problem", Intent.NEW_TICKET, None),
        ("my tickets", Intent.MY_TICKETS, None),
        ("Meine Tickets", Intent.MY_TICKETS, None),
        ("show closed", Intent.CLOSED_TICKETS, None),
        ("status SR-1", Intent.STATUS, "SR-1"),
        ("SR-12?", Intent.STATUS, "SR-12"),
        ("status of sr-7", Intent.STATUS, "SR-7"),
        ("Stand OPS-4", Intent.STATUS, "OPS-4"),
        ("cancel", Intent.CANCEL, None),
        ("Abbrechen", Intent.CANCEL, None),
        ("help", Intent.HELP, None),
        ("Hilfe?", Intent.HELP, None),
        ("hallo", Intent.GREETING, None),
        ("danke", Intent.THANKS, None),
        ("checkout fails with an error", Intent.PROBLEM, None),
        ("Die Kasse zeigt einen Fehler", Intent.PROBLEM, None),
        ("SR-1 is broken again", Intent.PROBLEM, None),
        ("Stripe", Intent.UNCLEAR, None),
        ("🔥🔥🔥", Intent.UNCLEAR, None),
        ("", Intent.UNCLEAR, None),
        ("1 2 3 4 5", Intent.UNCLEAR, None),
    ],
)
def test_what_a_message_asks_for(text: str, intent: Intent, key: str | None) -> None:
    heard = Recogniser(WORDS.values()).recognise(text)
    assert (heard.intent, heard.key) == (intent, key)


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize(
    "button", ["chat.welcome.new_ticket", "chat.welcome.my_tickets", "chat.list.show_closed"]
)
def test_a_button_says_what_the_help_tells_the_customer_to_type(language: str, button: str):
    words = WORDS[language]
    title = str(words[button])

    assert title.lower() in str(words["chat.help"]).lower()
    assert Recogniser(WORDS.values()).recognise(title).intent not in (
        Intent.UNCLEAR,
        Intent.PROBLEM,
    )  # typed, it works


@pytest.mark.parametrize(
    ("locale", "count", "said"),
    [
        ("en", 1, "You have 1 ticket"),
        ("en", 2, "You have 2 tickets"),
        ("en", 1200, "You have 1,200 tickets"),
        ("de", 1, "Sie haben 1 Ticket"),
        ("de", 1200, "Sie haben 1.200 Tickets"),
    ],
)
def test_the_ticket_list_counts_in_the_languages_plural(locale: str, count: int, said: str):
    renderer = Renderer(ROOT / "templates" / "messages", "en", "Europe/Berlin")
    extras = {"tickets": [], "total": count, "closed": False}

    rendered = renderer.render(
        "customer", "my_tickets", ticket=None, reader=Reader(locale=locale), extras=extras
    )

    assert rendered.summary == said
