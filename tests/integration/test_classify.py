"""The dispatcher classifies: /type and /module, and service levels that follow the request type."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.config import Organisation
from bot.config.organisation import SlaTargets
from bot.tickets.durations import parse_duration
from tests.conftest import ALEX, LEARNER
from tests.integration.desk import (
    T0,
    desk_fixture,  # noqa: F401 - the fixture
)


@pytest.fixture
def organisation(organisation: Organisation) -> Organisation:
    """The example organisation, where a P3 incident must be resolved within 8 hours."""
    default = organisation.sla["default"]
    incident = SlaTargets(
        first_response=default.first_response,
        resolution=parse_duration("8h"),
        vendor_escalation=default.vendor_escalation,
    )
    return dataclasses.replace(organisation, sla={**organisation.sla, "P3.incident": incident})


async def test_the_type_sets_the_service_levels_and_the_module_is_from_the_catalogue(desk):
    key = await desk.open("Checkout fails", type="service request", priority="P3")
    # A P3 service request: 5 working days from Monday 09:00 Berlin, Monday 30th 09:00.
    assert await desk.ticket(key, "resolution_due") == T0 + timedelta(days=7)

    typed = await desk.say(ALEX, f"/type {key} Incident", channel="agents")
    assert (
        typed
        == f"{key} is of the type incident now; its deadlines follow that type's service levels."
    )
    assert await desk.ticket(key, "type") == "incident"
    assert await desk.ticket(key, "resolution_due") == T0 + timedelta(hours=8)
    again = await desk.say(ALEX, f"/type {key} incident", channel="agents")
    assert again == f"{key} is of the type incident already."

    moved = await desk.say(ALEX, f"/module {key} payment", channel="agents")
    assert moved == f"{key} is about Payment now."
    assert await desk.ticket(key, "module") == "Payment"


@pytest.mark.parametrize(
    ("words", "answer"),
    [
        ("/type SR-1 incidnet", "incidnet is not a request type here: use incident, bug, "),
        ("/module SR-1 Kasse", "Kasse is not a module here: use Checkout, Payment, "),
    ],
)
async def test_a_type_or_module_outside_the_catalogue_is_refused_naming_the_choices(
    desk, words, answer
):
    key = await desk.open("Checkout fails", type="service request")
    before = await desk.ticket(key, "type"), await desk.ticket(key, "module")

    said = await desk.say(ALEX, words, channel="agents")

    assert said.startswith(answer), said
    assert (await desk.ticket(key, "type"), await desk.ticket(key, "module")) == before


async def test_a_customer_cannot_classify(desk):
    key = await desk.open("Checkout fails")

    said = await desk.say(LEARNER, f"/type {key} incident")

    assert said.startswith("Sorry, that is for the service desk")
