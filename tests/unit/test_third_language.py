"""A third language is one words file: every card renders in it, with CLDR's dates and numbers."""

from __future__ import annotations

import copy
import json
import shutil
from importlib.resources import files
from pathlib import Path

import pytest
from jsonschema import Draft6Validator

from bot.dialogs.intents import Intent, Recogniser
from bot.notify.render import Renderer
from bot.notify.views import Reader
from tests.unit.card_samples import SAMPLES

MESSAGES = Path(__file__).resolve().parents[2] / "templates" / "messages"
# A translator's first pass: a few parts done, the rest still to come (said in English).
FRENCH = """
[common]
status = "Statut : {status}"
next_step = "Prochaine étape"
owner = "Qui"
not_set = "non défini"

[status_for_customer]
new = "Reçue"
in_progress = "En cours de traitement"

[customer.ticket_received]
title = "Nous avons bien reçu votre demande"
body = "Merci de nous avoir prévenus. Votre numéro de ticket est {key}."
answer_by = "Vous aurez de nos nouvelles d'ici le {due}."

[management.weekly.csat_value]
one = "{average} sur 4 pour {answers} réponse"
other = "{average} sur 4 pour {answers} réponses"

[intent]
greeting = ["bonjour", "salut"]
"""
FRENCH_READER = Reader(name="Camille", locale="fr-FR", time_zone="Europe/Paris")


@pytest.fixture(scope="module")
def french(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    templates = tmp_path_factory.mktemp("templates") / "messages"
    shutil.copytree(MESSAGES, templates)
    (templates / "i18n" / "fr.toml").write_text(FRENCH)
    return Renderer(templates, "en", "Europe/Berlin")


@pytest.mark.parametrize("kind", ["realistic", "hostile"])
@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_every_card_renders_in_a_language_added_as_one_file(french, template, kind):
    schema = files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text()
    audience, message = template.split("/")
    sample = SAMPLES[template][kind]
    rendered = french.render(
        audience, message, ticket=sample.ticket, reader=FRENCH_READER, extras=sample.extras
    )
    card = copy.deepcopy(rendered.card)
    del card["msteams"]
    errors = [
        error.message[:300] for error in Draft6Validator(json.loads(schema)).iter_errors(card)
    ]
    assert not errors, errors
    assert rendered.text and rendered.summary


def test_the_new_language_speaks_its_own_words_dates_and_numbers(french):
    sample = SAMPLES["customer/ticket_received"]["realistic"]
    text = french.render(
        "customer", "ticket_received", ticket=sample.ticket, reader=FRENCH_READER, extras={}
    ).text
    assert "Nous avons bien reçu votre demande" in text
    # The due time (13:00 UTC plus 48 hours) in CLDR's own French form, in the reader's zone.
    assert "Vous aurez de nos nouvelles d'ici le jeu. 26 nov. 2026 à 14:00 (Europe/Paris)." in text
    weekly = SAMPLES["management/weekly_report"]["realistic"]
    card = french.render(
        "management", "weekly_report", ticket=None, reader=FRENCH_READER, extras=weekly.extras
    ).card
    assert "3,2 sur 4 pour 8 réponses" in json.dumps(card, ensure_ascii=False)


def test_what_the_new_language_lacks_is_said_in_english_and_reported(french):
    words = french.phrases(FRENCH_READER)
    assert words.t("common.next_step") == "Prochaine étape"
    assert french.phrases(Reader(locale="en")).t("common.next_step") == "Next step"
    assert words.t("common.service_desk") == "The service desk"  # not translated yet
    missing = french.missing_phrases["fr"]
    assert "common.service_desk" in missing and "common.next_step" not in missing
    assert "de" not in french.missing_phrases


def test_the_new_languages_phrases_are_understood_in_the_chat(french):
    recogniser = Recogniser(french.languages.values())
    assert recogniser.recognise("Bonjour !").intent == Intent.GREETING
    assert recogniser.recognise("hallo").intent == Intent.GREETING
