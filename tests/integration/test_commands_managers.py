"""/report, /whois and /outage over /api/messages: for managers, in their words and zone."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pypdf

from bot.demo.activities import channel_message, personal_conversation_id
from bot.tickets.models import CsatSurvey
from tests.conftest import ALEX, DANIELLE, LEARNER
from tests.integration.desk import (
    LENA_CHAT,
    MANAGEMENT,
    SAM,
    T0,
    desk_fixture,  # noqa: F401 - the fixture
    fallback,
    mention,
)
from tests.integration.management import walk


async def answered_survey(desk, key: str, score: int) -> None:
    async with desk.database.transaction() as session:
        session.add(
            CsatSurvey(
                ticket_id=await desk.ticket(key, "id"),
                status="answered",
                due_at=T0 + timedelta(hours=3),
                answered_at=T0 + timedelta(hours=3),
                score=score,
            )
        )


async def report_card(desk, user, words: str, channel: str | None = None) -> dict:
    """The card a /report answers with (the answer's summary is what notifications show)."""
    conversation = MANAGEMENT if channel else personal_conversation_id(user)
    before = len(desk.replies(conversation))
    summary = await desk.say(user, words, channel=channel)
    assert summary == ""  # a card, not a paragraph of text
    answer = desk.replies(conversation)[before].body
    assert answer["summary"]
    cards = [a["content"] for a in answer.get("attachments") or []]
    assert len(cards) == 1 and cards[0]["type"] == "AdaptiveCard"
    return cards[0]


def lines(card: dict) -> str:
    return card["fallbackText"]


async def test_the_report_is_a_card_like_the_weekly_report(desk):
    await desk.open(priority="P3")
    await desk.open("Payment down", priority="P1")
    desk.clock.advance(hours=1)
    await desk.say(ALEX, "/ack SR-1")
    desk.clock.advance(hours=1)
    await desk.say(ALEX, "/resolve SR-1 Cleared the cache")
    await answered_survey(desk, "SR-1", score=2)
    desk.clock.advance(hours=3)  # SR-2 is now an hour past its 4 h first response

    card = await report_card(desk, DANIELLE, "/report week", channel="management")

    text = lines(card)
    assert text.splitlines()[:3] == [
        "Service-level report",
        "The last 7 days: Mon 16 Nov 2026 to Mon 23 Nov 2026",
        "1 of 3 service levels met · 2 tickets opened",
    ]
    # SR-2 (P1) answered nobody within its 4 h; both resolutions are still in time.
    assert (
        "First response (Target: within 48 hr · on average 1 hr): 1 of 2 on time (50 %) – ✘ Missed"
        in text
    )
    assert "Resolution (Target: within 5 working days · on average 2 hr): 2 of 2" in text
    # SR-1 was rated 2: below the target of 3.
    assert "Satisfaction (Target: at least 3.0 of 4): 2.0 of 4 from one answer – ✘ Missed" in text
    assert "Tickets by type: Incident 2" in text
    assert "Closed but not solved: 1 (reopened 0, rated low 1)" in text
    assert "Resolved on first contact: 1 of 1 resolved" in text
    assert "Figures as of Mon 23 Nov 2026, 14:00" in str(card)  # the organisation's clock


async def test_a_german_manager_reads_the_ticket_types_in_german(desk):
    await desk.open(type="incident")
    await desk.open("Bitte ein Konto anlegen", type="service request")
    await desk.open("Rabattcodes fehlen", type="feature")
    desk.clock.advance(hours=1)

    card = await report_card(desk, replace(DANIELLE, locale="de-DE"), "/report week")

    # As the catalogue names them in German; the entries are stored as esmbot.toml names them.
    facts = {
        fact["title"]: fact["value"]
        for item in walk(card["body"])
        for fact in item.get("facts", [])
    }
    assert {"Störung", "Serviceanfrage", "Funktionswunsch"} <= set(facts)
    assert "incident" not in facts and "service request" not in facts
    assert "Tickets nach Art: " in lines(card)
    assert "Störung 1" in lines(card) and "Serviceanfrage 1" in lines(card)


async def test_a_quiet_day_and_the_wrong_people(desk):
    today = await report_card(desk, DANIELLE, "/report today")

    assert lines(today).splitlines()[:3] == [
        "Service-level report",
        "Today, Mon 23 Nov 2026",
        "Nothing to judge: no tickets and no survey answers · 0 tickets opened",
    ]
    assert await desk.say(ALEX, "/report", channel="agents") == (
        "Sorry, /report is only for managers. Nothing was changed."
    )
    assert await desk.say(LEARNER, "/whois me") == (
        "Sorry, /whois is only for managers. Nothing was changed."
    )
    assert await desk.say(DANIELLE, "/report year") == (
        "year is not a period: write today, week, month, or the days as 2026-11-02..2026-11-04."
    )
    assert await desk.say(DANIELLE, "/report 2026-11-23..2026-11-20") == (
        "The period ends (2026-11-20) before it begins (2026-11-23)."
    )


async def test_whois_reads_roles_from_the_configuration_only(desk):
    typed = channel_message(
        DANIELLE, "/whois <at>Sam Agent</at>", desk.connector.url, channel="management"
    )

    assert await desk.post(mention(typed, SAM)) == "Sam Agent (sam@esmos.example): agents."
    assert await desk.say(DANIELLE, "/whois me") == (
        "Danielle CTO (danielle@esmos.example): managers."
    )
    assert await desk.say(DANIELLE, f"/whois {LEARNER.email}") == (
        "Lena Learner (lena.learner@esmos.example) holds no role in esmbot.toml: a customer."
    )
    assert "I don't know nobody@esmos.example yet" in await desk.say(
        DANIELLE, "/whois nobody@esmos.example"
    )
    assert "Usage: /whois @person" in await desk.say(DANIELLE, "/whois")


async def test_an_outage_reaches_every_customer_and_the_management_channel(desk):
    lena, management = len(desk.cards(LENA_CHAT)), len(desk.cards(MANAGEMENT))

    answer = await desk.say(DANIELLE, "/outage 2026-12-01 22:00 2h Checkout maintenance")

    assert answer == (
        "Planned outage announced (Tue 1 Dec 2026, 22:00 (Europe/Berlin), 2 hr). 1 customer will "
        "hear of it at the pace Teams allows; the management channel gets a notice."
    )
    card = (await desk.new_cards(LENA_CHAT, 1, after=lena))[0]
    assert "OpenCart" in fallback(card)
    assert (await desk.new_cards(MANAGEMENT, 1, after=management))[0]


async def test_an_outage_that_cannot_be_read_announces_nothing(desk):
    lena = len(desk.cards(LENA_CHAT))

    assert "I can't read tomorrow 22:00" in await desk.say(DANIELLE, "/outage tomorrow 22:00 2h x")
    assert "'soon' is not a duration" in await desk.say(DANIELLE, "/outage 2026-12-01 22:00 soon x")
    assert "over already" in await desk.say(DANIELLE, "/outage 2020-01-01 22:00 2h Old news")
    assert "Usage: /outage date time duration text" in await desk.say(DANIELLE, "/outage")
    assert (await desk.say(ALEX, "/outage 2026-12-01 22:00 2h x")).endswith("Nothing was changed.")

    await desk.quiet()
    assert len(desk.cards(LENA_CHAT)) == lena
    assert await desk.scalar("SELECT count(*) FROM outbox WHERE broadcast_id IS NOT NULL") == 0


def pdf_link(card: dict) -> str:
    (url,) = [a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    return url


async def test_a_range_of_days_answers_with_a_card_and_a_pdf_link_that_expires(desk):
    await desk.open(priority="P3")
    desk.clock.advance(hours=1)
    await desk.say(ALEX, "/ack SR-1")

    card = await report_card(
        desk, replace(DANIELLE, locale="de-DE"), "/report 2026-11-20..2026-11-23",
        channel="management",
    )  # fmt: skip

    assert lines(card).splitlines()[1] == "Fr., 20.11.2026 bis Mo., 23.11.2026"
    url = urlsplit(pdf_link(card))
    assert (url.path, parse_qs(url.query)["from"], parse_qs(url.query)["lang"]) == (
        "/reports/pdf", ["2026-11-20"], ["de"],
    )  # fmt: skip
    response = await desk.client.get(f"{url.path}?{url.query}")
    assert (response.status, response.content_type) == (200, "application/pdf")
    pages = pypdf.PdfReader(io.BytesIO(await response.read())).pages
    assert len(pages) <= 2
    assert "Bericht über die Servicelevels" in pages[0].extract_text()
    # Another period under the same signature is not esmbot's link.
    forged = url.query.replace("from=2026-11-20", "from=2026-11-01")
    assert (await desk.client.get(f"{url.path}?{forged}")).status == 403
    desk.clock.advance(minutes=15)
    expired = await desk.client.get(f"{url.path}?{url.query}")
    assert expired.status == 410
    assert "expired" in (await expired.json())["error"]
