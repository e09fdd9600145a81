"""Tests the routing table: which change reaches which audience, with which message."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.notify.routing import Intent, TicketFacts, route
from bot.tickets.events import Change

C = Change
PRIORITIES = ("P1", "P2", "P3", "P4")
ASSIGNED = TicketFacts(priority="P3", has_assignee=True)
FACTS = [TicketFacts(p, has_assignee=a) for p in PRIORITIES for a in (True, False)]


def intents(*pairs: str) -> list[Intent]:
    """`"customer customer/question"` → Intent("customer", "customer/question")."""
    return [Intent(*pair.split()) for pair in pairs]


# Written out by hand, independently of the module's table, so that a change there has to be
# made on purpose in both places. An ordinary (P3) ticket with an assignee.
EXPECTED: dict[Change, list[Intent]] = {
    C.CREATED: intents("customer customer/ticket_received", "agents agents/new_ticket"),
    C.ACKNOWLEDGED: intents(
        "customer customer/being_worked_on", "customer customer/being_worked_on_news"
    ),
    C.WAITING_FOR_CUSTOMER: intents("customer customer/question"),
    C.VENDOR_NEEDED: [],
    C.CUSTOMER_REPLIED: intents("assignee agents/customer_replied"),
    C.ESCALATED_TO_VENDOR: intents(
        "vendor vendor/escalation",
        "customer customer/vendor_involved",
        "customer customer/vendor_involved_news",
    ),
    C.PUBLIC_COMMENT: intents("customer customer/agent_reply"),
    C.INTERNAL_COMMENT: intents("agents agents/internal_note"),
    C.VENDOR_ANSWERED: intents("assignee agents/vendor_update"),
    C.RESOLVED: intents("customer customer/resolved"),
    C.REOPENED: intents("assignee agents/reopened", "agents agents/reopened"),
    C.STATUS_CHANGED: intents("customer customer/status_changed"),
    C.CANCELLED: intents("customer customer/status_changed"),
    C.CLOSED: [],
    C.ASSIGNED: intents("assignee agents/new_ticket"),
    C.PRIORITY_RAISED_TO_P1: intents("management management/major_incident"),
    C.PRIORITY_CHANGED: [],
    C.FIELDS_UPDATED: [],
    C.DELETED: [],
}

MAJOR_INCIDENT = Intent("management", "management/major_incident")


def test_every_change_is_in_the_expected_table():
    assert set(EXPECTED) == set(Change)


@pytest.mark.parametrize("change", list(Change), ids=str)
def test_each_change_reaches_the_expected_audiences(change):
    assert route([change], ASSIGNED) == EXPECTED[change]


@pytest.mark.parametrize("priority", ["P2", "P3", "P4"])
@pytest.mark.parametrize("change", list(Change), ids=str)
def test_the_priority_changes_nothing_below_p1(change, priority):
    assert route([change], TicketFacts(priority, has_assignee=True)) == EXPECTED[change]


def test_a_p1_ticket_tells_management_from_its_first_minute():
    p1 = TicketFacts("P1", has_assignee=True)

    assert route([C.CREATED], p1) == [*EXPECTED[C.CREATED], MAJOR_INCIDENT]


def test_a_p1_escalation_to_the_vendor_tells_management():
    p1 = TicketFacts("P1", has_assignee=True)

    assert route([C.ESCALATED_TO_VENDOR], p1) == [*EXPECTED[C.ESCALATED_TO_VENDOR], MAJOR_INCIDENT]


@pytest.mark.parametrize(
    "change", [c for c in Change if c not in (C.CREATED, C.ESCALATED_TO_VENDOR)], ids=str
)
def test_p1_adds_nothing_to_other_changes(change):
    assert route([change], TicketFacts("P1", has_assignee=True)) == EXPECTED[change]


def test_management_hears_of_a_major_incident_once():
    p1 = TicketFacts("P1", has_assignee=True)

    routed = route([C.CREATED, C.PRIORITY_RAISED_TO_P1, C.ESCALATED_TO_VENDOR], p1)

    assert routed.count(MAJOR_INCIDENT) == 1
    assert routed == intents(
        "customer customer/ticket_received",
        "agents agents/new_ticket",
        "management management/major_incident",
        "vendor vendor/escalation",
        "customer customer/vendor_involved",
        "customer customer/vendor_involved_news",
    )


def test_without_an_assignee_the_owners_messages_go_to_the_desk():
    nobody = TicketFacts("P3", has_assignee=False)

    assert route([C.CUSTOMER_REPLIED], nobody) == intents("agents agents/customer_replied")
    assert route([C.ASSIGNED], nobody) == intents("agents agents/new_ticket")
    # The assignee's copy and the desk's copy become one message to the desk.
    assert route([C.REOPENED], nobody) == intents("agents agents/reopened")
    assert route([C.CREATED, C.ASSIGNED], nobody) == EXPECTED[C.CREATED]


@pytest.mark.parametrize("change", list(Change), ids=str)
def test_without_an_assignee_nothing_is_addressed_to_one(change):
    routed = route([change], TicketFacts("P3", has_assignee=False))

    assert all(intent.audience != "assignee" for intent in routed)
    assert {i.template for i in routed} == {i.template for i in EXPECTED[change]}


def test_nothing_changed_tells_nobody():
    assert route([], ASSIGNED) == []


def test_a_change_seen_twice_is_one_message():
    assert route([C.PUBLIC_COMMENT, C.PUBLIC_COMMENT], ASSIGNED) == EXPECTED[C.PUBLIC_COMMENT]
    assert route([C.STATUS_CHANGED, C.CANCELLED], ASSIGNED) == intents(
        "customer customer/status_changed"
    )


# Each audience reads only the messages written for it: a customer never gets an agents' card.
FOLDERS = {
    "customer": "customer",
    "assignee": "agents",
    "agents": "agents",
    "vendor": "vendor",
    "management": "management",
}


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(list(Change)), max_size=8), st.sampled_from(FACTS))
def test_any_sequence_routes_each_message_once_in_order_to_its_own_folder(changes, facts):
    routed = route(changes, facts)

    assert len(routed) == len(set(routed))
    for intent in routed:
        assert intent.template.split("/")[0] == FOLDERS[intent.audience]
    # Nothing invented: every message is one that some change alone would have sent.
    alone = {intent for change in changes for intent in route([change], facts)}
    assert set(routed) == alone
    # Stable: the first change's messages come first.
    assert routed[: len(route(changes[:1], facts))] == route(changes[:1], facts)


def _combinations() -> list[tuple[Change, ...]]:
    others = [change for change in Change if change != C.INTERNAL_COMMENT]
    return [
        combination for size in range(4) for combination in itertools.combinations(others, size)
    ]


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f"{f.priority}-{f.has_assignee}")
def test_an_internal_comment_never_routes_to_the_customer(facts):
    assert all(i.audience != "customer" for i in route([C.INTERNAL_COMMENT], facts))
    for others in _combinations():
        without = route(others, facts)
        for changes in ([C.INTERNAL_COMMENT, *others], [*others, C.INTERNAL_COMMENT]):
            routed = route(changes, facts)
            customer = [intent for intent in routed if intent.audience == "customer"]
            # Whatever else happened, the customer hears of that and of nothing more.
            assert customer == [intent for intent in without if intent.audience == "customer"]
            assert Intent("agents", "agents/internal_note") in routed


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list(Change)), max_size=12), st.sampled_from(FACTS))
def test_an_internal_comment_adds_nothing_for_the_customer_in_any_sequence(changes, facts):
    with_note = route([*changes, C.INTERNAL_COMMENT], facts)
    others = [change for change in changes if change != C.INTERNAL_COMMENT]

    assert [i for i in with_note if i.audience == "customer"] == [
        i for i in route(others, facts) if i.audience == "customer"
    ]


PROBLEM = TicketFacts("P2", has_assignee=True, problem=True)


def test_a_problem_tells_the_affected_its_news_and_its_solution_and_its_reporter_nothing():
    assert route([C.CREATED], PROBLEM) == intents("agents agents/new_ticket")
    assert route([C.PUBLIC_COMMENT], PROBLEM) == intents("affected customer/problem_update")
    assert route([C.RESOLVED], PROBLEM) == intents("affected customer/problem_resolved")


@given(st.lists(st.sampled_from(list(C)), max_size=6))
def test_no_change_of_a_problem_reaches_its_reporter_as_a_customer(changes):
    assert all(intent.audience != "customer" for intent in route(changes, PROBLEM))
