"""Every message template renders a valid, safe, small Adaptive Card in English and German."""

from __future__ import annotations

import copy
import gc
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any, get_args

import pytest
from babel.dates import parse_pattern
from jsonschema import Draft6Validator

from bot.commands.problems import ALERT_VERBS, LINK_VERB
from bot.dialogs.chat import CHAT_VERBS
from bot.dialogs.ticket_form import FORM
from bot.notify.card_size import MAX_CARD_BYTES, card_size, card_size_bound
from bot.notify.filters import clean, clip, md
from bot.notify.render import Renderer
from bot.notify.template_error import TemplateError
from bot.notify.views import Reader, SlaName, TicketView
from bot.tickets.lifecycle import Status
from tests.unit.card_samples import (
    HOSTILE_READERS,
    HOSTILE_TICKET,
    HUGE,
    MARKDOWN_LINK,
    REALISTIC_TICKET,
    SAMPLES,
    SHOWN_EXTRAS,
    Sample,
    benign_twin,
)

MESSAGES = Path(__file__).resolve().parents[2] / "templates" / "messages"
TEMPLATES = sorted(
    path.relative_to(MESSAGES).as_posix().removesuffix(".json.j2")
    for path in MESSAGES.glob("*/*.json.j2")
)
READERS = {
    "en": Reader(name="Lena Learner", locale="en-US", time_zone="Europe/Berlin"),
    "de": Reader(name="Kim Keyuser", locale="de-DE", time_zone="Europe/Berlin"),
}
# The ticket form's button is answered by the message action's submit, named as the form.
VERBS = {"ack", "assign_me", FORM, LINK_VERB} | CHAT_VERBS | ALERT_VERBS
# What Teams markdown (and the card's DATE() functions) would act on; md escapes every one.
SPECIAL = set("\\`*_~[]()#<>|{}")
WORDS = {
    lang: {
        key: value
        for path in sorted((MESSAGES / "i18n").glob(f"{lang}.*toml"))
        for key, value in tomllib.loads(path.read_text()).items()
    }
    for lang in READERS
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(MESSAGES, "en", "Europe/Berlin")


@pytest.fixture(scope="module")
def validator() -> Draft6Validator:
    schema = files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text()
    return Draft6Validator(json.loads(schema))


def render(renderer: Renderer, template: str, sample: Sample, reader: Reader) -> Any:
    audience, message = template.split("/")
    return renderer.render(
        audience, message, ticket=sample.ticket, reader=reader, extras=sample.extras
    )


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in the card, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def markdown_texts(card: dict[str, Any]) -> Iterator[str]:
    """The texts Teams reads as markdown: TextBlock text, fact titles and values."""
    for node in walk(card):
        if node.get("type") == "TextBlock":
            yield node["text"]
        if node.get("type") == "FactSet":
            for fact in node["facts"]:
                yield fact["title"]
                yield fact["value"]


def unescaped(text: str) -> set[str]:
    found, chars = set(), iter(text)
    for char in chars:
        if char == "\\":
            next(chars, None)
        elif char in SPECIAL:
            found.add(char)
    return found


def shown(text: str) -> str:
    """What a CommonMark renderer shows for escaped text, with whitespace collapsed."""
    return " ".join(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).split())


def structure(node: Any) -> Any:
    """The card with every text replaced: the shape text must never change."""
    if isinstance(node, dict):
        return {key: structure(value) for key, value in node.items()}
    if isinstance(node, list):
        return [structure(item) for item in node]
    return type(node).__name__


def test_every_template_on_disk_has_samples_and_every_sample_a_template():
    assert TEMPLATES, f"no templates found under {MESSAGES}"
    missing = [name for name in TEMPLATES if name not in SAMPLES]
    assert not missing, f"add realistic and hostile samples to card_samples.py for {missing}"
    assert sorted(SAMPLES) == TEMPLATES, "samples for templates that do not exist"
    for name, samples in SAMPLES.items():
        assert set(samples) == {"realistic", "hostile"}, name


