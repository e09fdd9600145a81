"""`esmbot report` over a stored history: the JSON equals the hand-built figures, the PDF has two
pages, and a bad period is refused with a sentence, not a trace."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys

import pypdf

from bot.app import TEMPLATES
from bot.db import Database
from bot.reports.cli import main
from tests.integration.report_rows import store_history
from tests.integration.serving import ROOT, environment
from tests.unit.report_history import NOW, ORGANISATION

ARGS = ["--from", "2026-11-02", "--to", "2026-11-04"]
# The organisation of report_history.py, as an operator writes it.
CONFIG = """
[organisation]
time_zone = "Europe/Berlin"
[calendar]
working_hours = "08:00-17:00"
[sla.default]
first_response = "4h"
resolution = "2 working days"
vendor_escalation = "4h"
"""


async def _stored(url: str) -> None:
    database = Database(url)
    try:
        await store_history(database)
    finally:
        await database.close()


async def test_the_json_report_of_three_days_equals_the_hand_built_figures(settings, tmp_path):
    await _stored(settings.database_url)
    out = tmp_path / "report.json"

    # The command runs its own event loop, as it does from the shell: in a thread of its own.
    code = await asyncio.to_thread(
        main, settings, ORGANISATION, TEMPLATES, [*ARGS, "--format", "json", "--out", str(out)],
        clock=lambda: NOW,
    )  # fmt: skip

    assert code == 0
    data = json.loads(out.read_text())
    current = data["current"]
    assert current["created"]["total"] == 5
    assert current["created"]["by_priority"] == {"P2": 2, "P3": 2, "P1": 1}
    assert [level["percent_on_time"] for level in current["service_levels"]] == [60, 75, 0]
    assert current["breaches"][0] == {"key": "SR-4", "level": "first_response", "late_hours": 20.0}
    assert current["time_to_close_hours"]["calendar"]["p90_hours"] == 71.0
    assert current["stage_hours"] == {
        "new": 6.4, "in_progress": 14.5, "waiting_for_customer": 6.0, "waiting_for_vendor": 8.0,
    }  # fmt: skip
    assert current["csat"]["distribution"] == {"1": 0, "2": 1, "3": 1, "4": 1}
    assert current["per_agent"] == {"Alex": 2, "Sam": 2}
    assert data["previous"]["created"]["total"] == 2


async def test_the_command_line_writes_a_german_pdf_of_at_most_two_pages(tmp_path):
    env = environment(tmp_path, ESMBOT_CONFIG=str(tmp_path / "esmbot.toml"))
    (tmp_path / "esmbot.toml").write_text(CONFIG)
    await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", "db", "upgrade"], env=env, cwd=ROOT,
        check=True, capture_output=True,
    )  # fmt: skip
    await _stored(env["DATABASE_URL"])
    out = tmp_path / "report.pdf"

    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "report", *ARGS, "--format", "pdf", "--language", "de",
         "--out", str(out)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    pages = pypdf.PdfReader(io.BytesIO(out.read_bytes())).pages
    assert len(pages) <= 2
    assert "Bericht über die Servicelevels" in pages[0].extract_text()
    assert "CTQ-Baum" in pages[1].extract_text()


def test_a_period_that_ends_before_it_begins_is_refused_in_a_sentence(tmp_path):
    env = environment(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--from", "2026-11-04", "--to", "2026-11-02",
         "--out", str(tmp_path / "x.pdf")],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 2
    assert "the period ends (2026-11-02) before it begins (2026-11-04)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.pdf").exists()
