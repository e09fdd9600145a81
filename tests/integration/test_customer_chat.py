"""Ms. Learner opens a ticket in the 1:1 chat over real HTTP, on both databases (story 1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from bot.config.organisation import RoleMembers
from bot.demo.activities import personal_conversation_id
from bot.tickets.models import Ticket
from tests.conftest import ALEX, KIM, LEARNER
from tests.doubles.jira import JiraDouble
from tests.integration.chat import in_the_turn, no_im_back, press, say
from tests.integration.desk import AGENTS, LENA_CHAT, Desk, build_desk, desk_fixture

__all__ = ["desk_fixture", "no_im_back"]
pytestmark = pytest.mark.usefixtures("no_im_back")


async def walk_to_review(
    desk: Desk, first: str = "checkout fails with an error", *, noticed: str = "today 8:30"
) -> str:
    """Answers every question after a first message that describes the problem; the review
    card's id."""
    asked = await say(desk, LEARNER, first)
    assert "What kind of request" in asked.text
    # Every type and every area is offered (a card's buttons would stop at six), in her words.
    assert len(asked.buttons()) == 14 and "SLA request" in asked.buttons()
    asked = await say(desk, LEARNER, "incident")
    assert "Which part of OpenCart" in asked.text
    offered = asked.choices()
    assert list(offered)[:2] == ["Checkout", "Payment"] and len(offered) == 7
    assert offered["Something else"] == "other"
    # Picked on the card and sent with Next, as Teams and Agents Playground send it.
    asked = await press(desk, LEARNER, asked.pick("Checkout"), card=asked.card_id)
    assert "How does it affect your work" in asked.text
    asked = await say(desk, LEARNER, "No customer can pay by card")
    assert "What did you do just before" in asked.text
    asked = await say(desk, LEARNER, "Put a shirt in the cart, paid by Visa")
    assert "When did you first notice it" in asked.text
    asked = await say(desk, LEARNER, noticed)
    assert "How urgent" in asked.text
    # The priorities' definitions are there in full, to be read, not cut to a button's width.
    assert "P2 – High: important work is blocked, no workaround" in asked.buttons()
    review = await say(desk, LEARNER, "P2")
    # Teams shows the summary in notifications and to clients that cannot draw the card.
    assert review.replies[-1].body.get("summary") == "Please check your ticket"
    card = review.card()
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts["Summary"] == "checkout fails with an error"
    assert facts["Area affected"] == "Checkout"
    assert facts["Impact"] == "No customer can pay by card"
    if noticed == "today 8:30":
        assert facts["First noticed"].startswith("Mon 23 Nov 2026, 08:30")
    return review.card_id


async def test_a_day_given_without_a_time_is_kept_and_shown_as_that_day(desk: Desk) -> None:
    review = await walk_to_review(desk, noticed="yesterday")
    agents_before = len(desk.cards(AGENTS))

    await press(desk, LEARNER, {"action": "draft", "choice": "confirm"}, card=review)

    async with desk.database.transaction() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.key == "SR-1"))
    assert ticket is not None
    assert (ticket.first_occurred_on, ticket.first_occurred_at) == (date(2026, 11, 22), None)
    card = (await desk.new_cards(AGENTS, 1, after=agents_before))[0]
    facts = [fact for block in card["body"] for fact in block.get("facts", [])]
    assert {"title": "First noticed", "value": "Sun 22 Nov 2026"} in facts, facts