@pytest.mark.parametrize(
    "text",
    [
        "plain words",
        "Grüße, Straße: ÄÖÜ",  # escaped as \u00fc, six characters for one
        "🖨️🔥" * 50,  # outside the BMP: a surrogate pair, twelve characters for one
        "Printer ] jam }",
        'quotes " and \\ backslashes',
    ],
)
def test_the_size_bound_is_never_below_the_cards_size(text):
    # Little beside the card, and many separators in it, so that each term of the bound counts.
    envelope = {
        "summary": "s",
        "text": [],
        "body": [{"type": "TextBlock", "text": text, "wrap": True, "n": [1, 2, 3, 4, 5]}] * 20,
        "actions": [{"type": "Action.Submit", "title": text, "data": {"a": 1, "b": [1, 2]}}],
    }
    card = {"type": "AdaptiveCard", "version": "1.5", "msteams": {"width": "Full"}}
    card |= {"body": envelope["body"], "actions": envelope["actions"]}
    written = [
        json.dumps(envelope, separators=(",", ":"), ensure_ascii=False),  # no spaces to add
        json.dumps(envelope, ensure_ascii=True),
    ]
    for source in written:
        assert json.loads(source) == envelope
        assert card_size_bound(source) >= card_size(card), source[:80]


@pytest.mark.parametrize("kind", ["realistic", "hostile"])
@pytest.mark.parametrize("language", sorted(READERS))
@pytest.mark.parametrize("template", TEMPLATES)
def test_card_is_valid_small_and_safe(renderer, validator, template, language, kind):
    sample = SAMPLES[template][kind]
    reader = (HOSTILE_READERS if kind == "hostile" else READERS)[language]
    message = render(renderer, template, sample, reader)
    card = message.card

    assert "$schema" not in card
    assert (card["type"], card["version"], card["msteams"]) == (
        "AdaptiveCard",
        "1.5",
        {"width": "Full"},
    )
    without_teams_keys = copy.deepcopy(card)
    del without_teams_keys["msteams"]
    errors = [error.message[:300] for error in validator.iter_errors(without_teams_keys)]
    assert not errors, errors
    assert card_size(card) <= MAX_CARD_BYTES
    assert len(json.dumps(card, ensure_ascii=False).encode()) <= MAX_CARD_BYTES

    for text in markdown_texts(card):
        assert not unescaped(text), f"unescaped markdown {unescaped(text)} in {text[:80]!r}"
    header = card["body"][0]
    assert header["type"] == "Container"
    title = next(shown(item["text"]) for item in header["items"] if item.get("size") == "Large")
    other = "de" if language == "en" else "en"
    assert title not in {v for v in _flat(WORDS[other]).values() if isinstance(v, str)}
    if sample.ticket is not None:
        assert shown(header["items"][0]["text"]) == sample.ticket.key
    for action in walk(card.get("actions", [])):
        if action.get("type") == "Action.Submit":
            assert action["data"]["action"] in VERBS
            if sample.ticket is not None:  # a ticket's card acts on that ticket only
                assert action["data"]["ticket"] == sample.ticket.key
        if action.get("type") == "Action.OpenUrl":
            assert action["url"].startswith("https://")
        assert "style" not in action  # Teams draws no positive/destructive styles

    assert message.text and "\n" in message.text
    assert message.summary and "\n" not in message.summary and len(message.summary) <= 150
    if kind == "realistic" and sample.ticket is not None and template != "agents/delivery_failed":
        assert sample.ticket.key in message.summary


@pytest.mark.parametrize("language", sorted(READERS))
@pytest.mark.parametrize("template", TEMPLATES)
def test_hostile_text_is_shown_as_text_and_adds_no_structure(renderer, template, language):
    hostile = SAMPLES[template]["hostile"]
    reader = HOSTILE_READERS[language]
    card = render(renderer, template, hostile, reader).card
    twin_reader = replace(reader, name="words")
    twin = render(renderer, template, benign_twin(hostile), twin_reader).card

    assert structure(card) == structure(twin)
    texts = [shown(text) for text in markdown_texts(card)]
    if hostile.ticket is not None:
        expected = " ".join(clip(hostile.ticket.summary, 200).split())
        assert expected in texts, "the summary must show exactly as written"
        assert MARKDOWN_LINK in " ".join(texts)
    for key in SHOWN_EXTRAS:
        value = hostile.extras.get(key)
        if isinstance(value, str):
            beginning = " ".join(clean(value).split())[:40]
            assert any(text.startswith(beginning) for text in texts), key
    assert "49" not in " ".join(texts)  # "{{ 7*7 }}" is text, not an expression


