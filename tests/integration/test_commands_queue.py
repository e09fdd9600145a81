"""/queue and /sla over /api/messages: risk order, filters, and deadlines in the reader's zone."""

from __future__ import annotations

from tests.conftest import ALEX, LEARNER
from tests.integration.desk import SAM, desk_fixture  # noqa: F401 - the fixture


async def three_tickets(desk) -> None:
    """SR-1 is P3 (48 h to respond), SR-2 P2 (24 h), SR-3 P1 (4 h), all opened at T0."""
    for priority in ("P3", "P2", "P1"):
        await desk.open(f"Trouble at {priority}", priority=priority)


def keys(answer: str) -> list[str]:
    return [line.split(" · ")[0].removeprefix("- ") for line in answer.splitlines()[1:]]


async def test_the_queue_puts_the_nearest_deadline_first(desk):
    await three_tickets(desk)

    answer = await desk.say(ALEX, "/queue", channel="agents")

    assert answer.splitlines()[0] == "Open tickets, most at risk first (Europe/Berlin):"
    assert keys(answer) == ["SR-3", "SR-2", "SR-1"]
    assert (
        "- SR-3 · P1 · new · unassigned: first response due Mon 23 Nov 13:00 (4 hr left)"
        " · Trouble at P1" in answer
    )


async def test_the_queue_filters_mine_unassigned_and_breaching(desk):
    await three_tickets(desk)
    await desk.say(ALEX, "/assign SR-2 me")

    assert keys(await desk.say(ALEX, "/queue unassigned")) == ["SR-3", "SR-1"]
    assert keys(await desk.say(ALEX, "/queue MINE")) == ["SR-2"]
    assert await desk.say(ALEX, "/queue breaching") == "No open ticket is past a deadline."
    desk.clock.advance(hours=5)
    breaching = await desk.say(ALEX, "/queue breaching")
    assert keys(breaching) == ["SR-3"]
    assert "(1 hr overdue)" in breaching


async def test_a_paused_ticket_goes_last_and_an_empty_queue_says_so(desk):
    assert await desk.say(ALEX, "/queue", channel="agents") == "No open tickets. Enjoy the quiet."
    assert await desk.say(ALEX, "/queue mine") == "You own no open tickets."
    await three_tickets(desk)
    await desk.say(ALEX, "/ask SR-3 Which browser?")

    answer = await desk.say(ALEX, "/queue")

    assert keys(answer) == ["SR-2", "SR-1", "SR-3"]
    assert "waiting for the customer, clock paused" in answer.splitlines()[-1]


async def test_the_queue_is_shown_in_the_readers_time_zone(desk):
    await three_tickets(desk)

    answer = await desk.say(SAM, "/queue")

    assert "(America/New_York)" in answer.splitlines()[0]
    assert "first response due Mon 23 Nov 07:00" in answer


async def test_in_a_channel_the_queue_and_sla_speak_of_the_organisations_clock(desk):
    # Sam sits in New York, but the cards in the agents' channel are in Berlin time: one clock
    # per place.
    await three_tickets(desk)

    queue = await desk.say(SAM, "/queue", channel="agents")
    sla = await desk.say(SAM, "/sla SR-1", channel="agents")

    assert "(Europe/Berlin)" in queue.splitlines()[0]
    assert "first response due Mon 23 Nov 13:00" in queue
    assert "(times in Europe/Berlin)" in sla.splitlines()[0]


async def test_sla_shows_deadlines_time_left_and_no_pause(desk):
    key = await desk.open()

    answer = await desk.say(ALEX, f"/sla {key}", channel="agents")

    assert answer.splitlines() == [
        "SR-1 · P3 · new · unassigned (times in Europe/Berlin)",
        "First response: due Wed 25 Nov 2026, 09:00, 2 days left",
        "Resolution: due Mon 30 Nov 2026, 09:00, 45 hr of working time left",
        "Paused: not at all",
    ]


async def test_sla_in_another_zone_and_while_paused(desk):
    key = await desk.open()
    await desk.say(ALEX, f"/ack {key}")
    await desk.say(ALEX, f"/ask {key} Which browser?")
    desk.clock.advance(hours=2)

    answer = await desk.say(SAM, f"/sla {key}")

    lines = answer.splitlines()
    assert lines[0] == "SR-1 · P3 · waiting_for_customer · Alex Agent (times in America/New_York)"
    assert lines[1] == "First response: given Mon 23 Nov 2026, 03:00, on time"
    # Two working hours of waiting move the deadline on by as much: the time left stays.
    assert lines[2] == (
        "Resolution: due Mon 30 Nov 2026, 05:00, 45 hr of working time left if the customer "
        "answered now; the clock is paused"
    )
    assert lines[3] == (
        "Paused: 2 hr so far, waiting for the customer since Mon 23 Nov 2026, 03:00"
    )


async def test_sla_says_how_late_a_first_response_was(desk):
    key = await desk.open()
    desk.clock.advance(hours=50)
    await desk.say(ALEX, f"/ack {key}")

    answer = await desk.say(ALEX, f"/sla {key}")

    assert "First response: given Wed 25 Nov 2026, 11:00, 2 hr late" in answer


async def test_queue_and_sla_are_for_the_desk(desk):
    key = await desk.open()

    assert (await desk.say(LEARNER, "/queue")).startswith("Sorry, that is for the service desk")
    assert (await desk.say(LEARNER, f"/sla {key}")).startswith(
        "Sorry, that is for the service desk"
    )
    assert "invalid choice: 'everything'" in await desk.say(ALEX, "/queue everything")
    assert "Usage: /sla key" in await desk.say(ALEX, "/sla")