async def test_a_first_message_becomes_a_well_described_ticket(desk: Desk) -> None:
    review = await walk_to_review(desk)
    agents_before = len(desk.cards(AGENTS))

    done = await press(desk, LEARNER, {"action": "draft", "choice": "confirm"}, card=review)

    assert "Done – SR-1 is with the service desk: checkout fails with an error" in done.text
    # Her ticket card says when she hears from us: P2 is answered within 24 h, from Monday
    # 09:00 in Berlin, in her zone.
    received = await desk.wait(
        lambda: [
            card for card in desk.cards(LENA_CHAT) if "Your ticket number is SR-1" in str(card)
        ]
    )
    assert received and "Tue 24 Nov 2026, 09:00 (Europe/Berlin)" in str(received[0])
    async with desk.database.transaction() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.key == "SR-1"))
    assert ticket is not None
    assert (ticket.type, ticket.module, ticket.priority) == ("incident", "Checkout", "P2")
    assert ticket.impact == "No customer can pay by card"
    assert ticket.steps == "Put a shirt in the cart, paid by Visa"
    assert ticket.first_occurred_at == datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
    assert ticket.reporter_id == (await desk.person(LEARNER)).id
    # The summary card loses its buttons, so it cannot be sent twice.
    assert done.updates and done.updates[0].activity_id == review
    closed = done.updates[0].body["attachments"][0]["content"]
    assert "actions" not in closed
    # The agents hear of it through the notify path.
    agents = await desk.new_cards(AGENTS, 1, after=agents_before)
    assert "SR-1" in str(agents[0])

    again = await press(desk, LEARNER, {"action": "draft", "choice": "confirm"}, card=review)
    assert "That draft is closed" in again.text
    assert await desk.scalar("SELECT count(*) FROM tickets") == 1


async def test_the_whole_story_reaches_the_agent_and_back(desk: Desk) -> None:
    review = await walk_to_review(desk)
    await press(desk, LEARNER, {"action": "draft", "choice": "confirm"}, card=review)
    await desk.new_cards(LENA_CHAT, 1, after=0)  # her ticket card
    await desk.quiet()
    seen = len(desk.connector.calls)

    answer = await desk.say(ALEX, "/ack SR-1", channel="agents")

    assert "SR-1" in answer

    def told() -> list[str]:
        # A new card or her ticket card brought up to date: either way she reads it in her chat.
        return [
            str(call.body)
            for call in desk.connector.calls[seen:]
            if call.conversation_id == LENA_CHAT
            and call.operation in ("send", "update")
            and "Alex Agent" in str(call.body)
        ]

    assert await desk.wait(told)


async def test_cancel_at_any_step_creates_nothing(desk: Desk) -> None:
    await say(desk, LEARNER, "new ticket")
    await say(desk, LEARNER, "The printer in room 4 jams on every page")
    stopped = await say(desk, LEARNER, "cancel")
    assert "dropped the new ticket" in stopped.text
    assert await desk.scalar("SELECT count(*) FROM tickets") == 0
    after = await say(desk, LEARNER, "incident")
    assert "not sure what you mean" in after.text


async def test_a_field_is_changed_on_the_summary(desk: Desk) -> None:
    review = await walk_to_review(desk)
    asked = await press(
        desk, LEARNER, {"action": "draft", "choice": "edit", "field": "impact"}, card=review
    )
    assert "How does it affect your work" in asked.text
    again = await say(desk, LEARNER, "Half of the orders fail")
    facts = {f["title"]: f["value"] for f in again.card()["body"][2]["facts"]}
    assert facts["Impact"] == "Half of the orders fail"
    assert facts["Area affected"] == "Checkout"  # nothing else asked again
    typed = await say(desk, LEARNER, "confirm")
    assert "SR-1" in typed.text
    assert await desk.ticket("SR-1", "impact") == "Half of the orders fail"


async def test_an_unreadable_date_and_an_unknown_module_are_explained(desk: Desk) -> None:
    await say(desk, LEARNER, "checkout fails with an error")
    await say(desk, LEARNER, "incident")
    unknown = await say(desk, LEARNER, "Warehouse robots")
    assert "Please pick one of the answers" in unknown.text
    other = await say(desk, LEARNER, "Something else")
    assert "Which part is it" in other.text
    await say(desk, LEARNER, "Warehouse robots")
    await say(desk, LEARNER, "No orders ship")
    await say(desk, LEARNER, "Nothing special")
    unreadable = await say(desk, LEARNER, "when the moon was blue")
    assert "couldn't read that as a time" in unreadable.text
    tomorrow = await say(desk, LEARNER, "tomorrow 9:00")
    assert "That's in the future" in tomorrow.text
    later = await say(desk, LEARNER, "2026-12-24")
    assert "That's in the future" in later.text
    accepted = await say(desk, LEARNER, "don't know")
    assert "How urgent" in accepted.text
    review = await say(desk, LEARNER, "not sure")
    facts = {f["title"]: f["value"] for f in review.card()["body"][2]["facts"]}
    assert facts["Area affected"] == "Warehouse robots"
    assert facts["First noticed"] == "not known"


