"""A message rendered from its stored draft says exactly what it would have said at once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.config import load_organisation
from bot.notify.compose import Notifier, Recipient
from bot.notify.drafts import Draft
from bot.notify.models import OutboxMessage
from bot.notify.render import Renderer
from bot.notify.routing import _TABLE
from bot.notify.template_error import TemplateError
from bot.notify.views import Reader
from bot.tickets.lifecycle import Status
from tests.unit.card_samples import HOSTILE_READERS, REALISTIC_TICKET, SAMPLES

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "templates" / "messages"
# Every template a message is drafted for: the routing table's, the SLA sweep's, the survey's
# and the low-CSAT alert's (the others are rendered when they are written).
DRAFTED = sorted(
    {intent.template for intents in _TABLE.values() for intent in intents}
    | {"agents/sla_nudge", "management/sla_breach", "customer/survey", "management/low_csat"}
    | {"vendor/reminder", "agents/vendor_overdue", "agents/csat_result"}
    | {"customer/service_restored"}
)
READERS = {
    "en": Reader(name="Lena Learner", locale="en-US", time_zone="America/New_York"),
    "de": Reader(name="Kim Keyuser", locale="de-DE", time_zone="Europe/Berlin"),
    **{f"hostile-{language}": reader for language, reader in HOSTILE_READERS.items()},
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(MESSAGES, "en", "Europe/Berlin")


def kept(draft: Draft) -> Draft:
    """The draft as an outbox row holds it: through JSON text and back."""
    return Draft.from_json(json.loads(json.dumps(draft.to_json())))


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("kind", ["realistic", "hostile"])
@pytest.mark.parametrize("template", DRAFTED)
def test_a_kept_draft_renders_the_same_message(renderer, template, kind, reader):
    sample = SAMPLES[template][kind]
    draft = Draft(template, sample.ticket, READERS[reader], sample.extras)
    folder, message = template.split("/")

    at_once = renderer.render(
        folder, message, ticket=sample.ticket, reader=draft.reader, extras=sample.extras
    )
    later = kept(draft)
    rendered = renderer.render(
        folder, message, ticket=later.view, reader=later.reader, extras=later.extras
    )

    assert rendered == at_once
    assert later == draft


def test_times_durations_and_statuses_come_back_as_themselves():
    berlin = timezone(timedelta(hours=1))
    extras = {
        "due": datetime(2026, 11, 24, 9, 30, tzinfo=berlin),
        "late_by": timedelta(hours=26, minutes=5, seconds=1.5),
        "previous_status": Status.WAITING_FOR_CUSTOMER,
        "tickets": [{"key": "SR-2", "at": datetime(2026, 3, 29, 1, 30, tzinfo=berlin)}],
        "reminder": True,
        "score": 2,
        "percent": 62.5,
        "author": None,
        "comment": "it says {'$status': 'new'}",
    }
    view = replace(REALISTIC_TICKET, created_at=datetime(2026, 11, 23, 9, 0, tzinfo=berlin))
    draft = kept(Draft("agents/sla_nudge", view, READERS["de"], extras))

    assert draft.extras == extras
    assert type(draft.extras["previous_status"]) is Status
    assert isinstance(draft.extras["late_by"], timedelta)
    assert draft.view == view and draft.view.status is view.status
    # The same moment, written in UTC whichever zone it came in.
    assert draft.to_json()["view"]["created_at"] == "2026-11-23T08:00:00+00:00"


@pytest.mark.parametrize(
    "extra",
    [
        datetime(2026, 11, 24, 9, 30),  # no zone: which moment it is would be a guess
        object(),
        {"$seconds": 5},  # would come back as a timedelta
        ["fine", {1, 2}],
    ],
    ids=["naive datetime", "object", "a tag as a key", "a set in a list"],
)
def test_a_value_a_draft_cannot_carry_is_refused_when_it_is_written(extra):
    with pytest.raises(TypeError):
        Draft("customer/resolved", REALISTIC_TICKET, READERS["en"], {"note": extra}).to_json()


UNREADABLE = {
    "empty": {},
    "a view without its fields": {
        "template": "customer/resolved", "view": {"key": "SR-1"}, "reader": [None] * 3, "extras": {},
    },
    "a short reader": {"template": "customer/resolved", "view": None, "reader": [None], "extras": {}},
    "extras as a list": {"template": "customer/resolved", "view": None, "reader": [None] * 3, "extras": []},
    "a template without a folder": {"template": "resolved", "view": None, "reader": [None] * 3, "extras": {}},
}  # fmt: skip


@pytest.mark.parametrize("broken", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_unreadable_draft_is_a_template_error_naming_the_message(renderer, broken):
    notifier = Notifier(renderer, load_organisation(ROOT / "esmbot.example.toml"))
    row = OutboxMessage(template="customer/resolved", activity=None, draft=broken)

    with pytest.raises(TemplateError, match=r"^customer/resolved: unreadable draft"):
        notifier.activity_of(row)


def test_a_drafted_row_sends_what_a_row_rendered_at_once_holds(renderer):
    notifier = Notifier(renderer, load_organisation(ROOT / "esmbot.example.toml"))
    sample = SAMPLES["customer/resolved"]["realistic"]
    at_once = notifier.render_row(
        template="customer/resolved",
        audience="customer",
        recipient=Recipient(7, READERS["en"]),
        dedupe_key="k",
        view=sample.ticket,
        extras=sample.extras,
    )
    draft = Draft("customer/resolved", sample.ticket, READERS["en"], sample.extras)
    row = OutboxMessage(template="customer/resolved", activity=None, draft=draft.to_json())

    assert notifier.activity_of(row) == at_once.activity
    assert notifier.activity_of(at_once) is at_once.activity