def test_long_texts_are_cut_with_an_ellipsis(renderer):
    sample = SAMPLES["agents/new_ticket"]["hostile"]
    card = render(renderer, "agents/new_ticket", sample, READERS["en"]).card
    texts = [shown(text) for text in markdown_texts(card)]
    cut = [text for text in texts if text.endswith("…")]
    assert cut and all(len(text) <= 1500 for text in cut)
    assert not any(HUGE[:20_000] in text for text in texts)


@pytest.mark.parametrize("template", ["agents/new_ticket", "customer/ticket_status"])
def test_a_bracket_after_a_comma_in_text_stays_text(renderer, template):
    # The renderer drops the commas templates leave before a closing bracket; in text, such a
    # comma and bracket are the customer's words.
    sample = SAMPLES[template]["realistic"]
    assert sample.ticket is not None
    summary = "Printer, ] tray ,} jam,]"
    odd = replace(sample, ticket=replace(sample.ticket, summary=summary))
    message = render(renderer, template, odd, READERS["en"])
    assert any(summary in shown(text) for text in markdown_texts(message.card))  # escaped
    assert summary in message.text  # plain


def test_customer_cards_show_no_agent_only_field(renderer):
    secret = "agent-only-7f3a"
    ticket = replace(REALISTIC_TICKET, reporter_email=f"{secret}@esmos.example")
    extras_secret = {"internal_note": secret, "internal_comment": secret}
    for template in (name for name in TEMPLATES if name.startswith("customer/")):
        sample = SAMPLES[template]["realistic"]
        extras = {**sample.extras, **extras_secret}
        ticket_or_none = ticket if sample.ticket is not None else None
        message = render(renderer, template, Sample(ticket_or_none, extras), READERS["en"])
        everything = json.dumps(message.card) + message.text + message.summary
        assert secret not in everything, template


