"""The CTQ tree drawn as a tree: the need, the complaints, their drivers and the measured leaves."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF

from bot.notify.labels import TYPE, label
from bot.notify.words import Phrases
from bot.reports.charts import INK, latin
from bot.reports.ctq import AT_LEAST, Complaint, Leaf

MARGIN = 12.0
# The columns: the need, the complaints, the drivers, the leaves (x and width, in mm).
COLUMNS = ((MARGIN, 30.0), (MARGIN + 36, 36.0), (MARGIN + 78, 34.0), (MARGIN + 118, 68.0))
LEAF_GAP = 3.0


def leaf_value(leaf: Leaf, value: float | None, words: Phrases) -> str:
    if value is None:
        return words.t("report.none")
    if leaf.unit == "percent":
        return words.t("report.percent", n=words.number(value * 100, 0))
    if leaf.unit == "hours":
        return words.t("report.hours", n=words.number(value, 1))
    return words.number(value, 1 if leaf.name == "interactions" else None)


def leaf_text(leaf: Leaf, words: Phrases) -> tuple[str, str]:
    """The leaf's name and its value against its target, in the reader's words."""
    params = dict(leaf.params or {})
    if "type" in params:
        params["type"] = label(words, TYPE, params["type"])
    name = words.t(f"report.tree.{leaf.name}", **params)
    bound = "report.tree.at_least" if leaf.name in AT_LEAST else "report.tree.at_most"
    target = words.t(bound, value=leaf_value(leaf, leaf.target, words))
    return name, words.t(
        "report.tree.leaf", value=leaf_value(leaf, leaf.value, words), target=target
    )


def _box(
    pdf: FPDF,
    x: float,
    y: float,
    w: float,
    h: float,
    lines: Sequence[str],
    fill: tuple[int, int, int],
) -> None:
    pdf.set_fill_color(*fill)
    pdf.set_draw_color(120, 120, 120)
    pdf.rect(x, y, w, h, style="DF")
    pdf.set_text_color(*INK)
    # Each text wraps inside the box; the box's text is centred on it as a whole.
    wrapped: list[list[str]] = []
    for number, text in enumerate(lines):
        pdf.set_font("helvetica", "B" if number == 0 else "", 6.5)
        parts = pdf.multi_cell(w - 2, 3.0, latin(text), dry_run=True, output="LINES")
        wrapped.append([str(part) for part in parts])  # type: ignore[union-attr]
    line_y = y + (h - 3.0 * sum(len(parts) for parts in wrapped)) / 2
    for number, parts in enumerate(wrapped):
        pdf.set_font("helvetica", "B" if number == 0 else "", 6.5)
        for part in parts:
            pdf.set_xy(x + 1, line_y)
            pdf.cell(w - 2, 3.0, part)
            line_y += 3.0


def _link(pdf: FPDF, start: tuple[float, float], end: tuple[float, float]) -> None:
    """An elbow from the right edge of a parent to the left edge of a child."""
    middle = (start[0] + end[0]) / 2
    pdf.set_draw_color(90, 90, 90)
    pdf.line(start[0], start[1], middle, start[1])
    pdf.line(middle, start[1], middle, end[1])
    pdf.line(middle, end[1], end[0], end[1])


def _colour(met: bool | None) -> tuple[int, int, int]:
    if met is None:
        return (235, 235, 235)
    return (214, 240, 214) if met else (248, 214, 214)


def draw_tree(
    pdf: FPDF, tree: Sequence[Complaint], words: Phrases, *, top: float, bottom: float
) -> None:
    """Each leaf on a row of its own; a driver centred on its leaves, a complaint on its drivers."""
    leaves = sum(len(driver.leaves) for complaint in tree for driver in complaint.drivers)
    row = (bottom - top) / max(1, leaves)
    height = min(11.0, row - LEAF_GAP)
    (need_x, need_w), (cx, cw), (dx, dw), (lx, lw) = COLUMNS
    y = top
    complaint_centres = []
    for complaint in tree:
        driver_centres = []
        for driver in complaint.drivers:
            leaf_centres = []
            for leaf in driver.leaves:
                _box(pdf, lx, y, lw, height, leaf_text(leaf, words), _colour(leaf.met))
                leaf_centres.append(y + height / 2)
                y += row
            centre = sum(leaf_centres) / len(leaf_centres)
            _box(
                pdf,
                dx,
                centre - height / 2,
                dw,
                height,
                [words.t(f"report.tree.{driver.name}")],
                (232, 240, 250),
            )
            for leaf_y in leaf_centres:
                _link(pdf, (dx + dw, centre), (lx, leaf_y))
            driver_centres.append(centre)
        centre = sum(driver_centres) / len(driver_centres)
        _box(
            pdf,
            cx,
            centre - height / 2,
            cw,
            height,
            [words.t(f"report.tree.{complaint.name}")],
            (250, 238, 220),
        )
        for driver_y in driver_centres:
            _link(pdf, (cx + cw, centre), (dx, driver_y))
        complaint_centres.append(centre)
    root = sum(complaint_centres) / max(1, len(complaint_centres))
    _box(
        pdf,
        need_x,
        root - height / 2,
        need_w,
        height,
        [words.t("report.tree.root")],
        (225, 225, 245),
    )
    for complaint_y in complaint_centres:
        _link(pdf, (need_x + need_w, root), (cx, complaint_y))