async def test_a_german_customer_is_asked_in_german(desk: Desk) -> None:
    asked = await say(desk, KIM, "Die Kasse zeigt einen Fehler beim Bezahlen")
    assert "Um welche Art von Anliegen" in asked.text
    stopped = await say(desk, KIM, "abbrechen")
    assert "verworfen" in stopped.text


async def test_a_german_customer_picks_from_the_catalogue_in_german(desk: Desk) -> None:
    first = await say(desk, KIM, "Die Kasse zeigt einen Fehler beim Bezahlen")
    assert first.choices()["Fehler"] == "bug" and "Serviceanfrage" in first.choices()

    asked = await say(desk, KIM, "Fehler")  # typed, in her words

    assert "Welcher Teil von OpenCart" in asked.text
    assert asked.choices()["Kasse"] == "Checkout"
    # An answer pressed on the older card is not taken for this question.
    stale = await press(desk, KIM, first.pick("Störung"), card=first.card_id)
    assert "Bitte wählen Sie eine der Antworten" in stale.text
    asked = await say(desk, KIM, "Kasse")
    for answer in ("Niemand kann bezahlen", "In den Warenkorb, bezahlen", "heute 8:30"):
        asked = await say(desk, KIM, answer)
    review = await press(
        desk, KIM, asked.pick("P2 – Hoch: Wichtige Arbeit ist blockiert, ohne Umweg")
    )
    facts = {f["title"]: f["value"] for f in review.card()["body"][2]["facts"]}
    assert (facts["Art"], facts["Betroffener Bereich"]) == ("Fehler", "Kasse")
    await say(desk, KIM, "bestätigen")

    assert await desk.ticket("SR-1", "type") == "bug"  # stored as the catalogue names it
    assert await desk.ticket("SR-1", "module") == "Checkout"
    assert await desk.ticket("SR-1", "priority") == "P2"


async def test_a_question_left_for_a_day_lapses_politely(desk: Desk) -> None:
    await say(desk, LEARNER, "checkout fails with an error")
    desk.clock.advance(days=1, minutes=1)
    later = await say(desk, LEARNER, "incident")
    assert "didn't finish, so I dropped it" in later.text
    assert await desk.scalar("SELECT count(*) FROM tickets") == 0


async def test_a_turn_that_leaves_no_question_open_writes_no_state(desk: Desk) -> None:
    async def state() -> list[tuple[str, str]]:
        async with desk.database.transaction() as session:
            rows = await session.execute(text("SELECT key, e_tag FROM bot_state ORDER BY key"))
            return [(row.key, row.e_tag) for row in rows]

    key = await desk.open("Checkout fails")
    await say(desk, LEARNER, "checkout fails with an error")  # a question, then given up
    await say(desk, LEARNER, "cancel")
    before = await state()

    for words in (f"status {key}", "my tickets", key):
        desk.clock.advance(minutes=1)
        await say(desk, LEARNER, words)

    assert before and await state() == before
    # A question left open is still remembered turn by turn, so that it can lapse.
    await say(desk, LEARNER, "checkout fails with an error")
    opened = await state()
    desk.clock.advance(minutes=1)
    await say(desk, LEARNER, "incident")
    assert await state() not in (before, opened)


@pytest.fixture
async def jira() -> AsyncIterator[JiraDouble]:
    double = JiraDouble()
    await double.start()
    double.add_user("acc-lena", "Lena Learner", email=LEARNER.email)
    yield double
    await double.close()


