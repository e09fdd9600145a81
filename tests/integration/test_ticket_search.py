"""Tickets from the compose box and pasted ticket links, over real HTTP, trimmed to each reader."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.demo.activities import TeamsUser, pasted_link, picked_item, ticket_search
from bot.tickets.system import Draft
from tests.conftest import ALEX, DANIELLE, KIM, LEARNER
from tests.integration.desk import Desk, build_desk, desk_fixture

__all__ = ["desk_fixture"]

JIRA = "https://esmos.atlassian.net"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"


@pytest.fixture
async def queue(desk: Desk) -> Desk:
    """Lena's SR-1 and SR-3, Kim's SR-2; Alex, Kim and Danielle have written to esmbot."""
    return await fill_queue(desk)


async def fill_queue(desk: Desk) -> Desk:
    for user, hello in ((ALEX, "hello"), (KIM, "hallo"), (DANIELLE, "hello")):
        await desk.say(user, hello)
    await desk.open("Checkout fails with an error", module="Checkout")
    await desk.actions.open(
        Draft(summary="Admin page is blank", module="Admin", priority="P2"),
        reporter=await desk.person(KIM),
    )
    await desk.open("Shipping labels do not print")
    await desk.quiet()
    return desk


async def invoke(desk: Desk, activity: dict[str, Any]) -> dict[str, Any]:
    response = await desk.client.post("/api/messages", json=activity)
    assert response.status == 200, await response.text()
    answer = await response.json()
    return dict(answer["composeExtension"])


async def search(desk: Desk, user: TeamsUser, text: str | None, **options: Any) -> dict[str, Any]:
    return await invoke(desk, ticket_search(user, desk.connector.url, text, **options))


def keys(result: dict[str, Any]) -> list[str]:
    """The tickets listed, from their previews' titles ("SR-1: Checkout fails …")."""
    assert result["type"] == "result", result
    return [item["preview"]["content"]["title"].split(":")[0] for item in result["attachments"]]


async def pick(desk: Desk, user: TeamsUser, listed: dict[str, Any]) -> dict[str, Any]:
    """The card Teams inserts when the result is picked: it asks esmbot (selectItem)."""
    tap = listed["preview"]["content"]["tap"]
    assert tap["type"] == "invoke"
    answer = await invoke(desk, picked_item(user, desk.connector.url, tap["value"]))
    assert answer["type"] == "result" and len(answer["attachments"]) == 1, answer
    inserted = answer["attachments"][0]
    assert inserted["contentType"] == ADAPTIVE
    return dict(inserted["content"])


def facts(card: dict[str, Any]) -> dict[str, str]:
    found = next(item for item in card["body"] if item["type"] == "FactSet")
    return {fact["title"]: fact["value"] for fact in found["facts"]}


async def test_a_customer_finds_her_own_tickets_and_nobody_elses(queue: Desk) -> None:
    desk = queue
    opened = await search(desk, LEARNER, None)  # the box opens: her open tickets
    assert sorted(keys(opened)) == ["SR-1", "SR-3"]
    result = opened["attachments"][-1]
    # Each result previews the ticket; picked, it inserts the ticket's card.
    assert result["preview"]["contentType"] == "application/vnd.microsoft.card.thumbnail"
    assert result["preview"]["content"]["text"] == "Received"
    assert result["preview"]["content"]["title"].startswith(("SR-1: ", "SR-3: "))
    card = await pick(desk, LEARNER, result)
    # As she sees it: no priority, no one else's name; and a refresh for each viewer's own.
    assert card["body"][0]["items"][0]["text"] in ("SR-1", "SR-3")
    assert "Priority" not in str(card) and "P3" not in str(card)
    assert LEARNER.id in card["refresh"]["userIds"]
    # A key picked that she may not see (the tap's value is the client's): nothing of it.
    forged = await invoke(desk, picked_item(LEARNER, desk.connector.url, {"ticket": "SR-2"}))
    assert forged["type"] == "message" and "Admin" not in str(forged)

    assert keys(await search(desk, LEARNER, "checkout")) == ["SR-1"]
    assert keys(await search(desk, LEARNER, "sr-3")) == ["SR-3"]
    # Kim's ticket, by key or by its words, is not there for her, and not said to exist.
    for typed in ("SR-2", "admin page"):
        answer = await search(desk, LEARNER, typed)
        assert answer["type"] == "message"
        assert answer["text"] == (
            f'No ticket you may see matches "{typed}". Try a ticket key like SR-12, a few words'
            ' of its summary, a status, or "mine".'
        )
    german = await search(desk, KIM, "SR-1")
    assert german["text"].startswith("Kein Ticket, das Sie sehen dürfen, passt zu „SR-1“")
    assert keys(await search(desk, KIM, "eingegangen")) == ["SR-2"]


