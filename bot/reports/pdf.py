"""The two-page monitoring report of a period as a PDF, in the reader's words and time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_skeleton
from fpdf import FPDF

from bot.config import Organisation
from bot.notify.labels import MODULE, TYPE, label
from bot.notify.words import Phrases
from bot.reports import charts
from bot.reports.analysis import Finding, analyse
from bot.reports.charts import INK, latin
from bot.reports.ctq import ctq_tree
from bot.reports.figures import STAGES, Figures
from bot.reports.pdf_tree import draw_tree
from bot.reports.trends import Change, Report
from bot.tickets.durations import Duration

MARGIN = 12.0
WIDTH = 210.0 - 2 * MARGIN
LINE = 4.2
BREACHES_LISTED = 6
CHART_TYPES = 6  # ticket types the daily chart names; the others are one part of each bar
SHARES = frozenset({"within_sla", "not_solved", "first_contact", "csat_response_rate"})
HOURS = frozenset({"close_median_hours", "close_p90_hours"})


def render_pdf(
    report: Report, *, words: Phrases, organisation: Organisation, now: datetime
) -> bytes:
    """At most two A4 pages: verdicts, figures and analysis, then the charts and the CTQ tree."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)  # every block is placed; nothing spills onto a third page
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_title(latin(words.t("report.title")))
    pdf.add_page()
    y = _header(pdf, report, words, organisation, now)
    y = _verdicts(pdf, report.current, words, y + 3)
    y = _figures(pdf, report, words, y + 4)
    y = _analysis(pdf, report, words, y + 4)
    _breaches(pdf, report.current, words, y + 3)
    _footer(pdf, words, 1)
    pdf.add_page()
    _charts(pdf, report, words)
    pdf.set_xy(MARGIN, 128)
    _heading(pdf, words.t("report.ctq"))
    draw_tree(pdf, ctq_tree(report.current, report.previous), words, top=136.0, bottom=282.0)
    _footer(pdf, words, 2)
    return bytes(pdf.output())


def _header(
    pdf: FPDF, report: Report, words: Phrases, organisation: Organisation, now: datetime
) -> float:
    current, previous = report.current, report.previous
    pdf.set_text_color(*INK)
    pdf.set_font("helvetica", "B", 15)
    pdf.set_xy(MARGIN, MARGIN)
    pdf.cell(WIDTH, 7, latin(words.t("report.title")))
    pdf.set_font("helvetica", "", 9)
    pdf.set_xy(MARGIN, MARGIN + 8)
    pdf.cell(
        WIDTH,
        LINE,
        latin(words.t("report.covers", service=organisation.service, **_span(current, words))),
    )
    pdf.set_xy(MARGIN, MARGIN + 8 + LINE)
    pdf.set_font("helvetica", "", 7)
    pdf.cell(
        WIDTH, LINE, latin(words.t("report.made", when=words.when(now), **_span(previous, words)))
    )
    return MARGIN + 8 + 2 * LINE


def _span(figures: Figures, words: Phrases) -> dict[str, str]:
    return {
        "first": words.day(figures.start),
        "last": words.day(figures.end - timedelta(microseconds=1)),
    }


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("helvetica", "B", 10)
    pdf.set_text_color(*INK)
    pdf.cell(WIDTH, 5, latin(text), new_x="LMARGIN", new_y="NEXT")


def _row(
    pdf: FPDF, y: float, cells: list[str], widths: list[float], *, bold: bool = False
) -> float:
    pdf.set_font("helvetica", "B" if bold else "", 7.5)
    x = MARGIN
    for text, width in zip(cells, widths, strict=True):
        pdf.set_xy(x, y)
        pdf.cell(width, LINE, latin(text))
        x += width
    return y + LINE


