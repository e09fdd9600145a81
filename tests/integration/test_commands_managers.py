"""/report, /whois and /outage over /api/messages: for managers, in their words and zone."""

from __future__ import annotations

from datetime import timedelta

from bot.demo.activities import channel_message
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


async def test_the_weekly_report_counts_times_breaches_and_csat(desk):
    await desk.open(priority="P3")
    await desk.open("Payment down", priority="P1")
    desk.clock.advance(hours=1)
    await desk.say(ALEX, "/ack SR-1")
    desk.clock.advance(hours=1)
    await desk.say(ALEX, "/resolve SR-1 Cleared the cache")
    await answered_survey(desk, "SR-1", score=2)
    desk.clock.advance(hours=3)  # SR-2 is now an hour past its 4 h first response

    answer = await desk.say(DANIELLE, "/report week", channel="management")

    assert answer.splitlines() == [
        "Report for the last 7 days (since Mon 16 Nov 14:00, Europe/Berlin): 2 tickets opened.",
        "By type: incident 2",
        "By priority: P1 1, P3 1",
        "By status now: new 1, resolved 1",
        "By owner: Alex Agent 1, unassigned 1",
        "Mean time to first response: 1 h (1 answered)",
        "Mean time to resolve: 2 h (1 resolved)",
        "Within SLA: 50 % (1 ticket breached: first response 1)",
        # SR-2 (P1) answered nobody within its 4 h; both resolutions are still in time.
        "Targets: first response within 48 hours missed (1 of 2 late), resolution within "
        "5 working days met, vendor escalation within 24 hours not measured",
        "Reopened: 0",
        # SR-1: acknowledged and resolved, nothing else said; then rated 2, which counts as low.
        "Resolved on first contact: 1 of 1 resolved",
        "Closed but not solved: 1 (reopened 0, rated low 1)",
        "Interactions per ticket: 1.0",  # SR-1's two, SR-2's none
        "Satisfaction: 2.0 of 4 from 1 answer, below target (3)",
    ]


async def test_a_quiet_day_and_the_wrong_people(desk):
    today = await desk.say(DANIELLE, "/report today")

    assert today.splitlines() == [
        "Report for today (since Mon 23 Nov 00:00, Europe/Berlin): 0 tickets opened.",
        "Satisfaction: no survey answers in this period.",
    ]
    assert await desk.say(ALEX, "/report", channel="agents") == (
        "Sorry, /report is only for managers. Nothing was changed."
    )
    assert await desk.say(LEARNER, "/whois me") == (
        "Sorry, /whois is only for managers. Nothing was changed."
    )
    assert "invalid choice: 'year'" in await desk.say(DANIELLE, "/report year")


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
        "Planned outage announced (Tue 01 Dec 2026, 22:00 CET, 2 h). 1 customer will hear of it "
        "at the pace Teams allows; the management channel gets a notice."
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
