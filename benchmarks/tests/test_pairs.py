"""The alternating-pairs runner: the order it runs in, the load it records, the medians it prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PAIRS = Path(__file__).resolve().parent.parent / "pairs.py"


def side(name: str, log: Path, figures: str) -> str:
    """A command that notes its side in `log` and prints the next of `figures` (one per run)."""
    code = (
        f"import json,pathlib; p=pathlib.Path({str(log)!r}); "
        f"n=p.read_text().count({name!r}) if p.exists() else 0; "
        f"p.open('a').write({name!r}); "
        f"print('noise first'); print(json.dumps({{'phases': [{{'rate': [{figures}][n]}}]}}))"
    )
    return f"{sys.executable} -c {code!r}"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PAIRS), *args], capture_output=True, text=True, timeout=60
    )


def test_runs_a_and_b_in_turn_and_prints_each_run_with_its_load_and_the_medians(tmp_path):
    log = tmp_path / "order"
    done = run(
        "--pairs", "3", "--figure", "phases.0.rate=turns/s", "--labels", "esmbot", "floor",
        "--a", side("A", log, "10, 30, 20"), "--b", side("B", log, "5, 4, 100"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert log.read_text() == "ABABAB"
    lines = done.stdout.splitlines()
    assert lines[0] == "| pair | side | started | load (1 min) | turns/s |"
    rows = [line.split("|")[1:-1] for line in lines[2:]]
    assert [(row[0].strip(), row[1].strip()) for row in rows[:6]] == [
        ("1", "esmbot"), ("1", "floor"), ("2", "esmbot"),
        ("2", "floor"), ("3", "esmbot"), ("3", "floor"),
    ]  # fmt: skip
    assert all(float(row[3]) >= 0 for row in rows[:6])  # the load average beside each run
    assert [cell.strip() for cell in rows[6]] == ["median", "esmbot", "", rows[6][3].strip(), "20"]
    assert [cell.strip() for cell in rows[7][::4]] == ["median", "5"]
    assert [cell.strip() for cell in rows[8]] == ["ratio", "esmbot / floor", "", "", "4.0"]


def test_a_figure_the_output_lacks_is_named_not_a_traceback(tmp_path):
    done = run(
        "--pairs", "1", "--figure", "phases.3.rate",
        "--a", side("A", tmp_path / "log", "1"), "--b", side("B", tmp_path / "log", "1"),
    )  # fmt: skip
    assert done.returncode != 0
    assert "no figure at 'phases.3.rate'" in done.stderr
    assert "Traceback" not in done.stderr


def test_kept_runs_are_tabulated_again_without_running_anything(tmp_path):
    log, kept = tmp_path / "order", tmp_path / "runs.json"
    first = run(
        "--pairs", "1", "--figure", "phases.0.rate", "--json", str(kept),
        "--a", side("A", log, "7"), "--b", side("B", log, "2"),
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    again = run("--runs", str(kept), "--figure", "phases.0.rate=rate")
    assert again.returncode == 0, again.stderr
    assert log.read_text() == "AB"  # nothing ran the second time
    assert again.stdout.splitlines()[-1].split("|")[-2].strip() == "3.5"
