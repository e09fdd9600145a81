"""A desk member whose Teams speaks German gets the commands' answers in German, over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.demo.activities import channel_conversation_id, installation_update, personal_message
from tests.conftest import KIM, TeamsUser
from tests.integration.desk import desk_fixture  # noqa: F401 - the fixture

# Alex and Danielle as the desk knows them, writing from a Teams client set to German.
ALEX_DE = TeamsUser.named("Alex Agent", "alex@esmos.example", locale="de-DE")
DANIELLE_DE = TeamsUser.named("Danielle CTO", "danielle@esmos.example", locale="de-DE")


async def test_the_queue_is_german_with_german_dates_and_durations(desk):
    for priority in ("P3", "P1"):
        await desk.open(f"Trouble at {priority}", priority=priority)

    answer = await desk.say(ALEX_DE, "/queue", channel="agents")

    assert answer.splitlines() == [
        "Offene Tickets, die gefährdetsten zuerst (Europe/Berlin):",
        "- SR-2 · P1 · new · nicht zugewiesen: Erste Reaktion fällig Mo. 23. Nov., 13:00"
        " (noch 4 Std.) · Trouble at P1",
        "- SR-1 · P3 · new · nicht zugewiesen: Erste Reaktion fällig Mi. 25. Nov., 09:00"
        " (noch 2 Tg.) · Trouble at P3",
    ]
    assert await desk.say(ALEX_DE, "/queue breaching") == (
        "Kein offenes Ticket hat eine Frist überschritten."
    )


async def test_sla_writes_german_dates(desk):
    key = await desk.open()

    answer = await desk.say(ALEX_DE, f"/sla {key}", channel="agents")

    assert answer.splitlines() == [
        "SR-1 · P3 · new · nicht zugewiesen (Zeiten in Europe/Berlin)",
        "Erste Reaktion: fällig Mi., 25.11.2026, 09:00, noch 2 Tg.",
        "Lösung: fällig Mo., 30.11.2026, 09:00, noch 45 Std. Arbeitszeit",
        "Angehalten: gar nicht",
    ]


async def test_subscribe_and_unsubscribe_answer_a_german_manager_in_german(desk):
    assert await desk.say(DANIELLE_DE, "/subscribe vendor", channel="vendor") == (
        "Dieser Kanal empfängt jetzt die Nachrichten für vendor: Eskalationen an den Hersteller "
        "und eine Erinnerung vor jeder Antwortfrist; der Hersteller antwortet hier mit "
        "/update <Schlüssel> <Antwort>."
    )
    assert await desk.say(DANIELLE_DE, "/unsubscribe", channel="vendor") == (
        "Dieser Kanal empfängt die Nachrichten für vendor nicht mehr."
    )
    assert await desk.say(DANIELLE_DE, "/unsubscribe", channel="vendor") == (
        "Dieser Kanal hat nichts abonniert."
    )


async def test_errors_and_refusals_are_german(desk):
    key = await desk.open()

    assert await desk.say(ALEX_DE, "/ack SR-9") == "Ich finde kein Ticket SR-9."
    assert await desk.say(ALEX_DE, f"/status {key} flying") == (
        "„flying“ passt nicht zu status (möglich: 'new', 'acknowledged', 'in_progress', "
        "'waiting_for_customer', 'waiting_for_vendor', 'resolved', 'closed', 'reopened', "
        "'cancelled')\nAufruf: /status key status"
    )
    assert await desk.say(ALEX_DE, "/ack") == "Es fehlen Angaben: key\nAufruf: /ack key"
    assert await desk.say(ALEX_DE, "/quee") == (
        "Den Befehl /quee kenne ich nicht. Meinten Sie /queue? Mit /help sehen Sie die Liste."
    )
    assert await desk.say(KIM, "/queue") == (
        "Das ist leider dem Service Desk vorbehalten: Nur Agenten und Manager können /queue "
        "verwenden. Es wurde nichts geändert."
    )
    await desk.say(ALEX_DE, f"/ack {key}")
    assert await desk.say(ALEX_DE, f"/ack {key}") == (
        f"{key} wurde schon angenommen und gehört Ihnen."
    )


async def test_an_outage_is_announced_with_a_german_date(desk):
    answer = await desk.say(DANIELLE_DE, "/outage 2026-12-01 22:00 2h Wartung des Checkouts")

    assert answer == (
        "Geplante Wartung angekündigt (Di., 01.12.2026, 22:00 (Europe/Berlin), 2 Std.). "
        "1 Kundin oder Kunde erfährt davon in dem Tempo, das Teams erlaubt; der "
        "Management-Kanal erhält einen Hinweis."
    )


async def test_a_team_is_welcomed_in_the_installers_language(desk):
    await desk.post(installation_update(DANIELLE_DE, desk.connector.url, channel="general"))

    welcome = desk.replies(channel_conversation_id("general"))[-1].text
    assert welcome.startswith("Hallo, ich bin ")
    assert "/subscribe agents, /subscribe vendor oder /subscribe management" in welcome


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_failed_turn_is_apologised_for_in_the_senders_language(desk):
    # Every turn first learns who wrote: without the people table it fails, as a broken
    # database would. (SQLite only: the renamed table must not outlive the test elsewhere.)
    await rename(desk, "people", "people_away")
    try:
        answer = await desk.post(personal_message(KIM, "Hallo", desk.connector.url))
    finally:
        await rename(desk, "people_away", "people")

    assert answer == (
        "Entschuldigung, bei uns ist etwas schiefgegangen. Bitte versuchen Sie es gleich noch "
        "einmal."
    )


async def rename(desk, table: str, to: str) -> None:
    async with desk.database.transaction() as session:
        await session.execute(text(f"ALTER TABLE {table} RENAME TO {to}"))
