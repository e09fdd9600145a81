"""The report's PDF: at most two A4 pages, its text extractable, charts and the CTQ tree on it, in
the reader's language; JSON and CSV carry the same figures."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import timedelta

import pypdf

from bot.app import TEMPLATES
from bot.notify.render import Renderer
from bot.notify.views import Reader
from bot.reports.export import as_csv, as_data
from bot.reports.figures import StatusMove
from bot.reports.pdf import render_pdf
from bot.reports.trends import report
from tests.unit.report_history import (
    BERLIN,
    END,
    MOVES,
    NOW,
    ORGANISATION,
    START,
    SURVEYS,
    TICKETS,
)

RENDERER = Renderer(TEMPLATES, "en", BERLIN)
REPORT = report(TICKETS, MOVES, SURVEYS, start=START, end=END, now=NOW, organisation=ORGANISATION)


def pages(data: bytes) -> list[str]:
    document = pypdf.PdfReader(io.BytesIO(data))
    return [page.extract_text() for page in document.pages]


def pdf_for(language: str, made=REPORT) -> list[str]:
    words = RENDERER.phrases(Reader(locale=language))
    return pages(render_pdf(made, words=words, organisation=ORGANISATION, now=NOW))


def test_two_pages_with_verdicts_figures_analysis_charts_and_the_ctq_tree():
    first, second = pdf_for("en-US")
    assert "Service-level monitoring report" in first
    assert "missed by 40 points" in first  # first response: 60 % on time
    assert "met (3.00 of 4)" in first  # CSAT on its target
    assert "The largest cause of missed deadlines is First response: 2 of 4." in first
    assert "SR-4: First response, 20.0 h late" in first
    for chart in ("Tickets per type per day", "Mean hours in each stage", "CSAT answers by score"):
        assert chart in second
    # The tree: the three complaints, their drivers and each leaf against its target.
    for node in ("IT cannot solve the problem", "It takes too long", "There are too many tickets",
                 "Solved the first time", "Quick resolution"):  # fmt: skip
        assert node in second
    assert "33 % (target >= 60 %)" in second  # first-contact resolution
    assert "2.0 (target <= 3.0)" in second  # interactions per ticket


def test_a_german_reader_gets_german_with_umlauts():
    first, second = pdf_for("de-DE")
    assert "Bericht über die Servicelevels" in first
    assert "Geschlossen, aber nicht gelöst" in first
    assert "um 40 Prozentpunkte verfehlt" in first
    assert "Mo., 02.11.2026" in first  # the day in German, in Berlin
    assert "Die IT kann das Problem nicht lösen" in second
    assert "Zeit bis zum Schließen (Median)" in second


def test_a_busy_month_still_fits_on_two_pages():
    many = tuple(
        replace(ticket, id=1000 + n, key=f"SR-{1000 + n}", type=f"type {n % 11}",
                created_at=ticket.created_at + timedelta(minutes=n))
        for n, ticket in enumerate(TICKETS * 40)
    )  # fmt: skip
    moves = MOVES + tuple(StatusMove(t.id, t.created_at, "acknowledged") for t in many)
    start = START - timedelta(days=27)
    made = report(many, moves, SURVEYS, start=start, end=END, now=NOW, organisation=ORGANISATION)

    assert len(pdf_for("en", made)) == 2
    assert len(made.current.breaches) > 6  # more than the page lists: it says how many more


def test_json_and_csv_carry_the_same_figures():
    data = json.loads(json.dumps(as_data(REPORT)))
    assert data["current"]["created"]["by_type"] == {"incident": 3, "bug": 1, "service request": 1}
    assert data["current"]["stage_hours"]["new"] == 6.4
    assert data["current"]["time_to_close_hours"]["working"] == {
        "count": 3, "median_hours": 9.0, "p90_hours": 14.0,
    }  # fmt: skip
    assert data["changes"][0] == {
        "figure": "created", "now": 5, "before": 2, "direction": "up", "better": None,
    }  # fmt: skip
    assert len(data["weeks"]) == 12
    rows = dict(csv.reader(io.StringIO(as_csv(REPORT))))
    assert rows["current.csat.distribution.2"] == "1"
    assert rows["current.service_levels.0.percent_on_time"] == "60"
    assert rows["previous.created.total"] == "2"