def test_agent_card_offers_chat_only_with_a_known_address_and_jira_only_with_a_link(renderer):
    def urls(ticket: TicketView) -> list[str]:
        card = render(renderer, "agents/new_ticket", Sample(ticket), READERS["en"]).card
        return [a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl"]

    assert urls(REALISTIC_TICKET) == [
        "https://teams.microsoft.com/l/chat/0/0?users=lena.learner@esmos.example",
        "https://esmos.atlassian.net/browse/SR-1",
    ]
    assert urls(HOSTILE_TICKET) == []  # a bad address and a javascript: link give no buttons


def test_the_new_ticket_card_redrawn_after_the_acknowledgement_points_to_the_resolution(renderer):
    due = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    acknowledged = replace(REALISTIC_TICKET, status=Status.ACKNOWLEDGED, resolution_due=due)

    def read(ticket: TicketView, reader: Reader) -> tuple[str, list[str]]:
        card = render(renderer, "agents/new_ticket", Sample(ticket), reader).card
        verbs = [a["data"]["action"] for a in card["actions"] if a["type"] == "Action.Submit"]
        return json.dumps(card, ensure_ascii=False), verbs

    before, verbs_before = read(replace(REALISTIC_TICKET, status=Status.NEW), READERS["en"])
    after, verbs_after = read(acknowledged, READERS["en"])
    after_de, _ = read(acknowledged, READERS["de"])

    assert "Acknowledge it by" in before and "ack" in verbs_before
    assert "Acknowledge it by" not in after and "ack" not in verbs_after
    assert "Acknowledged. Resolve it by Mon 30 Nov 2026, 17:00" in after
    assert "Angenommen. Bitte bis Mo., 30.11.2026, 17:00" in after_de


def test_dates_are_in_the_readers_zone_and_format(renderer):
    ticket = SAMPLES["customer/ticket_received"]["realistic"].ticket
    due = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    sample = Sample(replace(ticket, first_response_due=due))

    def promise(reader: Reader) -> str:
        return render(renderer, "customer/ticket_received", sample, reader).text.splitlines()[2]

    assert promise(Reader(locale="en-GB", time_zone="Europe/Berlin")) == (
        "You will hear from us by Tue 24 Nov 2026, 14:00 (Europe/Berlin)."
    )
    assert promise(Reader(locale="de-DE", time_zone="Europe/Berlin")) == (
        "Wir melden uns spätestens am Di., 24.11.2026, 14:00 (Europe/Berlin) bei Ihnen."
    )
    assert promise(Reader(locale="en-US", time_zone="America/New_York")) == (
        "You will hear from us by Tue 24 Nov 2026, 08:00 (America/New_York)."
    )
    # No zone, or one Teams made up, falls back to the organisation's.
    assert "14:00 (Europe/Berlin)" in promise(Reader(locale="en-US"))
    assert "14:00 (Europe/Berlin)" in promise(Reader(locale="en-US", time_zone="Mars/Olympus"))


@pytest.mark.parametrize(
    ("late_by", "en", "de"),
    [
        # CLDR's short units: English writes "hr" and "days" where it was "h" and "d".
        (timedelta(hours=2, minutes=15), "2 hr 15 min", "2 Std. 15 Min."),
        (timedelta(days=3, hours=4, minutes=59), "3 days 4 hr", "3 Tg. 4 Std."),
        (timedelta(days=1, minutes=5), "1 day", "1 Tg."),
        (timedelta(minutes=45), "45 min", "45 Min."),
        (timedelta(seconds=20), "less than a minute", "weniger als eine Minute"),
    ],
)
def test_durations_read_naturally(renderer, late_by, en, de):
    sample = SAMPLES["management/sla_breach"]["realistic"]
    sample = Sample(sample.ticket, {**sample.extras, "late_by": late_by})
    for language, expected in (("en", en), ("de", de)):
        card = render(renderer, "management/sla_breach", sample, READERS[language]).card
        facts = {f["title"]: f["value"] for n in walk(card) if "facts" in n for f in n["facts"]}
        assert facts[WORDS[language]["fact"]["late_by"]] == expected


def test_the_language_follows_the_teams_locale_and_falls_back_to_the_organisations():
    german_desk = Renderer(MESSAGES, "de", "Europe/Berlin")
    assert german_desk.language_for(Reader(locale="en-US")) == "en"
    assert german_desk.language_for(Reader(locale="fr-FR")) == "de"
    assert german_desk.language_for(Reader(locale=None)) == "de"
    assert german_desk.language_for(Reader(locale="DE_at")) == "de"


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_english_and_german_have_the_same_keys_and_placeholders():
    en, de = _flat(WORDS["en"]), _flat(WORDS["de"])
    assert sorted(en) == sorted(de)
    # A date is a CLDR pattern, which Babel reads; the day's has no time in it.
    for language in (en, de):
        assert "H" in parse_pattern(language["date.when"]).pattern
        assert "H" not in parse_pattern(language["date.day"]).pattern
    for key, phrase in en.items():
        if isinstance(phrase, str) and not key.startswith("date."):
            assert set(re.findall(r"\{(\w+)\}", phrase)) == set(
                re.findall(r"\{(\w+)\}", de[key])
            ), key


def test_every_key_a_template_uses_is_translated_and_headings_are_german_in_german():
    en, de = _flat(WORDS["en"]), _flat(WORDS["de"])
    used = set()
    for path in [*MESSAGES.glob("*/*.json.j2"), *MESSAGES.glob("*.inc")]:
        used |= set(re.findall(r"""\bt\(\s*"([\w.]+)"\s*[,)]""", path.read_text()))
    assert len(used) > 100
    # Keys built in templates: "status." ~ ticket.status, "sla." ~ sla_name, scores 1–4.
    used |= {f"status.{status}" for status in Status}
    used |= {f"status_for_customer.{status}" for status in Status}
    used |= {f"sla.{name}" for name in get_args(SlaName)}
    used |= {f"customer.survey.score_{score}" for score in range(1, 5)}
    assert not used - set(en), "missing in en.toml"
    assert not used - set(de), "missing in de.toml"
    headings = [key for key in en if key.endswith(("title", "next_step", "owner"))]
    assert len(headings) > 20
    same = [key for key in headings if en[key] == de[key]]
    assert not same, f"untranslated headings: {same}"


def _mini(tmp_path: Path, template: str, words: str = 'hello = "Hello"\n') -> Renderer:
    (tmp_path / "i18n").mkdir()
    (tmp_path / "i18n" / "en.toml").write_text(words)
    (tmp_path / "i18n" / "de.toml").write_text('hello = "Hallo"\nonly_german = "Nur"\n')
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "y.json.j2").write_text(template)
    return Renderer(tmp_path, "en", "UTC")