def _verdicts(pdf: FPDF, current: Figures, words: Phrases, y: float) -> float:
    pdf.set_xy(MARGIN, y)
    _heading(pdf, words.t("report.verdicts"))
    widths = [44.0, 34.0, 26.0, 20.0, WIDTH - 124.0]
    y = _row(
        pdf,
        y + 5,
        [
            words.t(k)
            for k in (
                "report.level",
                "report.target",
                "report.on_time",
                "report.missed_count",
                "report.verdict",
            )
        ],
        widths,
        bold=True,
    )
    for check in current.levels.checks:
        percent = check.percent_on_time
        if check.met is None or percent is None:
            verdict, on_time = words.t("report.not_judged"), words.t("report.none")
        else:
            on_time = words.t("report.percent", n=words.number(percent))
            verdict = (
                words.t("report.met")
                if check.met
                else words.t("report.missed_by", points=words.number(100 - percent))
            )
        pdf.set_text_color(*_verdict_colour(check.met))
        y = _row(
            pdf,
            y,
            [
                words.t(f"sla.{check.name}"),
                target_text(check.target, words),
                on_time,
                words.number(check.missed),
                verdict,
            ],
            widths,
        )
    levels = current.levels
    average = levels.csat_average
    if average is None:
        verdict = words.t("report.not_judged")
    elif levels.csat_met:
        verdict = words.t("report.csat_met", average=words.number(average, 2))
    else:
        verdict = words.t(
            "report.csat_missed",
            gap=words.number(levels.csat_target - average, 2),
            average=words.number(average, 2),
        )
    pdf.set_text_color(*_verdict_colour(levels.csat_met))
    y = _row(
        pdf,
        y,
        [
            words.t("report.csat"),
            words.t("report.csat_target", target=words.number(levels.csat_target, 1)),
            words.number(current.csat.answers),
            "",
            verdict,
        ],
        widths,
    )
    pdf.set_text_color(*INK)
    return y


def target_text(target: Duration, words: Phrases) -> str:
    """A service level's target in the reader's words, as the weekly report says it."""
    unit = ("working_" if target.business else "") + target.unit
    return words.plural(f"management.weekly.target_unit.{unit}", target.amount)


def _verdict_colour(met: bool | None) -> tuple[int, int, int]:
    if met is None:
        return (110, 110, 110)
    return (20, 120, 40) if met else (190, 30, 30)


def value_text(name: str, value: float | None, words: Phrases) -> str:
    """A compared figure in the reader's numbers: shares as percentages, hours with a decimal."""
    if value is None:
        return words.t("report.none")
    if name in SHARES:
        return words.t("report.percent", n=words.number(value * 100, 0))
    if name in HOURS:
        return words.t("report.hours", n=words.number(value, 1))
    if name in ("interactions", "csat_average"):
        return words.number(value, 2)
    return words.number(value)


def _trend(change: Change, words: Phrases) -> str:
    moved = words.t(f"report.{change.direction}")
    if change.better is None:
        return moved
    return f"{moved} ({words.t('report.better' if change.better else 'report.worse')})"


def _figures(pdf: FPDF, report: Report, words: Phrases, y: float) -> float:
    pdf.set_xy(MARGIN, y)
    _heading(pdf, words.t("report.figures"))
    widths = [70.0, 32.0, 32.0, WIDTH - 134.0]
    y = _row(
        pdf,
        y + 5,
        [
            words.t(k)
            for k in (
                "report.figure_heading",
                "report.this_period",
                "report.previous",
                "report.trend",
            )
        ],
        widths,
        bold=True,
    )
    for change in report.changes:
        pdf.set_text_color(*_verdict_colour(change.better) if change.better is not None else INK)
        y = _row(
            pdf,
            y,
            [
                words.t(f"report.figure.{change.name}"),
                value_text(change.name, change.now, words),
                value_text(change.name, change.before, words),
                _trend(change, words),
            ],
            widths,
        )
    pdf.set_text_color(*INK)
    current, previous = report.current, report.previous
    y = _row(
        pdf,
        y,
        [
            words.t("report.figure.close_working"),
            _spread(current, words),
            _spread(previous, words),
            "",
        ],
        widths,
    )
    agents = ", ".join(f"{name} {count}" for name, count in list(current.kpis.by_owner.items())[:6])
    return _row(
        pdf,
        y,
        [words.t("report.figure.per_agent"), agents or words.t("report.none"), "", ""],
        [70.0, WIDTH - 70.0, 0.0, 0.0],
    )


def _spread(figures: Figures, words: Phrases) -> str:
    spread = figures.close_working
    if spread.median_hours is None or spread.p90_hours is None:
        return words.t("report.none")
    return f"{words.number(spread.median_hours, 1)} / {words.number(spread.p90_hours, 1)}"


def finding_text(finding: Finding, words: Phrases) -> str:
    """A finding in the reader's words: the names it carries said in them too."""
    params = dict(finding.params)
    if "level" in params:
        params["level"] = words.t(f"sla.{params['level']}")
    if "stage" in params:
        params["stage"] = words.t(f"report.stage.{params['stage']}")
    if "module" in params:
        params["module"] = label(words, MODULE, str(params["module"]))
    if "hours" in params:
        params["hours"] = words.number(float(str(params["hours"])), 1)
    if "figures" in params and isinstance(params["figures"], list):
        params["figures"] = words.listing(
            [words.t(f"report.figure.{name}") for name in params["figures"]]
        )
    return words.t(f"report.analysis.{finding.key}", **params)


