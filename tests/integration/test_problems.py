"""/problem over /api/messages: problems declared from incidents, linked, shown, updated and
solved, with one word to each person affected, through the outbox; with Jira too."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.demo.activities import installation_update, personal_conversation_id
from bot.tickets.system import Draft
from tests import jira_payloads as jp
from tests.conftest import ALEX, KIM, LEARNER
from tests.doubles.jira import JiraDouble
from tests.integration.desk import (
    AGENTS,
    LENA_CHAT,
    Desk,
    build_desk,
    desk_fixture,  # noqa: F401 - the fixture
    fallback,
)

KIM_CHAT = personal_conversation_id(KIM)


async def _kims_ticket(desk: Desk, summary: str = "Bezahlen geht nicht") -> str:
    applied = await desk.actions.open(
        Draft(summary=summary, module="Checkout"), reporter=await desk.person(KIM)
    )
    return applied.ticket_key


async def _affected_desk(desk: Desk) -> tuple[str, str, str]:
    """Lena has two checkout tickets, Kim (German) one; all delivered before the problem."""
    await desk.post(installation_update(KIM, desk.connector.url))
    first = await desk.open("Checkout fails with an error", module="Checkout")
    second = await desk.open("Cannot pay, error at the last step", module="Checkout")
    kims = await _kims_ticket(desk)
    await desk.quiet()
    return first, second, kims


def _messages(desk: Desk, conversation: str, template_word: str) -> list[str]:
    return [fallback(card) for card in desk.cards(conversation) if template_word in fallback(card)]


async def test_a_problem_is_declared_shown_updated_and_solved_telling_each_person_once(desk):
    first, second, kims = await _affected_desk(desk)
    lena_before, kim_before = len(desk.cards(LENA_CHAT)), len(desk.cards(KIM_CHAT))

    answer = await desk.say(
        ALEX, f"/problem new Checkout fails for everyone {first} {kims}", channel="agents"
    )

    assert answer == (
        "PRB-1 declared with 2 linked tickets. Everyone affected hears from us when it is solved."
    )
    assert await desk.ticket("PRB-1", "type") == "problem"
    assert await desk.ticket("PRB-1", "module") == "Checkout"
    assert await desk.say(ALEX, f"/problem link {second} PRB-1", channel="agents") == (
        f"{second} is linked to PRB-1 now; its requester hears from us when the problem is solved."
    )
    assert await desk.say(ALEX, f"/problem link {second} PRB-1", channel="agents") == (
        f"{second} was linked to PRB-1 already."
    )
    shown = await desk.say(ALEX, "/problem show PRB-1", channel="agents")
    assert shown.split("\n\n") == [
        "Problem PRB-1: Checkout fails for everyone (New)",
        f"- {first}: Checkout fails with an error (New)",
        f"- {second}: Cannot pay, error at the last step (New)",
        f"- {kims}: Bezahlen geht nicht (New)",
        "2 people affected: Kim Keyuser and Lena Learner",
    ]

    assert (
        await desk.say(ALEX, "/problem update PRB-1 The fix is being rolled out", channel="agents")
        == "Update posted on PRB-1; the 2 people affected hear it."
    )
    assert await desk.say(ALEX, "/resolve PRB-1 Restarted the payment gateway", channel="agents")
    await desk.quiet()

    lena_new = [fallback(card) for card in desk.cards(LENA_CHAT)[lena_before:]]
    kim_new = [fallback(card) for card in desk.cards(KIM_CHAT)[kim_before:]]
    # One update and one solution each, although Lena has two tickets linked.
    assert len(lena_new) == 2, lena_new
    assert "News on a problem that affects you" in lena_new[0]
    assert "The fix is being rolled out" in lena_new[0]
    assert "The problem that affected you is solved" in lena_new[1]
    assert len(kim_new) == 2, kim_new
    assert "Neuigkeiten zu einem Problem" in kim_new[0]
    assert "Das Problem, das Sie betroffen hat, ist gelöst" in kim_new[1]
    # Nobody sees another customer's ticket, name or words.
    for text in lena_new:
        assert kims not in text and "Kim" not in text and "Bezahlen" not in text
    for text in kim_new:
        assert first not in text and second not in text and "Lena" not in text
    # The problem's own reporter is the desk: Alex's chat gets no customer card for it.
    assert not desk.cards(personal_conversation_id(ALEX))
    # The desk hears of the new problem in its channel.
    assert any("PRB-1" in fallback(card) for card in desk.cards(AGENTS))
    # The linked tickets stay as they were: their own resolution is the desk's to give.
    assert await desk.ticket(first, "status") == "new"
    # A problem has no deadlines, nudges or survey: no customer waits on it.
    planned = "SELECT count(*) FROM due_actions d JOIN tickets t ON t.id = d.ticket_id"
    assert await desk.scalar(planned + " WHERE t.key = 'PRB-1'") == 0


async def test_a_second_resolution_or_a_replayed_event_tells_nobody_again(desk):
    first, _, kims = await _affected_desk(desk)
    await desk.say(ALEX, f"/problem new Checkout down {first} {kims}", channel="agents")
    await desk.say(ALEX, "/resolve PRB-1 Fixed", channel="agents")
    await desk.quiet()
    told = await desk.scalar(
        "SELECT count(*) FROM outbox WHERE template = 'customer/problem_resolved'"
    )

    again = await desk.say(ALEX, "/resolve PRB-1 Fixed again", channel="agents")
    await desk.say(ALEX, "/reopen PRB-1 It is back", channel="agents")
    await desk.quiet()

    assert again == "PRB-1 was already resolved; nothing was sent."
    assert told == 2
    assert (
        await desk.scalar(
            "SELECT count(*) FROM outbox WHERE template = 'customer/problem_resolved'"
        )
        == told
    )
    assert len(_messages(desk, LENA_CHAT, "is solved")) == 1


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("/problem new SR-1", "Give the problem a title, then the tickets it causes"),
        ("/problem new Outage SR-99", "I can't find a ticket SR-99."),
        ("/problem link SR-1", "Name the ticket, then the problem"),
        ("/problem link SR-2 SR-1", "SR-1 is not a problem. Declare one with /problem new."),
        ("/problem show SR-1", "SR-1 is not a problem."),
        ("/problem update PRB-1", "Write the update after the key"),
        ("/problem new Again PRB-1", "PRB-1 is a problem itself and cannot be linked"),
        ("/problem new Twice SR-1", "SR-1 is linked to PRB-1 already."),
        ("/problem frobnicate", "invalid choice: 'frobnicate'"),
    ],
)
async def test_what_cannot_be_done_is_said_and_changes_nothing(desk, words, says):
    await desk.open()
    await desk.open("Second")
    await desk.say(ALEX, "/problem new Checkout down SR-1", channel="agents")
    links = await desk.scalar("SELECT count(*) FROM problem_links")
    tickets = await desk.scalar("SELECT count(*) FROM tickets")

    answer = await desk.say(ALEX, words, channel="agents")

    assert says in answer
    assert await desk.scalar("SELECT count(*) FROM problem_links") == links
    assert await desk.scalar("SELECT count(*) FROM tickets") == tickets


async def test_a_solved_problem_takes_no_more_links_and_a_customer_may_not_declare_one(desk):
    await desk.open()
    await desk.open("Second")
    await desk.say(ALEX, "/problem new Checkout down SR-1", channel="agents")
    await desk.say(ALEX, "/resolve PRB-1 Fixed", channel="agents")

    closed = await desk.say(ALEX, "/problem link SR-2 PRB-1", channel="agents")
    customer = await desk.say(LEARNER, "/problem new Mine SR-2")

    assert closed == "PRB-1 is solved or closed already; link the ticket to an open problem."
    assert customer.startswith("Sorry, that is for the service desk")
    assert await desk.scalar("SELECT count(*) FROM problem_links") == 1


@pytest.fixture
async def jira() -> AsyncIterator[JiraDouble]:
    double = JiraDouble()
    await double.start()
    yield double
    await double.close()


@pytest.fixture
async def jira_desk(jira, connector, database, aiohttp_client, settings, organisation) -> Desk:
    connected = dataclasses.replace(
        settings,
        jira_base_url=jira.url,
        jira_user_email=jira.email,
        jira_api_token=jira.api_token,
        jira_project_key="SR",
    )
    return await build_desk(connector, database, aiohttp_client, connected, organisation)


async def test_with_jira_the_problem_is_an_issue_with_links_and_jira_solving_it_tells_once(
    jira_desk, jira
):
    desk = jira_desk
    first, _, kims = await _affected_desk(desk)
    for key in (first, _, kims):  # the same issues in Jira as in esmbot's table
        assert jira.add_issue(key) == key

    answer = await desk.say(
        ALEX, f"/problem new Checkout fails for everyone {first} {kims}", channel="agents"
    )

    assert answer.startswith("SR-4 declared with 2 linked tickets.")
    assert jira.issues["SR-4"]["issuetype"] == "Problem"
    assert jira.links == [
        ("Problem/Incident", "SR-4", first),
        ("Problem/Incident", "SR-4", kims),
    ]
    assert await desk.ticket("SR-4", "source") == "jira"
    lena_before, kim_before = len(desk.cards(LENA_CHAT)), len(desk.cards(KIM_CHAT))

    solved = jp.moved(
        jp.issue("SR-4", issue_type="Problem", summary="Checkout fails for everyone"),
        "To Do",
        "Resolved",
        at=desk.clock.now + timedelta(minutes=30),
    )
    for _ in range(2):  # Jira delivers it twice
        response = await desk.client.post("/api/events/jira", json=solved)
        assert response.status == 200, await response.text()
    await desk.quiet()

    assert await desk.ticket("SR-4", "status") == "resolved"
    lena_new = [fallback(card) for card in desk.cards(LENA_CHAT)[lena_before:]]
    kim_new = [fallback(card) for card in desk.cards(KIM_CHAT)[kim_before:]]
    assert len(lena_new) == 1 and "The problem that affected you is solved" in lena_new[0]
    assert len(kim_new) == 1 and "ist gelöst" in kim_new[0]


async def test_a_new_ticket_like_an_open_problem_is_suggested_on_its_card_with_a_link(desk):
    from bot.problems.known import problem_suggestion

    desk.actions.notifier.suggest = problem_suggestion(0.5)  # as bot/app.py wires it
    await desk.open("Checkout fails with an error", module="Checkout")
    await desk.say(ALEX, "/problem new The checkout fails for everyone SR-1", channel="agents")
    await desk.quiet()
    before = len(desk.cards(AGENTS))

    key = await desk.open("Cannot pay, error at the last step")
    unrelated = await desk.open("The printer is out of toner")
    await desk.quiet()
    card = next(c for c in desk.cards(AGENTS)[before:] if fallback(c).startswith(f"{key}:"))
    other = next(c for c in desk.cards(AGENTS)[before:] if fallback(c).startswith(f"{unrelated}:"))

    assert "Looks like the open problem PRB-1" in str(card)
    [link] = [a for a in card["actions"] if a.get("data", {}).get("action") == "link_problem"]
    assert link["title"] == "Link to PRB-1"
    assert "link_problem" not in str(other)
    answer = await desk.press(ALEX, link["data"], card="card-9")
    assert answer == (
        f"{key} is linked to PRB-1 now; its requester hears from us when the problem is solved."
    )
    assert await desk.scalar("SELECT count(*) FROM problem_links") == 2
    assert (await desk.press(ALEX, link["data"], card="card-9")) == (
        f"{key} was linked to PRB-1 already."
    )


@pytest.fixture
async def closing_desk(connector, database, aiohttp_client, settings, organisation) -> Desk:
    rules = dataclasses.replace(organisation.problems, resolve_linked=True)
    closing = dataclasses.replace(organisation, problems=rules)
    return await build_desk(connector, database, aiohttp_client, settings, closing)


async def test_with_resolve_linked_the_tickets_are_resolved_with_the_problem_silently(
    closing_desk,
):
    from bot.app import SCHEDULER

    desk = closing_desk
    first, second, kims = await _affected_desk(desk)
    await desk.say(ALEX, f"/problem new Checkout down {first} {second} {kims}", channel="agents")
    await desk.say(ALEX, "/resolve PRB-1 Restarted the payment gateway", channel="agents")
    await desk.quiet()
    lena_before = len(desk.cards(LENA_CHAT))

    for _ in range(2):  # a second run, or another replica's, resolves nothing twice
        await desk.client.server.app[SCHEDULER].detect()
    await desk.quiet()

    for key in (first, second, kims):
        assert await desk.ticket(key, "status") == "resolved"
        assert await desk.ticket(key, "resolution") == "Restarted the payment gateway"
    # They heard it from the problem, once; no second word for their own tickets.
    assert len(desk.cards(LENA_CHAT)) == lena_before
    assert (
        await desk.scalar("SELECT count(*) FROM outbox WHERE template = 'customer/resolved'") == 0
    )
    # Their survey comes as usual.
    surveys = "SELECT count(*) FROM due_actions d JOIN tickets t ON t.id = d.ticket_id"
    assert await desk.scalar(surveys + " WHERE d.kind = 'survey' AND t.type != 'problem'") == 3
    assert (
        await desk.scalar("SELECT count(*) FROM ticket_events WHERE dedupe_key LIKE 'problem:%'")
        == 3
    )


async def test_a_link_jira_refuses_is_named_and_the_rest_stand(jira_desk, jira):
    desk = jira_desk
    first, _, kims = await _affected_desk(desk)
    for key in (first, _, kims):
        jira.add_issue(key)
    jira.fail(400, operation="link_issues")  # the first link only

    answer = await desk.say(
        ALEX, f"/problem new Checkout fails for everyone {first} {kims}", channel="agents"
    )

    assert answer.startswith(
        "SR-4 declared with 1 linked ticket. Everyone affected hears from us when it is solved."
        f" I could not link {first}: "
    )
    assert answer.endswith("Link them with /problem link once that is fixed.")
    assert jira.links == [("Problem/Incident", "SR-4", kims)]
    assert await desk.scalar("SELECT count(*) FROM problem_links") == 1
