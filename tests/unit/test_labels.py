"""The catalogue in the reader's words: labelled on every card, stored as esmbot.toml names it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.config.organisation import DEFAULT_TYPES, LOCALES, load_organisation
from bot.notify.compose import Notifier, Recipient
from bot.notify.labels import MODULE, TYPE, label, labelled
from bot.notify.render import Renderer
from bot.notify.views import Reader
from tests.unit.card_samples import REALISTIC_TICKET

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = load_organisation(ROOT / "esmbot.example.toml")
RENDERER = Renderer(ROOT / "templates" / "messages", "en", EXAMPLE.time_zone)
GERMAN = RENDERER.phrases(Reader(locale="de-DE"))


@pytest.mark.parametrize("language", LOCALES)
def test_every_entry_of_the_example_catalogue_has_a_label_in_each_language(language):
    words = RENDERER.phrases(Reader(locale=language)).words
    for kind, values in ((TYPE, DEFAULT_TYPES), (MODULE, EXAMPLE.modules)):
        for value in values:
            assert isinstance(words.get(f"catalogue.{kind}.{value}"), str), (kind, value)


def test_an_entry_without_a_label_is_shown_as_it_is_stored():
    assert label(GERMAN, TYPE, "bug") == "Fehler"
    assert label(GERMAN, MODULE, "Warehouse robots") == "Warehouse robots"


def test_a_ticket_is_labelled_for_its_reader_and_its_card_says_so():
    ticket = replace(REALISTIC_TICKET, type="bug", module="Customer accounts")

    shown = labelled(ticket, GERMAN)

    assert (shown.type, shown.module) == ("Fehler", "Kundenkonten")
    row = Notifier(RENDERER, EXAMPLE).render_row(
        template="agents/new_ticket",
        audience="agents",
        recipient=Recipient(1, Reader(locale="de-DE")),
        dedupe_key="k",
        view=ticket,
        extras={},
    )
    assert "Fehler" in str(row.activity) and "Kundenkonten" in str(row.activity)