def _analysis(pdf: FPDF, report: Report, words: Phrases, y: float) -> float:
    pdf.set_xy(MARGIN, y)
    _heading(pdf, words.t("report.analysis_heading"))
    pdf.set_font("helvetica", "", 8)
    for finding in analyse(report):
        pdf.set_x(MARGIN)
        pdf.multi_cell(
            WIDTH, LINE, latin("- " + finding_text(finding, words)), new_x="LMARGIN", new_y="NEXT"
        )
    return pdf.get_y()


def _breaches(pdf: FPDF, current: Figures, words: Phrases, y: float) -> None:
    if not current.breaches:
        return
    pdf.set_xy(MARGIN, y)
    _heading(pdf, words.t("report.breaches"))
    pdf.set_font("helvetica", "", 7.5)
    for breach in current.breaches[:BREACHES_LISTED]:
        line = words.t(
            "report.breach_line",
            key=breach.key,
            level=words.t(f"sla.{breach.level}"),
            late=words.number(breach.late_hours, 1),
        )
        pdf.cell(WIDTH, LINE, latin(line), new_x="LMARGIN", new_y="NEXT")
    left = len(current.breaches) - BREACHES_LISTED
    if left > 0:
        pdf.cell(
            WIDTH,
            LINE,
            latin(words.t("report.more_breaches", n=words.number(left))),
            new_x="LMARGIN",
            new_y="NEXT",
        )


def _charts(pdf: FPDF, report: Report, words: Phrases) -> None:
    current = report.current
    pdf.set_xy(MARGIN, MARGIN)
    _heading(pdf, words.t("report.charts"))
    half = (WIDTH - 8) / 2
    top, height = MARGIN + 7, 48.0
    days = [_short_day(day, words) for day, _ in current.daily]
    # The most frequent types by name, the rest together, so that the legend stays short.
    types = list(current.created.by_type)[:CHART_TYPES]
    series = [
        (label(words, TYPE, name), [float(counts.get(name, 0)) for _, counts in current.daily])
        for name in types
    ]
    rest = [
        float(sum(n for name, n in counts.items() if name not in types))
        for _, counts in current.daily
    ]
    if any(rest):
        series.append((words.t("management.weekly.more"), rest))
    charts.stacked_bars(
        pdf, (MARGIN, top, half, height), words.t("report.chart.per_day"), _thinned(days), series
    )
    weeks = [_short_day(week.start, words) for week in report.weeks]
    charts.line(
        pdf, (MARGIN + half + 8, top, half, height), words.t("report.chart.sla_weeks"), _thinned(weeks),
        [None if w.within_sla is None else w.within_sla * 100 for w in report.weeks], top=100.0,
    )  # fmt: skip
    second = top + height + 6
    charts.bars(
        pdf, (MARGIN, second, half, height), words.t("report.chart.stages"),
        [words.t(f"report.stage.{stage}") for stage in STAGES],
        [current.stage_hours[stage] for stage in STAGES],
    )  # fmt: skip
    charts.bars(
        pdf, (MARGIN + half + 8, second, half, height), words.t("report.chart.csat"),
        [str(score) for score in current.csat.distribution],
        [float(n) for n in current.csat.distribution.values()], counts=True,
    )  # fmt: skip


def _short_day(day: date, words: Phrases) -> str:
    """Day and month as the reader's language writes them in short (11/2, 2.11.)."""
    return str(format_skeleton("Md", day, locale=words.locale))


def _thinned(labels: list[str], most: int = 12) -> list[str]:
    """Every label while they fit, else every n-th, so that a long period stays readable."""
    step = max(1, -(-len(labels) // most))
    return [text if number % step == 0 else "" for number, text in enumerate(labels)]


def _footer(pdf: FPDF, words: Phrases, page: int) -> None:
    pdf.set_font("helvetica", "", 7)
    pdf.set_text_color(110, 110, 110)
    pdf.set_xy(MARGIN, 297 - MARGIN + 2)
    pdf.cell(WIDTH, 4, latin(words.t("report.page", n=page)), align="R")
    pdf.set_text_color(*INK)
