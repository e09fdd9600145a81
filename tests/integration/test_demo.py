"""`python -m bot demo` plays the scenes against the real bot and shows each stakeholder's messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAW = "What each stakeholder saw"


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
def saw(demo: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Each conversation's section of the summary: its heading, and its messages flattened."""
    output = demo.stdout
    assert SAW in output, output
    summary = output.split(SAW, 1)[1].split("\nPlayed ", 1)[0]
    sections: dict[str, str] = {}
    heading = None
    for line in summary.splitlines()[2:]:
        if line and not line.startswith(" "):
            heading = line
            sections[heading] = ""
        elif heading is not None:
            sections[heading] += line + "\n"
    return {name: _flat(body) for name, body in sections.items()}


def _section(saw: dict[str, str], starts: str) -> str:
    matches = [body for name, body in saw.items() if name.startswith(starts)]
    assert len(matches) == 1, f"one section {starts!r} expected, got {list(saw)}"
    return matches[0]


def test_the_demo_plays_every_scene_quietly_and_succeeds(demo):
    output = demo.stdout

    assert demo.returncode == 0, output + demo.stderr
    # Logging stays quiet: whatever the bot logs would bury the conversation.
    assert demo.stderr == ""
    assert "1. Setting up" in output
    assert "2. Customers meet esmbot" in output
    assert "Danielle in #management: /subscribe management" in output
    assert "Alex in #management: /subscribe management" in output
    assert "Ms. Learner in the 1:1 chat: checkout fails with an error" in output
    assert "Traceback" not in output and "The demo stopped" not in output


def test_alex_is_refused_in_the_management_channel(saw):
    management = _section(saw, "#management channel")

    assert "2. Sorry, /subscribe is only for managers. Nothing was changed." in management


def test_the_management_channel_confirms_its_binding(saw):
    management = _section(saw, "#management channel")

    assert "1. This channel now receives the management messages: SLA breach alerts" in management
    assert "agents messages" not in management and "vendor messages" not in management


def test_ms_learner_is_welcomed_in_her_chat_and_answered_there(saw):
    learner = _section(saw, "Ms. Learner (1:1 chat)")

    assert learner.startswith("1. Hello Lena Learner, I'm esmbot, the OpenCart service desk's")
    assert "2. I'm not sure what you mean." in learner
    assert "3. Here is what you can ask me: - /help [command]" in learner
    # A customer's help lists no manager commands.
    assert "/subscribe" not in learner


def test_each_channel_gets_only_its_own_messages(saw):
    channels = {name: body for name, body in saw.items() if name.startswith("#")}

    assert sorted(name.split()[0] for name in channels) == [
        "#agents",
        "#general",
        "#management",
        "#vendor",
    ]
    for name, body in channels.items():
        assert "Lena" not in body and "Kim" not in body, name
        assert "I'm not sure what you mean" not in body, name
    assert "agents messages" in _section(saw, "#agents channel")
    assert "vendor messages" in _section(saw, "#vendor channel")
    assert "Sorry" not in _section(saw, "#agents channel")


def test_kim_gets_her_own_welcome_and_nothing_else(saw):
    kim = _section(saw, "Kim (1:1 chat)")

    assert kim.startswith("1. Hello Kim Becker")
    assert "2. " not in kim
    assert not any(name.startswith(("Alex", "Sam", "Danielle")) for name in saw)