async def test_the_desk_finds_the_whole_queue_by_key_words_status_or_mine(queue: Desk) -> None:
    desk = queue
    assert keys(await search(desk, ALEX, "SR-2")) == ["SR-2"]
    assert keys(await search(desk, ALEX, "blank")) == ["SR-2"]
    assert sorted(keys(await search(desk, ALEX, "new"))) == ["SR-1", "SR-2", "SR-3"]
    assert sorted(keys(await search(desk, ALEX, None))) == ["SR-1", "SR-2", "SR-3"]
    assert (await search(desk, ALEX, "mine"))["type"] == "message"
    assert await desk.say(ALEX, "/assign SR-2 me") == "SR-2 is yours now."
    mine = await search(desk, ALEX, "mine")
    assert keys(mine) == ["SR-2"]
    # The queue's view: who reported it, who has it, how urgent it is.
    card = await pick(desk, ALEX, mine["attachments"][0])
    assert facts(card)["Requester"] == "Kim Keyuser" and facts(card)["Owner"] == "Alex Agent"
    assert "Priority P2" in str(card)
    assert mine["attachments"][0]["preview"]["content"]["text"] == "New"
    # A manager finds what an agent finds.
    assert keys(await search(desk, DANIELLE, "admin")) == ["SR-2"]
    # Teams pages through results.
    assert len(keys(await search(desk, ALEX, None, skip=1, count=1))) == 1
    assert keys(await search(desk, ALEX, None, skip=5, count=25)) == []


async def test_words_that_look_like_sql_patterns_are_only_words(queue: Desk) -> None:
    for typed in ("%", "_", "\\", "' OR 1=1 --"):
        assert (await search(queue, ALEX, typed))["type"] == "message", typed


async def test_an_unknown_search_command_is_answered_politely(queue: Desk) -> None:
    answer = await search(queue, KIM, "SR-2", command_id="somethingElse")
    assert answer == {
        "type": "message",
        "text": "Diese Suche kennt die App nicht. Verwenden Sie „Ticketsuche“.",
    }


@pytest.fixture
async def jira_desk(connector, database, aiohttp_client, settings, organisation) -> Desk:
    """The desk of `queue`, with the Jira site configured (its issue links unfold)."""
    desk = await build_desk(
        connector, database, aiohttp_client, replace(settings, jira_base_url=JIRA), organisation
    )
    return await fill_queue(desk)


async def unfold(desk: Desk, user: TeamsUser, url: str) -> list[dict[str, Any]]:
    answer = await invoke(desk, pasted_link(user, desk.connector.url, url, chat="admins"))
    assert answer["type"] == "result"
    return list(answer["attachments"])


async def test_a_pasted_ticket_link_shows_the_ticket_as_the_reader_may_see_it(
    jira_desk: Desk,
) -> None:
    desk = jira_desk
    own = await unfold(desk, LEARNER, "https://bot.example.com/tickets/SR-1")
    assert own[0]["content"]["body"][0]["items"][2]["text"] == "Checkout fails with an error"
    assert "Received" in str(own[0]["content"])
    # Someone else's ticket: that it exists, and nothing more, in the card or its preview.
    for url in (f"{JIRA}/browse/SR-2", "https://bot.example.com/tickets/sr-2"):
        hidden = await unfold(desk, LEARNER, url)
        assert len(hidden) == 1
        shown = str(hidden[0])
        assert "Ticket SR-2 exists" in shown
        assert "Admin" not in shown and "blank" not in shown and "Kim" not in shown
    german = await unfold(desk, KIM, f"{JIRA}/browse/SR-1")
    assert "Das Ticket SR-1 gibt es" in str(german[0]) and "Checkout" not in str(german[0])
    # The desk sees it in full, live: an owner taken since shows.
    await desk.say(ALEX, "/assign SR-2 me")
    full = await unfold(desk, DANIELLE, f"{JIRA}/browse/SR-2?focusedCommentId=1")
    assert facts(full[0]["content"])["Owner"] == "Alex Agent"
    # A link to no ticket esmbot knows, or to another Jira site, unfolds to nothing.
    for url in (
        f"{JIRA}/browse/SR-99",
        "https://other.atlassian.net/browse/SR-1",
        "http://bot.example.com/tickets/SR-1",
        "https://bot.example.com/elsewhere",
        "not a url at all",
    ):
        assert await unfold(desk, ALEX, url) == [], url
