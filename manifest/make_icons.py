"""Draws the Teams app icons, a speech bubble with a check, as PNGs with the standard library."""

from __future__ import annotations

import itertools
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The manifest's accentColor: Teams shows it behind the colour icon, so the two must agree.
ACCENT = (0x25, 0x63, 0xEB)
WHITE = (0xFF, 0xFF, 0xFF)
# Sub-samples per pixel edge: 4×4 per pixel smooths the edges without any imaging library.
SAMPLES = 4

Shape = Callable[[float, float], bool]


def _rounded_rect(left: float, top: float, right: float, bottom: float, radius: float) -> Shape:
    def inside(x: float, y: float) -> bool:
        if not (left <= x <= right and top <= y <= bottom):
            return False
        cx = min(max(x, left + radius), right - radius)
        cy = min(max(y, top + radius), bottom - radius)
        return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2

    return inside


def _triangle(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> Shape:
    def side(p: tuple[float, float], q: tuple[float, float], x: float, y: float) -> float:
        return (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])

    def inside(x: float, y: float) -> bool:
        d1, d2, d3 = side(a, b, x, y), side(b, c, x, y), side(c, a, x, y)
        return (d1 >= 0 and d2 >= 0 and d3 >= 0) or (d1 <= 0 and d2 <= 0 and d3 <= 0)

    return inside


def _stroke(points: list[tuple[float, float]], width: float) -> Shape:
    """A polyline with round joins and caps: everything within width/2 of a segment."""

    def near(x: float, y: float, p: tuple[float, float], q: tuple[float, float]) -> bool:
        dx, dy = q[0] - p[0], q[1] - p[1]
        t = max(0.0, min(1.0, ((x - p[0]) * dx + (y - p[1]) * dy) / (dx * dx + dy * dy)))
        return (x - p[0] - t * dx) ** 2 + (y - p[1] - t * dy) ** 2 <= (width / 2) ** 2

    segments = list(itertools.pairwise(points))
    return lambda x, y: any(near(x, y, p, q) for p, q in segments)


# The glyph in a unit square: a bubble with its tail at the bottom left, a check inside it.
_BUBBLE = _rounded_rect(0.06, 0.10, 0.94, 0.72, 0.16)
_TAIL = _triangle((0.20, 0.66), (0.44, 0.66), (0.14, 0.92))
_CHECK = _stroke([(0.30, 0.41), (0.44, 0.55), (0.71, 0.27)], 0.11)


def _coverage(size: int, inset: float, shape: Shape) -> list[list[float]]:
    """The share of each pixel the shape covers, with the glyph square inset from the edges."""
    span = size * (1 - 2 * inset)
    offset = size * inset
    rows = []
    for row in range(size):
        values = []
        for column in range(size):
            hits = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (column + (sx + 0.5) / SAMPLES - offset) / span
                    y = (row + (sy + 0.5) / SAMPLES - offset) / span
                    hits += shape(x, y)
            values.append(hits / SAMPLES**2)
        rows.append(values)
    return rows


def _mix(base: tuple[int, int, int], top: tuple[int, int, int], share: float) -> bytes:
    return bytes(round(b + (t - b) * share) for b, t in zip(base, top, strict=True))


def png(width: int, height: int, colour_type: int, rows: list[bytes]) -> bytes:
    """A PNG file: 8 bits per channel, colour type 2 (RGB) or 6 (RGBA), no filtering."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    pixels = b"".join(b"\x00" + row for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels, 9))
        + chunk(b"IEND", b"")
    )


def color_icon() -> bytes:
    """192×192 full colour: a white bubble with an accent-coloured check on the accent colour."""
    size = 192
    bubble = _coverage(size, 0.18, lambda x, y: _BUBBLE(x, y) or _TAIL(x, y))
    check = _coverage(size, 0.18, _CHECK)
    rows = []
    for bubble_row, check_row in zip(bubble, check, strict=True):
        row = b""
        for b, c in zip(bubble_row, check_row, strict=True):
            # The check is cut out of the bubble, so the background shows through it.
            row += _mix(ACCENT, WHITE, b * (1 - c))
        rows.append(row)
    return png(size, size, 2, rows)


def outline_icon() -> bytes:
    """32×32 outline: the same glyph in white on transparent, the check cut out of the bubble."""
    size = 32
    bubble = _coverage(size, 0.0, lambda x, y: _BUBBLE(x, y) or _TAIL(x, y))
    check = _coverage(size, 0.0, _CHECK)
    rows = []
    for bubble_row, check_row in zip(bubble, check, strict=True):
        # Teams wants only white here: the anti-aliasing lives in the alpha channel alone.
        alphas = (round(255 * b * (1 - c)) for b, c in zip(bubble_row, check_row, strict=True))
        rows.append(b"".join(bytes(WHITE) + bytes([alpha]) for alpha in alphas))
    return png(size, size, 6, rows)


def main() -> int:
    (HERE / "color.png").write_bytes(color_icon())
    (HERE / "outline.png").write_bytes(outline_icon())
    print(f"wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