TOO_BIG = (
    '{% for i in range(3000) %}{"type": "TextBlock", "text": {{ t("hello") | json }}},{% endfor %}'
)
ENVELOPE = '{{"summary": "s", "text": ["l"], "body": [{body}], "actions": []}}'


def _render_mini(renderer: Renderer, locale: str = "en") -> Any:
    return renderer.render("x", "y", ticket=None, reader=Reader(locale=locale), extras={})


def test_a_missing_key_is_a_typed_error_naming_template_and_key(tmp_path):
    body = '{"type": "TextBlock", "text": {{ t("only_german") | md | json }}}'
    renderer = _mini(tmp_path, ENVELOPE.format(body=body))
    with pytest.raises(TemplateError) as raised:
        _render_mini(renderer)
    assert (raised.value.template, raised.value.key) == ("x/y.json.j2", "only_german")
    assert _render_mini(renderer, "de").card["body"][0]["text"] == "Nur"
    lenient = Renderer(tmp_path, "de", "UTC", strict=False)
    assert _render_mini(lenient, "en").card["body"][0]["text"] == "Nur"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('{"type": "TextBlock", "text": "{{ t("hello") | json }}"}', "valid JSON"),
        ('{"type": "TextBlock", "text": {{ t("hello") }}}', "must end in '| json'"),
        ('{"type": "TextBlock", "text": {{ t("hello") | json | md }}}', "must end in '| json'"),
        ('{"type": "TextBlock", "text": {{ t.__globals__ | json }}}', "SecurityError"),
        ('{"type": "TextBlock", "text": {{ nothing | json }}}', "UndefinedError"),
        ('{"type": "TextBlock", "text": {{ t("hello", x=1) | md | json }}}', ""),
        (TOO_BIG, "over 28672 bytes"),
    ],
)
def test_broken_templates_raise_a_typed_error_naming_the_template(tmp_path, body, problem):
    renderer = _mini(tmp_path, ENVELOPE.format(body=body))
    if not problem:
        assert _render_mini(renderer).card["body"][0]["text"] == "Hello"
        return
    with pytest.raises(TemplateError, match=re.escape(problem)) as raised:
        _render_mini(renderer)
    assert raised.value.template == "x/y.json.j2"


@dataclass
class _Mutable:
    items: list[str]