@pytest.fixture
async def jira_desk(jira, connector, database, aiohttp_client, settings, organisation) -> Desk:
    """The desk with Jira as the system of record."""
    connected = replace(
        settings,
        jira_base_url=jira.url,
        jira_user_email=jira.email,
        jira_api_token=jira.api_token,
        jira_project_key="SR",
    )
    return await build_desk(connector, database, aiohttp_client, connected, organisation)


async def test_with_jira_the_ticket_is_created_there_first(
    jira: JiraDouble, jira_desk: Desk
) -> None:
    desk = jira_desk
    review = await walk_to_review(desk)

    done = await press(desk, LEARNER, {"action": "draft", "choice": "confirm"}, card=review)

    created = jira.calls_to("create_issue")
    assert len(created) == 1
    fields = created[0].body["fields"]
    assert fields["summary"] == "checkout fails with an error"
    key = next(iter(jira.issues))
    assert f"Done – {key} is with the service desk" in done.text
    assert await desk.ticket(key, "source") == "jira"


async def test_with_jira_down_nothing_is_stored_and_the_draft_is_kept(
    jira: JiraDouble, jira_desk: Desk
) -> None:
    desk = jira_desk
    review = await walk_to_review(desk)
    jira.fail(500, operation="create_issue")

    failed = await press(desk, LEARNER, {"action": "draft", "choice": "confirm"}, card=review)

    assert "couldn't open the ticket just now" in failed.text
    assert "Please check your ticket" in str(failed.card())  # the same draft, shown again
    assert await desk.scalar("SELECT count(*) FROM tickets") == 0
    retried = await say(desk, LEARNER, "confirm")
    assert "is with the service desk" in retried.text
    assert await desk.scalar("SELECT count(*) FROM tickets") == 1


async def test_the_welcome_card_offers_a_new_ticket_and_her_tickets(desk: Desk) -> None:
    welcome = next(call for call in desk.replies(LENA_CHAT) if call.body.get("attachments"))
    card = welcome.body["attachments"][0]["content"]
    verbs = [action["data"]["action"] for action in card["actions"]]
    assert verbs == ["new_ticket", "my_tickets"]
    assert "Lena Learner" in str(card)

    started = await press(desk, LEARNER, {"action": "new_ticket"})
    listed = await press(desk, LEARNER, {"action": "my_tickets"})

    assert "What's the problem" in started.text
    assert "no open tickets" in listed.text


async def test_with_key_users_only_they_open_tickets_also_for_a_colleague(
    connector, database, aiohttp_client, settings, organisation
) -> None:
    roles = {**organisation.roles, "key_users": RoleMembers(emails=frozenset({KIM.email}))}
    desk = await build_desk(
        connector, database, aiohttp_client, settings, replace(organisation, roles=roles)
    )
    refused = await say(desk, LEARNER, "checkout fails with an error")
    assert "Only key users can open tickets" in refused.text
    assert KIM.email in refused.text
    assert await desk.scalar("SELECT count(*) FROM tickets") == 0

    asked = await say(desk, KIM, "Die Kasse zeigt einen Fehler")
    assert "für eine Kollegin" in asked.text
    unknown = await say(desk, KIM, "nobody@esmos.example")
    assert "kenne ich noch nicht" in unknown.text
    await say(desk, KIM, LEARNER.email)
    for answer in ("incident", "Checkout", "Niemand kann zahlen", "Karte", "gestern", "P2"):
        await say(desk, KIM, answer)
    done = await say(desk, KIM, "bestätigen")

    assert "für Lena Learner" in done.text
    assert await desk.ticket("SR-1", "reporter_id") == (await desk.person(LEARNER)).id
    assert await desk.ticket("SR-1", "opened_by_id") == (await desk.person(KIM)).id
    # Both follow it, each in her own language; Kim's list says whom she opened it for.
    kims = await say(desk, KIM, "meine Tickets")
    lenas = await say(desk, LEARNER, "my tickets")
    assert "SR-1" in str(kims.card()) and "SR-1" in str(lenas.card())
    assert "Lena Learner" in str(kims.card()) and "Für" in str(kims.card())
    assert "For" not in str(lenas.card())


