"""Customers check their tickets, answer questions, confirm or contest a resolution and rate it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.tickets.lifecycle import Status
from bot.tickets.models import CsatSurvey, Ticket
from bot.tickets.system import Draft
from tests.conftest import ALEX, KIM, LEARNER
from tests.integration.chat import no_im_back, press, say
from tests.integration.desk import AGENTS, MANAGEMENT, Desk, desk_fixture

__all__ = ["desk_fixture", "no_im_back"]
pytestmark = pytest.mark.usefixtures("no_im_back")


async def kims_ticket(desk: Desk) -> str:
    """A ticket of Kim's, who has met the bot; not Lena's to see."""
    await say(desk, KIM, "hallo")
    applied = await desk.actions.open(
        _draft("Drucker druckt nicht"), reporter=await desk.person(KIM)
    )
    return applied.ticket_key


def _draft(summary: str) -> Draft:
    return Draft(summary=summary, module="Checkout", impact="Orders stuck")


async def test_my_tickets_lists_only_hers_most_urgent_first(desk: Desk) -> None:
    first = await desk.open("Checkout fails with an error", priority="P3")
    second = await desk.open("Nobody can log in", priority="P1")
    await kims_ticket(desk)

    listed = await say(desk, LEARNER, "my tickets")

    card = str(listed.card())
    assert card.index(second) < card.index(first)  # P1's first response is due first
    assert "Drucker" not in card
    assert "Your open tickets" in card


async def test_each_deadline_shown_to_her_says_which_one_it_is(desk: Desk) -> None:
    first = await desk.open("Checkout fails with an error", priority="P3")
    second = await desk.open("Nobody can log in", priority="P1")
    await desk.say(ALEX, f"/ack {second}", channel="agents")

    listed = (await say(desk, LEARNER, "my tickets")).card()

    facts = {
        shown["items"][0]["text"].split(" · ")[0]: {
            fact["title"]: fact["value"] for fact in shown["items"][2]["facts"]
        }
        for shown in listed["body"][1:]
        if shown.get("type") == "Container"
    }
    assert "First response by" in facts[first] and "Solution expected by" not in facts[first]
    assert "Solution expected by" in facts[second] and "First response by" not in facts[second]
    status = str((await say(desk, LEARNER, f"status {first}")).card())
    assert "First response by" in status and "Expected by" not in status


async def test_status_shows_the_story_and_someone_elses_ticket_does_not_exist(desk: Desk) -> None:
    key = await desk.open()
    await desk.say(ALEX, f"/ask {key} Which payment provider were you using?", channel="agents")
    await desk.say(ALEX, f"/note {key} customer seems confused", channel="agents")
    kims = await kims_ticket(desk)

    shown = await say(desk, LEARNER, f"status {key}")

    card = str(shown.card())
    assert "Which payment provider" in card
    assert "confused" not in card  # internal notes never reach the customer
    assert "Waiting for your answer" in card
    theirs = await say(desk, LEARNER, f"status {kims}")
    missing = await say(desk, LEARNER, "SR-999")
    assert theirs.text == missing.text.replace("SR-999", kims)


async def test_a_plain_reply_answers_the_question_and_the_owner_hears(desk: Desk) -> None:
    key = await desk.open()
    await desk.say(ALEX, f"/assign {key} me", channel="agents")
    await desk.say(ALEX, f"/ask {key} Which payment provider were you using?", channel="agents")
    agents_before = len(desk.cards(AGENTS))

    answered = await say(desk, LEARNER, "Stripe")

    assert f"added your answer to {key} and told Alex Agent" in answered.text
    assert await desk.ticket(key, "status") == Status.IN_PROGRESS
    assert await desk.ticket(key, "paused_since") is None
    events = await desk.events(key)
    assert events[-1].payload["comment"] == {
        "public": True, "author": "Lena Learner", "body": "Stripe", "id": None
    }  # fmt: skip
    # Alex never opened a chat with the bot, so the agents' channel tells him.
    heard = await desk.new_cards(AGENTS, 1, after=agents_before)
    assert "Stripe" in str(heard[-1])


async def test_the_question_card_is_answered_in_place(desk: Desk) -> None:
    key = await desk.open()
    await desk.say(ALEX, f"/ask {key} Which browser?", channel="agents")

    done = await press(desk, LEARNER, {"action": "answer", "ticket": key, "answer": "Firefox"},
                       card="question-card")  # fmt: skip

    assert "Firefox" in str(done.updates[0].body)
    assert await desk.ticket(key, "status") == Status.IN_PROGRESS
    empty = await press(desk, LEARNER, {"action": "answer", "ticket": key, "answer": "  "})
    assert "type your answer" in empty.text


async def test_several_waiting_questions_ask_which(desk: Desk) -> None:
    one, two = await desk.open("Checkout fails"), await desk.open("Login fails")
    await desk.say(ALEX, f"/ask {one} Which browser?", channel="agents")
    await desk.say(ALEX, f"/ask {two} Which account?", channel="agents")

    asked = await say(desk, LEARNER, "Firefox on Windows")
    assert "Which one is this for" in asked.text
    assert any(button.startswith(one) for button in asked.buttons())
    answered = await say(desk, LEARNER, one)

    assert f"added your answer to {one}" in answered.text
    assert await desk.ticket(one, "status") == Status.IN_PROGRESS
    assert await desk.ticket(two, "status") == Status.WAITING_FOR_CUSTOMER


async def test_the_ticket_is_picked_on_the_card_and_an_older_card_is_not_taken(
    desk: Desk,
) -> None:
    one, two, three = [await desk.open(summary) for summary in ("Checkout", "Login", "Export")]
    for key in (one, two, three):
        await desk.say(ALEX, f"/ask {key} Which browser?", channel="agents")

    first = await say(desk, LEARNER, "Firefox on Windows")
    offered = {
        f"{one} – Checkout",
        f"{two} – Login",
        f"{three} – Export",
        "None – it's something new",
    }
    assert set(first.choices()) == offered
    # Picked on the card and sent with Next, as Teams and Agents Playground send it.
    picked = await press(desk, LEARNER, first.pick(f"{one} – Checkout"), card=first.card_id)
    assert f"added your answer to {one}" in picked.text
    second = await say(desk, LEARNER, "Chrome on a Mac")
    assert "Which one is this for" in second.text

    # The first card asked about another message: its answers are not this question's.
    stale = await press(desk, LEARNER, first.pick(f"{two} – Login"), card=first.card_id)
    assert "Please pick one of the answers" in stale.text
    assert await desk.ticket(two, "status") == Status.WAITING_FOR_CUSTOMER
    taken = await press(desk, LEARNER, second.pick(f"{two} – Login"), card=second.card_id)

    assert f"added your answer to {two}" in taken.text
    assert (await desk.events(two))[-1].payload["comment"]["body"] == "Chrome on a Mac"
    assert (await desk.events(one))[-1].payload["comment"]["body"] == "Firefox on Windows"
    assert await desk.ticket(three, "status") == Status.WAITING_FOR_CUSTOMER
    late = await press(desk, LEARNER, second.pick(f"{three} – Export"), card=second.card_id)
    assert "That question is closed" in late.text
    assert await desk.ticket(three, "status") == Status.WAITING_FOR_CUSTOMER


async def test_none_of_these_on_the_card_opens_a_new_ticket_instead(desk: Desk) -> None:
    one, two = await desk.open("Checkout fails"), await desk.open("Login fails")
    await desk.say(ALEX, f"/ask {one} Which browser?", channel="agents")
    await desk.say(ALEX, f"/ask {two} Which account?", channel="agents")

    asked = await say(desk, LEARNER, "The export to Excel is empty")
    opened = await press(desk, LEARNER, asked.pick("None – it's something new"))

    assert "What kind of request is it?" in opened.text
    assert await desk.ticket(one, "status") == Status.WAITING_FOR_CUSTOMER
    assert await desk.ticket(two, "status") == Status.WAITING_FOR_CUSTOMER


async def test_a_german_customer_types_which_ticket_and_whether_to_reopen(desk: Desk) -> None:
    kims = await kims_ticket(desk)
    other = (await desk.actions.open(_draft("Scanner"), reporter=await desk.person(KIM))).ticket_key
    for key in (kims, other):
        await desk.say(ALEX, f"/ask {key} Welches Modell?", channel="agents")

    asked = await say(desk, KIM, "Es ist ein HP LaserJet")
    assert "Zu welchem gehört diese" in asked.text
    assert asked.choices()["Keines – es ist etwas Neues"] == "new"
    answered = await say(desk, KIM, kims.lower())
    assert f"Ihre Antwort zu {kims} hinzugefügt" in answered.text
    assert await desk.ticket(kims, "status") == Status.IN_PROGRESS

    await desk.say(ALEX, f"/resolve {other} Treiber neu", channel="agents")
    desk.clock.advance(minutes=5)
    await desk.say(ALEX, f"/resolve {kims} Toner getauscht", channel="agents")
    offered = await say(desk, KIM, "Der Drucker druckt schon wieder nicht")
    assert f"Geht es um {kims}" in offered.text
    assert offered.choices() == {
        f"{kims} wieder öffnen": "reopen",
        "Es ist ein neues Problem": "new",
    }
    reopened = await say(desk, KIM, "wieder öffnen")

    assert f"{kims} wieder geöffnet" in reopened.text
    assert await desk.ticket(kims, "status") == Status.REOPENED
    assert await desk.ticket(other, "status") == Status.RESOLVED


async def test_reopen_is_pressed_on_the_card(desk: Desk) -> None:
    key = await desk.open("Checkout fails")
    await desk.say(ALEX, f"/resolve {key} Patched", channel="agents")

    offered = await say(desk, LEARNER, "it's broken again since this morning")
    assert offered.choices() == {f"Reopen {key}": "reopen", "It's a new problem": "new"}
    reopened = await press(desk, LEARNER, offered.pick(f"Reopen {key}"), card=offered.card_id)

    assert f"reopened {key}" in reopened.text
    assert await desk.ticket(key, "status") == Status.REOPENED
    assert (await desk.events(key))[-1].payload["reason"] == "it's broken again since this morning"


async def test_solved_closes_and_still_broken_reopens_with_her_reason(desk: Desk) -> None:
    one, two = await desk.open("Checkout fails"), await desk.open("Login fails")
    await desk.say(ALEX, f"/resolve {one} Patched the payment module", channel="agents")
    await desk.say(ALEX, f"/resolve {two} Reset the password", channel="agents")

    solved = await press(desk, LEARNER, {"action": "solved", "ticket": one}, card="resolved-1")
    broken = await press(
        desk, LEARNER, {"action": "still_broken", "ticket": two, "comment": "Still no login"},
        card="resolved-2",
    )  # fmt: skip

    assert f"closed {one}" in solved.text
    assert await desk.ticket(one, "status") == Status.CLOSED
    assert f"reopened {two}" in broken.text
    assert await desk.ticket(two, "status") == Status.REOPENED
    assert (await desk.events(two))[-1].payload["reason"] == "Still no login"
    twice = await press(desk, LEARNER, {"action": "solved", "ticket": one})
    assert "already closed" in twice.text


async def test_writing_about_a_just_resolved_problem_offers_to_reopen(desk: Desk) -> None:
    key = await desk.open("Checkout fails")
    await desk.say(ALEX, f"/resolve {key} Patched", channel="agents")

    offered = await say(desk, LEARNER, "it's broken again since this morning")
    assert f"Is this about {key}" in offered.text
    reopened = await say(desk, LEARNER, f"Reopen {key}")

    assert f"reopened {key}" in reopened.text
    assert await desk.ticket(key, "status") == Status.REOPENED
    assert await desk.scalar("SELECT count(*) FROM tickets") == 1


async def test_the_offer_to_reopen_ends_with_the_reopen_window(desk: Desk, organisation) -> None:
    """Up to the last moment of the window she is asked; a minute later it is a new problem."""
    key = await desk.open("Checkout fails")
    await desk.say(ALEX, f"/resolve {key} Patched", channel="agents")
    resolved_at = await desk.ticket(key, "resolved_at")
    timers, calendar = organisation.timers, organisation.calendar
    closes = calendar.add(resolved_at, timers.reopen_window)

    desk.clock.now = closes
    last_moment = await say(desk, LEARNER, "it's broken again since this morning")
    assert f"Is this about {key}" in last_moment.text
    await say(desk, LEARNER, "cancel")

    desk.clock.now = closes + timedelta(minutes=1)
    too_late = await say(desk, LEARNER, "it's broken again since this morning")
    assert f"Is this about {key}" not in too_late.text
    assert "What kind of request is it?" in too_late.text
    assert await desk.ticket(key, "status") == Status.RESOLVED
    # Ten working days: two weeks and more, never just ten calendar days.
    assert closes - resolved_at >= timedelta(days=14)


async def survey(desk: Desk, key: str) -> int:
    async with desk.database.transaction() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.key == key))
        assert ticket is not None
        row = CsatSurvey(ticket_id=ticket.id, person_id=ticket.reporter_id, status="sent",
                         due_at=desk.clock.now, sent_at=desk.clock.now)  # fmt: skip
        session.add(row)
        await session.flush()
        return row.id


async def test_a_low_score_is_recorded_once_and_alerts_management(desk: Desk) -> None:
    key = await desk.open()
    await desk.say(ALEX, f"/resolve {key} Patched", channel="agents")
    survey_id = await survey(desk, key)
    management_before = len(desk.cards(MANAGEMENT))
    agents_before = len(desk.cards(AGENTS))

    rated = await press(desk, LEARNER, {"action": "csat", "ticket": key, "survey": str(survey_id),
                                        "score": "2", "comment": "Slow"}, card="survey-card")  # fmt: skip
    again = await press(desk, LEARNER, {"action": "csat", "ticket": key, "survey": str(survey_id),
                                        "score": "4"}, card="survey-card")  # fmt: skip

    assert "passed it on" in rated.text
    assert "Thanks for your rating" in str(rated.updates[0].body)
    assert "already rated" in again.text
    assert await desk.scalar("SELECT score FROM csat_surveys") == 2
    alert = await desk.new_cards(MANAGEMENT, 1, after=management_before)
    assert key in str(alert)
    # The agents' channel hears every result, as /subscribe agents promises: one short line.
    line = await desk.new_cards(AGENTS, 1, after=agents_before)
    assert f"rated the help with {key} 2 out of 4" in str(line) and "Slow" in str(line)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"action": "csat", "survey": "1", "score": "7"}, "score from 1 to 4"),
        ({"action": "csat", "survey": "1", "score": True}, "score from 1 to 4"),
        ({"action": "csat", "survey": "nine", "score": "3"}, "can't find that survey"),
        ({"action": "csat"}, "can't find that survey"),
        ({"action": "solved"}, "don't know that button"),
        ({"action": "answer", "ticket": ["SR-1"]}, "don't know that button"),
        ({"action": "still_broken", "ticket": "SR-999"}, "can't find a ticket SR-999"),
    ],
)
async def test_forged_customer_buttons_change_nothing(desk: Desk, value: dict, says: str) -> None:
    await desk.open()
    pressed = await press(desk, LEARNER, value)
    assert says in pressed.text
    assert await desk.ticket("SR-1", "status") == Status.NEW
    assert await desk.scalar("SELECT count(*) FROM csat_surveys WHERE score IS NOT NULL") == 0


async def test_someone_elses_survey_and_ticket_are_not_hers_to_answer(desk: Desk) -> None:
    kims = await kims_ticket(desk)
    await desk.say(ALEX, f"/resolve {kims} Replaced the toner", channel="agents")
    survey_id = await survey(desk, kims)

    rated = await press(desk, LEARNER, {"action": "csat", "ticket": kims, "survey": survey_id,
                                        "score": "1"})  # fmt: skip
    closed = await press(desk, LEARNER, {"action": "solved", "ticket": kims})

    assert "can't find that survey" in rated.text
    assert f"can't find a ticket {kims}" in closed.text
    assert await desk.ticket(kims, "status") == Status.RESOLVED
    assert await desk.scalar("SELECT count(*) FROM csat_surveys WHERE score IS NOT NULL") == 0


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"text": ""}, "only read text"),
        ({"text": "   "}, "only read text"),
        ({"text": "🔥🔥🔥"}, "not sure what you mean"),
        ({"text": "", "attachments": [{"contentType": "image/png", "contentUrl": "https://x/y.png"}]},
         "only read text"),
        ({"text": "ok"}, "not sure what you mean"),
    ],
)  # fmt: skip
async def test_odd_messages_get_a_helpful_answer(desk: Desk, fields: dict, says: str) -> None:
    extra = dict(fields)
    answered = await say(desk, LEARNER, extra.pop("text"), **extra)
    assert says in answered.text
    assert await desk.scalar("SELECT count(*) FROM tickets") == 0


async def test_a_20000_character_message_opens_a_ticket_with_a_short_summary(desk: Desk) -> None:
    words = "The checkout page shows error 500 after paying. " * 420
    asked = await say(desk, LEARNER, words[:20_000])
    assert "What kind of request" in asked.text
    for answer in ("incident", "Checkout", "No one can pay", "Pay by card", "today", "P2"):
        await say(desk, LEARNER, answer)
    done = await say(desk, LEARNER, "confirm")
    assert "SR-1" in done.text
    assert len(await desk.ticket("SR-1", "summary")) <= 200
    assert len(await desk.ticket("SR-1", "description")) == 4000


async def test_help_and_greeting_say_what_can_be_said(desk: Desk) -> None:
    helped = await say(desk, LEARNER, "help")
    greeted = await say(desk, LEARNER, "hallo")
    assert "my tickets" in helped.text and "status SR-1" in helped.text
    assert "/help" not in helped.text  # the desk's commands are not hers
    assert "Lena Learner" in greeted.text
    desk_help = await say(desk, ALEX, "help")
    assert "/help" in desk_help.text