@pytest.mark.parametrize(
    ("expression", "readable"),
    [
        ("ticket.key", True),
        ("ticket.__class__", False),  # the way out of every sandbox
        ("ticket.__init__", False),
        ("extras.row.value", True),
        ("extras.row._hidden", False),
        ("extras.mutable.items", True),
        ("extras.mutable.items.append", False),  # the immutable sandbox's own refusal stays
        ("extras.row.shown()", True),
        ("extras.row.delete()", False),  # marked as changing data: never called
        ('"{0.__class__}".format(ticket)', False),
    ],
)
def test_the_sandbox_still_refuses_private_and_mutating_attributes(tmp_path, expression, readable):
    # The templates may be edited by the organisation: the sandbox is what stops a bad edit.
    body = f'{{"type": "TextBlock", "text": {{{{ {expression} | string | json }}}}}}'
    renderer = _mini(tmp_path, ENVELOPE.format(body=body))
    ticket = TicketView(
        key="SR-1", summary="s", type="incident", status=Status.NEW, priority="P3",
        created_at=datetime(2026, 12, 4, tzinfo=UTC), reporter_name="Lena",
    )  # fmt: skip
    extras = {"row": _Row("shown", "kept back"), "mutable": _Mutable(["a"])}

    def render() -> str:
        rendered = renderer.render("x", "y", ticket=ticket, reader=Reader(), extras=extras)
        return rendered.card["body"][0]["text"]

    if readable:
        assert render() in ("SR-1", "shown", "['a']")
        return
    with pytest.raises(TemplateError, match=r"SecurityError|access to attribute"):
        render()


@dataclass(frozen=True)
class _Row:
    value: str
    _hidden: str

    def shown(self) -> str:
        return self.value

    def delete(self) -> str:
        return "deleted"

    delete.alters_data = True  # type: ignore[attr-defined]


def test_shared_macros_speak_the_language_of_the_card_they_are_in(renderer):
    # The macros are built once, not per render: their words must still be the reader's.
    sample = SAMPLES["customer/ticket_status"]["realistic"]
    ticket = replace(sample.ticket, status=Status.NEW)
    texts = [
        json.dumps(
            render(renderer, "customer/ticket_status", replace(sample, ticket=ticket), r).card
        )
        for r in (READERS["en"], READERS["de"], READERS["en"])
    ]
    assert "Eingegangen" in texts[1] and "Eingegangen" not in texts[0]
    assert texts[0] == texts[2]


def test_a_render_leaves_no_cycles_for_the_garbage_collector(renderer):
    # A turn renders a card; what the render leaves is freed as it ends, not in a pause of
    # the collector. (A template that defines macros of its own, as the management reports
    # do, builds them per render; the shared ones are built once.)
    shared_only = [
        template
        for template in SAMPLES
        if "{% macro" not in (MESSAGES / f"{template}.json.j2").read_text()
    ]
    assert "customer/ticket_status" in shared_only
    for template in shared_only:
        render(renderer, template, SAMPLES[template]["realistic"], READERS["de"])  # loaded
    gc.collect()
    gc.disable()
    try:
        for template in shared_only:
            render(renderer, template, SAMPLES[template]["realistic"], READERS["de"])
        left = gc.collect()
    finally:
        gc.enable()
    assert left == 0


def test_macros_from_other_files_are_checked_too(tmp_path):
    body = '{% include "_part.inc" %}'
    renderer = _mini(tmp_path, ENVELOPE.format(body=body))
    (tmp_path / "_part.inc").write_text('{"type": "TextBlock", "text": {{ t("hello") }}}')
    with pytest.raises(TemplateError, match="must end in") as raised:
        _render_mini(renderer)
    assert raised.value.template == "_part.inc"


def test_an_unknown_deadline_name_is_an_error_not_a_blank(renderer):
    sample = SAMPLES["agents/sla_nudge"]["realistic"]
    broken = Sample(sample.ticket, {**sample.extras, "sla_name": "bogus"})
    with pytest.raises(TemplateError) as raised:
        render(renderer, "agents/sla_nudge", broken, READERS["en"])
    assert raised.value.key == "sla.bogus"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        (MARKDOWN_LINK, r"\*\*\[click\]\(javascript:alert\(1\)\)\*\*"),
        ('"}]}', r'"\}\]\}'),
        ("<at>Danielle</at>", r"\<at\>Danielle\</at\>"),
        ("1. one\n- two\n\n\n+ three", "1\\. one\n\n\\- two\n\n\\+ three"),
        ("R&D &amp; co", r"R&D \&amp; co"),
        ("a\u202eb\x00c\r\nd", "abc\n\nd"),
        ("Version 4.0.2.3 - fine", "Version 4.0.2.3 - fine"),
    ],
)
def test_md_neutralises_teams_markdown(text, escaped):
    assert md(text) == escaped
