"""The Makefile's targets for people: `make run` speaks first, `make playground` shows every side."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _recipe(target: str) -> tuple[str, str]:
    """The target's prerequisites line and its recipe."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:(.*)\n((?:\t.*\n|[ \t]*#.*\n)*)", text, re.MULTILINE)
    assert match, f"no {target} target"
    return match.group(1), match.group(2)


def test_make_run_lets_the_bots_own_line_come_first():
    prerequisites, recipe = _recipe("run")

    # serve migrates by itself; make echoing commands or a migration's output would come first.
    assert "migrate" not in prerequisites
    assert recipe.strip().startswith("@") and "-m bot serve" in recipe


def test_make_playground_serves_the_playground_organisation():
    _prerequisites, recipe = _recipe("playground")

    assert "ESMBOT_CONFIG=playground/esmbot.toml" in recipe
    assert (ROOT / "playground" / "esmbot.toml").is_file()


def test_make_test_runs_on_every_core_and_names_the_slowest_tests():
    _prerequisites, recipe = _recipe("test")

    assert "-m pytest -n $(TEST_WORKERS) --durations=15" in recipe
    assert re.search(r"^TEST_WORKERS \?= auto$", (ROOT / "Makefile").read_text(), re.MULTILINE)
