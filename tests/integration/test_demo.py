"""`python -m bot demo` plays the scenes against the real bot and shows each stakeholder's messages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAW = "What each stakeholder saw"
# A message of the summary starts with its number at the first indent; its lines go deeper.
MESSAGE = re.compile(r"^    (\d+)\. (.*)$")
DATE = r"\w{3} \d{1,2} \w{3} \d{4}, \d{2}:\d{2}"
REDRAWN = re.compile(r"^\[card, in place of (\d+)\.\] ")


def _flat(text: str) -> str:
    """The text with its line wrapping undone, so that a phrase can be found across lines."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    # As a newcomer runs it; its own process also keeps its event loop away from pytest-asyncio's.
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def played(demo: subprocess.CompletedProcess[str]) -> str:
    """The scenes as they were played, before the summary, flattened."""
    return _flat(demo.stdout.split(SAW, 1)[0])


@pytest.fixture(scope="module")
def saw(demo: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    """Each conversation's messages in the summary, flattened; message n is at index n - 1."""
    output = demo.stdout
    assert SAW in output, output
    summary = output.split(SAW, 1)[1].split("\nPlayed ", 1)[0]
    sections: dict[str, list[str]] = {}
    messages: list[str] | None = None
    for line in summary.splitlines()[2:]:
        if line and not line.startswith(" "):
            messages = sections[line] = []
        elif messages is not None and (start := MESSAGE.match(line)):
            assert int(start[1]) == len(messages) + 1, line
            messages.append(start[2])
        elif messages is not None and line.strip():
            messages[-1] += " " + line.strip()
    return {name: [_flat(message) for message in got] for name, got in sections.items()}


def _section(saw: dict[str, list[str]], starts: str) -> list[str]:
    matches = [messages for name, messages in saw.items() if name.startswith(starts)]
    assert len(matches) == 1, f"one section {starts!r} expected, got {list(saw)}"
    return matches[0]


def _versions(messages: list[str], summary: str) -> list[tuple[int, str]]:
    """Each version of the card with that summary: its number, and the lines under the summary."""
    pattern = re.compile(rf"\[card(?:, in place of \d+\.)?\] {re.escape(summary)}(?: (.*))?$")
    found = [
        (number, match[1] or "")
        for number, message in enumerate(messages, start=1)
        if (match := pattern.match(message))
    ]
    assert found, f"no card {summary!r} in {messages}"
    return found


def _card(messages: list[str], summary: str) -> str:
    """The lines of the last card (or version of a card) with that summary, as flattened text."""
    return _versions(messages, summary)[-1][1]


def _replaced(messages: list[str], summary: str) -> int:
    """Which message the card with that summary was drawn in place of."""
    number, _ = _versions(messages, summary)[-1]
    redrawn = REDRAWN.match(messages[number - 1])
    assert redrawn, f"{summary!r} was posted, not drawn in place of an earlier card"
    return int(redrawn[1])


def _number(messages: list[str], starts: str) -> int:
    numbers = [n for n, message in enumerate(messages, start=1) if message.startswith(starts)]
    assert len(numbers) == 1, f"one message {starts!r} expected in {messages}"
    return numbers[0]


def test_the_demo_plays_every_scene_quietly_and_succeeds(demo, played):
    output = demo.stdout

    assert demo.returncode == 0, output + demo.stderr
    # Logging stays quiet: whatever the bot logs would bury the conversation.
    assert demo.stderr == ""
    assert "1. Setting up" in output
    assert "2. Customers meet esmbot" in output
    assert "Danielle in #management: /subscribe management" in played
    assert "Alex in #management: /subscribe management" in played
    assert "Traceback" not in output and "The demo stopped" not in output


def test_alex_is_refused_in_the_management_channel(saw):
    management = _section(saw, "#management channel")

    assert management[1] == "Sorry, /subscribe is only for managers. Nothing was changed."


def test_the_management_channel_confirms_its_binding(saw):
    management = _section(saw, "#management channel")

    assert management[0].startswith(
        "This channel now receives the management messages: SLA breach alerts"
    )
    assert not any("agents messages" in m or "vendor messages" in m for m in management)


def test_ms_learner_is_welcomed_with_a_card_and_her_help_lists_no_desk_commands(saw):
    learner = _section(saw, "Ms. Learner (1:1 chat)")

    welcome = _card(learner, "Hello from esmbot")
    assert learner[0].startswith("[card] Hello from esmbot")
    assert "Hello Lena Learner! I'm esmbot. I help you describe a problem" in welcome
    assert welcome.endswith("[New ticket] [My tickets]")
    assert learner[1].startswith("Here's what I can do for you with OpenCart:")
    assert '"status SR-1"' in learner[1]
    assert not any("/subscribe" in message or "/help" in message for message in learner)


def test_kim_gets_her_own_welcome_in_german_and_nothing_else(saw):
    kim = _section(saw, "Kim (1:1 chat)")

    assert len(kim) == 1
    assert kim[0].startswith("[card] Hallo von esmbot")
    assert "Hallo Kim Becker!" in kim[0] and "[Neues Ticket] [Meine Tickets]" in kim[0]
    assert not any(name.startswith(("Alex", "Sam", "Danielle")) for name in saw)


def test_each_channel_gets_only_its_own_messages(saw):
    channels = sorted(name.split()[0] for name in saw if name.startswith("#"))
    agents = " ".join(_section(saw, "#agents channel"))

    assert channels == ["#agents", "#general", "#management", "#vendor"]
    assert "agents messages" in agents and "Sorry" not in agents
    assert "vendor messages" in " ".join(_section(saw, "#vendor channel"))


def test_what_customers_are_asked_and_told_in_their_chats_stays_there(saw):
    learner = " ".join(_section(saw, "Ms. Learner (1:1 chat)"))
    private = [
        "What kind of request is it?",
        "How does it affect your work?",
        "When did you first notice it?",
        "How urgent is it for you?",
        "Please check your ticket",
        "is with the service desk",
        "Here's what I can do for you",
        "Great – I've closed SR-1",
        "how did we do?",
        "Thanks for your rating",
    ]
    assert all(phrase in learner for phrase in private), learner

    for name, messages in saw.items():
        if not name.startswith("#"):
            continue
        body = " ".join(messages)
        for phrase in [*private, "today 9:30", "Kim", "Hallo"]:
            assert phrase not in body, (name, phrase)
        # Only the agents' card names the requester, and a low rating names who gave it.
        if name.startswith(("#general", "#vendor")):
            assert "Lena" not in body and "lena.learner" not in body, name
            assert "nobody told me why" not in body, name
        if name.startswith("#management"):
            naming = [m for m in messages if "Lena" in m]
            assert naming and all(m.startswith("[card] Low rating for SR-1") for m in naming)


def test_the_scenes_follow_the_stories_in_order(demo, played):
    titles = [
        "Customers meet esmbot",
        "Ms. Learner opens a ticket",
        "An agent responds",
        "Vendor escalation",
        "Resolution and satisfaction",
    ]

    at = [demo.stdout.find(f". {title}\n") for title in titles]
    assert -1 not in at and at == sorted(at), demo.stdout
    steps = [
        "Ms. Learner in the 1:1 chat: checkout fails with an error",
        'Ms. Learner presses "Incident" in the 1:1 chat',
        'Ms. Learner presses "Checkout" in the 1:1 chat',
        "Ms. Learner in the 1:1 chat: today 9:30",
        'Ms. Learner presses "P2 – High: important work is blocked, no workaround"',
        'Ms. Learner presses "Send to the service desk" in the 1:1 chat',
        "Alex in #agents: /ack SR-1",
        'Sam presses "Assign to me" on SR-1\'s card in #agents',
        "Alex in #agents: /escalate SR-1 vendor Payment module throws 500 on 4.0.2.3",
        "Alex in #agents: /resolve SR-1 Patched the payment module",
        'Ms. Learner presses "Solved" on SR-1\'s card in the 1:1 chat',
        "1 hour and 1 minute later esmbot's scheduler sweeps",
        'presses "Send rating" on SR-1\'s card in the 1:1 chat',
    ]
    found = [played.find(step) for step in steps]
    assert -1 not in found and found == sorted(found), list(zip(steps, found, strict=True))


# Story 1: Ms. Learner opens SR-1 in her chat.


def test_story_1_she_is_asked_one_question_at_a_time_with_answers_for_fixed_sets(saw):
    learner = _section(saw, "Ms. Learner (1:1 chat)")
    questions = [
        "[card] What kind of request is it?",
        "[card] Which part of OpenCart is affected?",
        "How does it affect your work?",
        "What did you do just before it happened?",
        "When did you first notice it?",
        "[card] How urgent is it for you?",
        "[card] Please check your ticket",
    ]

    asked = [_number(learner, question) for question in questions]
    # Each answer brings exactly the next question, and nothing comes in between.
    assert asked == list(range(asked[0], asked[0] + len(questions))), asked
    # Every answer is offered (a card's buttons would stop at six), in the reader's words.
    types = learner[asked[0] - 1]
    assert (
        "Incident / Bug / Service request" in types and "/ SLA request / Project request)" in types
    )
    modules = "Checkout / Payment / Catalog / Admin / Shipping / Customer accounts"
    assert f"{modules} / Something else)" in learner[asked[1] - 1]
    assert "/ P2 – High: important work is blocked, no workaround /" in learner[asked[5] - 1]


def test_story_1_the_summary_card_shows_her_answers_and_closes_once_sent(saw):
    learner = _section(saw, "Ms. Learner (1:1 chat)")

    draft = _card(learner, "Please check your ticket")
    for fact in (
        "Summary: checkout fails with an error",
        "Type: Incident",
        "Area affected: Checkout",
        "Impact: Customers cannot pay by card, so their orders are lost.",
        "Steps that led to the problem: Put a product in the cart, went to checkout",
        "Priority: P2 – High: important work is blocked, no workaround",
        "[Send to the service desk] [Change…] [Cancel]",
    ):
        assert fact in draft, fact
    # "today 9:30", read on the Monday morning the demo's clock starts at.
    assert re.search(r"First noticed: Mon \d{1,2} \w{3} \d{4}, 09:30 \(Europe/Berlin\)", draft)
    sent = _card(learner, "Sent as SR-1")
    assert _replaced(learner, "Sent as SR-1") == _number(learner, "[card] Please check your ticket")
    assert "The service desk has your ticket." in sent
    assert "Area affected: Checkout" in sent and "[Send to the service desk]" not in sent


def test_story_1_she_gets_the_key_and_when_she_will_hear_from_the_desk(saw):
    learner = _section(saw, "Ms. Learner (1:1 chat)")

    # P2 is answered within 24 h: Monday 10:00 in Berlin, so Tuesday 10:00, in her zone.
    tuesday = r"Tue \d{1,2} \w{3} \d{4}, 10:0\d \(Europe/Berlin\)"
    created = (
        r"Done – SR-1 is with the service desk: checkout fails with an error\. "
        r"I'll keep you posted in this chat\."
    )
    assert any(re.fullmatch(created, message) for message in learner), learner
    received = _versions(learner, "SR-1 received: checkout fails with an error")[0][1]
    assert re.search(rf"Your ticket number is SR-1\. You will hear from us by {tuesday}", received)


def test_story_1_the_agents_channel_gets_the_new_ticket_to_act_on(saw):
    agents = _section(saw, "#agents channel")

    card = _versions(agents, "New P2 ticket SR-1: checkout fails with an error")[0][1]
    for fact in (
        "Requester: Lena Learner",
        "Type: Incident",
        "Area affected: Checkout",
        "Impact Customers cannot pay by card, so their orders are lost.",
        "Steps that led to the problem Put a product in the cart, went to checkout",
        "[Acknowledge] [Assign to me]",
    ):
        assert fact in card, fact
    assert re.search(r"First noticed: Mon \d{1,2} \w{3} \d{4}, 09:30", card)


# Stories 2 and 4 on SR-1. Where a card is redrawn in place, the transcript lists each version,
# so a message that was later replaced still counts as seen.


def test_story_2_ms_learner_hears_that_alex_is_on_it_and_by_when(saw):
    learner = _section(saw, "Ms. Learner (1:1 chat)")
    told = _card(learner, "SR-1: we're working on it")

    assert "Alex Novak from the service desk is now taking care of your request." in told
    assert re.search(rf"We aim to solve it by {DATE}", told), told
    assert _replaced(learner, "SR-1: we're working on it") == _number(
        learner, "[card] SR-1 received"
    )
    assert (
        "SR-1 acknowledged and it is yours now. The requester hears that someone is on it."
        in _section(saw, "#agents channel")
    )


def test_story_2_a_late_press_on_the_card_says_who_has_it_and_redraws_the_card(saw):
    agents = _section(saw, "#agents channel")

    assert "SR-1 is already taken by Alex Novak." in agents
    versions = _versions(agents, "New P2 ticket SR-1: checkout fails with an error")
    assert len(versions) == 2
    redrawn = versions[-1][1]
    assert "Status: Acknowledged" in redrawn and "Who: Alex Novak" in redrawn
    assert "[Assign to me]" not in redrawn and "[Acknowledge]" not in redrawn


def test_story_4_the_vendor_gets_everything_it_needs_and_nothing_personal(saw):
    vendor = _section(saw, "#vendor channel")
    card = _card(vendor, "Escalation SR-1 (P2): checkout fails with an error")

    for fact in (
        "Ticket: SR-1",
        "checkout fails with an error",
        "Message from the service desk: > Payment module throws 500 on 4.0.2.3",
        "Area affected: Checkout",
        "Priority: P2",
        "Service desk contact: Alex Novak",
        "Impact Customers cannot pay by card, so their orders are lost.",
        "Steps that led to the problem Put a product in the cart, went to checkout",
        "Who: You (vendor support)",
    ):
        assert fact in card, fact
    assert re.search(f"First noticed: {DATE}", card), card
    # When the vendor must answer: a time once the desk sets one, else "as soon as you can".
    assert "Next step: Please respond " in card


def test_story_4_ms_learner_is_told_the_vendor_is_involved(saw):
    told = _card(_section(saw, "Ms. Learner (1:1 chat)"), "SR-1: the vendor is helping")

    assert "We've asked the vendor for help" in told
    assert "Solving this needs help from the makers of OpenCart." in told
    assert any(
        m.startswith("SR-1 escalated: the vendor's channel has the details")
        for m in _section(saw, "#agents channel")
    )


# Story 6: SR-1 is resolved, confirmed and rated.


def test_story_6_ms_learner_gets_the_resolution_and_confirms_it(saw):
    learner = _section(saw, "Ms. Learner (1:1 chat)")

    resolved = _card(learner, "SR-1 solved: checkout fails with an error")
    assert "Your request is solved" in resolved
    assert "What we did Patched the payment module" in resolved
    assert resolved.endswith("[Solved] [Still broken]")
    assert "Great – I've closed SR-1. Thanks for confirming!" in learner
    assert _replaced(learner, "SR-1: Thanks for confirming") == _number(
        learner, "[card] SR-1 solved"
    )
    assert any(m.startswith("SR-1 resolved.") for m in _section(saw, "#agents channel"))


def test_story_6_the_survey_comes_only_after_the_delay(saw, played):
    learner = _section(saw, "Ms. Learner (1:1 chat)")

    survey = _card(learner, "SR-1: how did we do?")
    assert "How did we do?" in survey and "Status: Closed" in survey
    assert (
        "(Your rating: 1 – Not satisfied / 2 – Partly satisfied / 3 – Satisfied / "
        "4 – Very satisfied)" in survey
    )
    assert survey.endswith("[Send rating]")
    # The sweep after the hour sends it; nothing before it does.
    swept = played.index("1 hour and 1 minute later esmbot's scheduler sweeps")
    assert played.find("[card] SR-1: how did we do?") > swept
    assert "[card] SR-1: how did we do?" not in played[:swept]


def test_story_6_her_rating_turns_the_survey_into_a_thank_you_in_place(saw):
    learner = _section(saw, "Ms. Learner (1:1 chat)")

    assert (
        "Thank you for your honest rating of SR-1. I've passed it on so that someone can look "
        "at what went wrong."
    ) in learner
    thanks = _card(learner, "SR-1: Thanks for your rating")
    assert "Your rating: 2 – Partly satisfied" in thanks
    assert _replaced(learner, "SR-1: Thanks for your rating") == _number(
        learner, "[card] SR-1: how did we do?"
    )


def test_story_6_a_low_rating_alerts_danielle(saw):
    management = _section(saw, "#management channel")

    alert = _card(management, "Low rating for SR-1: 2 out of 4")
    for fact in (
        "Low satisfaction rating",
        "Lena Learner rated the help with SR-1 2 out of 4.",
        "Their comment: > It works again, but nobody told me why.",
        "Owner: Alex Novak",
        "What was done Patched the payment module",
    ):
        assert fact in alert, fact


# What only a scene playing the story would show (in its steps or the bot's answers).
SIGNATURES = {
    1: "Ms. Learner in the 1:1 chat: checkout fails with an error",
    2: ": /ack SR-",
    3: ": /ask SR-",
    4: ": /escalate SR-",
    5: "A deadline is getting close",
    6: ": /resolve SR-",
    7: "Jira",
    8: "in the 1:1 chat: status SR-",
    9: ": /report",
    10: ": /outage",
    11: "Kim in the 1:1 chat:",
}


def test_the_header_names_exactly_the_stories_the_demo_plays(demo, played):
    from bot.demo.script import STORIES

    assert set(SIGNATURES) == set(STORIES)
    shown = {story for story, signature in SIGNATURES.items() if signature in played}
    title, rule, missing = demo.stdout.splitlines()[:3]

    named = re.fullmatch(r"esmbot demo: stories ([\d, and]+) of SCENARIOS.md, played .*", title)
    assert named, title
    assert set(rule) == {"="}
    assert {int(n) for n in re.findall(r"\d+", named[1])} == shown
    assert {int(n) for n in re.findall(r"\d+", missing)} == set(STORIES) - shown
    assert missing.startswith("Not played yet: stories ")
