"""Small charts drawn with a PDF's own lines and rectangles: bars, stacked bars and a line."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from fpdf import FPDF

Colour = tuple[int, int, int]
PALETTE: tuple[Colour, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
)
GRID: Colour = (210, 210, 210)
INK: Colour = (40, 40, 40)
TITLE_HEIGHT = 5.0
AXIS_WIDTH = 8.0  # room for the value labels left of the plot
LABEL_HEIGHT = 6.0  # room for the category labels below it, in up to two lines
FEWEST_STEPS = 4.0  # a count's axis reaches at least 4, so its steps are whole numbers


def latin(text: str) -> str:
    """The text in the PDF core fonts' Latin-1 (umlauts and ß included); the few signs the
    words use beyond it are spelled out, anything else becomes a question mark."""
    for sign, spelled in (("–", "-"), ("—", "-"), ("≤", "<="), ("≥", ">="), ("…", "...")):
        text = text.replace(sign, spelled)
    return text.encode("latin-1", "replace").decode("latin-1")


def _title(pdf: FPDF, x: float, y: float, w: float, title: str) -> None:
    pdf.set_xy(x, y)
    pdf.set_font("helvetica", "B", 8)
    pdf.set_text_color(*INK)
    pdf.cell(w, TITLE_HEIGHT, latin(title))


def _scale_top(highest: float) -> float:
    """A round top for the value axis: 1, 2 or 5 times a power of ten, at least the highest."""
    if highest <= 0:
        return 1.0
    step = 1.0
    while step * 10 < highest:
        step *= 10
    while step > highest * 10:
        step /= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= highest:
            return step * factor
    return step * 10  # pragma: no cover


def _axis(pdf: FPDF, x: float, y: float, w: float, h: float, top: float, unit: str) -> None:
    pdf.set_font("helvetica", "", 6)
    pdf.set_draw_color(*GRID)
    pdf.set_line_width(0.1)
    for step in range(5):
        level = y + h - h * step / 4
        pdf.line(x, level, x + w, level)
        value = top * step / 4
        text = f"{value:.0f}" if top >= 4 else f"{value:.1f}"
        pdf.set_xy(x - AXIS_WIDTH, level - 1.5)
        pdf.cell(AXIS_WIDTH - 1, 3, latin(text + unit), align="R")


def _labels(pdf: FPDF, x: float, y: float, slot: float, labels: Sequence[str]) -> None:
    pdf.set_font("helvetica", "", 5.5)
    pdf.c_margin = 0.2  # the narrow slots of a long series need every millimetre
    for number, label in enumerate(labels):
        pdf.set_xy(x + slot * number, y + 0.5)
        pdf.multi_cell(slot, 2.4, latin(label), align="C", max_line_height=2.4)
    pdf.c_margin = 1.0


def stacked_bars(
    pdf: FPDF,
    box: tuple[float, float, float, float],
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
) -> None:
    """One bar per label, each series a coloured part of it, with a legend under the title."""
    x, y, w, h = box
    _title(pdf, x, y, w, title)
    legend_y = y + TITLE_HEIGHT
    pdf.set_font("helvetica", "", 6)
    cursor = x
    for number, (name, _) in enumerate(series):
        width = pdf.get_string_width(latin(name)) + 4
        if cursor + width + 2.5 > x + w and cursor > x:  # the legend wraps inside the box
            cursor, legend_y = x, legend_y + 3.5
        pdf.set_fill_color(*PALETTE[number % len(PALETTE)])
        pdf.rect(cursor, legend_y + 0.8, 2, 2, style="F")
        pdf.set_xy(cursor + 2.5, legend_y)
        pdf.cell(width, 3.5, latin(name))
        cursor += width + 2.5
    top_y = legend_y + 5
    plot_x, plot_w = x + AXIS_WIDTH, w - AXIS_WIDTH
    plot_h = y + h - top_y - LABEL_HEIGHT
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    top = max(FEWEST_STEPS, _scale_top(max(totals, default=0)))
    _axis(pdf, plot_x, top_y, plot_w, plot_h, top, "")
    slot = plot_w / max(1, len(labels))
    for i in range(len(labels)):
        base = top_y + plot_h
        for number, (_, values) in enumerate(series):
            height = plot_h * values[i] / top
            if height <= 0:
                continue
            pdf.set_fill_color(*PALETTE[number % len(PALETTE)])
            pdf.rect(plot_x + slot * i + slot * 0.2, base - height, slot * 0.6, height, style="F")
            base -= height
    _labels(pdf, plot_x, top_y + plot_h, slot, labels)


def line(
    pdf: FPDF,
    box: tuple[float, float, float, float],
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    top: float,
    unit: str = "",
) -> None:
    """A line through the values (a gap where one is None), on a fixed scale from 0 to `top`."""
    x, y, w, h = box
    _title(pdf, x, y, w, title)
    top_y = y + TITLE_HEIGHT + 2
    plot_x, plot_w = x + AXIS_WIDTH, w - AXIS_WIDTH
    plot_h = y + h - top_y - LABEL_HEIGHT
    _axis(pdf, plot_x, top_y, plot_w, plot_h, top, unit)
    slot = plot_w / max(1, len(values))
    points = [
        None if value is None else (plot_x + slot * (i + 0.5), top_y + plot_h * (1 - value / top))
        for i, value in enumerate(values)
    ]
    pdf.set_draw_color(*PALETTE[0])
    pdf.set_fill_color(*PALETTE[0])
    pdf.set_line_width(0.5)
    for here, after in itertools.pairwise(points):
        if here is not None and after is not None:
            pdf.line(*here, *after)
    for point in points:
        if point is not None:
            pdf.circle(x=point[0], y=point[1], radius=0.8, style="F")
    pdf.set_line_width(0.2)
    _labels(pdf, plot_x, top_y + plot_h, slot, labels)


def bars(
    pdf: FPDF,
    box: tuple[float, float, float, float],
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    counts: bool = False,
) -> None:
    """One bar per label, each in its own colour; `counts` keeps the axis's steps whole."""
    x, y, w, h = box
    _title(pdf, x, y, w, title)
    top_y = y + TITLE_HEIGHT + 2
    plot_x, plot_w = x + AXIS_WIDTH, w - AXIS_WIDTH
    plot_h = y + h - top_y - LABEL_HEIGHT
    top = _scale_top(max((v or 0 for v in values), default=0))
    if counts:
        top = max(FEWEST_STEPS, top)
    _axis(pdf, plot_x, top_y, plot_w, plot_h, top, "")
    slot = plot_w / max(1, len(values))
    for i, value in enumerate(values):
        height = plot_h * (value or 0) / top
        if height > 0:
            pdf.set_fill_color(*PALETTE[i % len(PALETTE)])
            pdf.rect(
                plot_x + slot * i + slot * 0.2,
                top_y + plot_h - height,
                slot * 0.6,
                height,
                style="F",
            )
    _labels(pdf, plot_x, top_y + plot_h, slot, labels)