async def test_a_key_user_hears_every_update_of_what_she_opened_for_a_colleague(
    connector, database, aiohttp_client, settings, organisation
) -> None:
    roles = {**organisation.roles, "key_users": RoleMembers(emails=frozenset({KIM.email}))}
    desk = await build_desk(
        connector, database, aiohttp_client, settings, replace(organisation, roles=roles)
    )
    kim_chat = personal_conversation_id(KIM)
    await say(desk, KIM, "Die Kasse zeigt einen Fehler")
    await say(desk, KIM, LEARNER.email)
    for answer in ("incident", "Checkout", "Niemand kann zahlen", "Karte", "gestern", "P2"):
        await say(desk, KIM, answer)
    await say(desk, KIM, "bestätigen")

    # The ticket card reaches both: Lena's in English, Kim's in German.
    await desk.quiet()
    lenas = [str(c) for c in desk.cards(LENA_CHAT) if "We've got your request" in str(c)]
    kims = [str(c) for c in desk.cards(kim_chat) if "Ihre Anfrage ist bei uns angekommen" in str(c)]
    assert len(lenas) == 1 and "SR-1" in lenas[0]
    assert len(kims) == 1 and "SR-1" in kims[0]
    # And so does the desk's reply, each in her own language.
    await desk.say(ALEX, "/reply SR-1 We are on it", channel="agents")
    await desk.quiet()
    [to_lena] = [str(c) for c in desk.cards(LENA_CHAT) if "We are on it" in str(c)]
    [to_kim] = [str(c) for c in desk.cards(kim_chat) if "We are on it" in str(c)]
    assert "A new message about your request" in to_lena
    assert "Eine neue Nachricht zu Ihrer Anfrage" in to_kim


async def test_a_key_user_may_be_left_out_of_her_colleagues_updates(
    connector, database, aiohttp_client, settings, organisation
) -> None:
    roles = {**organisation.roles, "key_users": RoleMembers(emails=frozenset({KIM.email}))}
    quiet = replace(organisation, roles=roles, key_user_updates=False)
    desk = await build_desk(connector, database, aiohttp_client, settings, quiet)
    await say(desk, KIM, "Die Kasse zeigt einen Fehler")
    await say(desk, KIM, LEARNER.email)
    for answer in ("incident", "Checkout", "Niemand kann zahlen", "Karte", "gestern", "P2"):
        await say(desk, KIM, answer)
    await say(desk, KIM, "bestätigen")
    await desk.new_cards(LENA_CHAT, 1, after=0)
    await desk.say(ALEX, "/reply SR-1 We are on it", channel="agents")
    await desk.quiet()

    assert not [c for c in desk.cards(personal_conversation_id(KIM)) if "We are on it" in str(c)]


async def test_a_status_turn_only_reads_and_reads_little(desk: Desk) -> None:
    key = await desk.open("Checkout fails")
    await say(desk, LEARNER, f"status {key}")  # she and her chat are known from here on
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    with in_the_turn(desk, "before_cursor_execute", seen):
        answered = await say(desk, LEARNER, f"status {key}")

    assert key in answered.text
    # The dispatcher still polls the outbox and the brake beside the turn; those are its own.
    turn = [
        sql for sql in statements if "FROM outbox" not in sql and "FROM coordination" not in sql
    ]
    reads = [sql for sql in turn if sql.startswith("SELECT")]
    assert not [sql for sql in turn if sql.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    # Her, her chat, the dialog state, the ticket and its history (nobody owns it yet): one
    # read each. Her row is read once: the card's "reported by" is the person already found.
    assert [sql.split(" FROM ")[1].split()[0] for sql in reads] == [
        "people",
        "conversations",
        "bot_state",
        "tickets",
        "ticket_events",
    ], reads
