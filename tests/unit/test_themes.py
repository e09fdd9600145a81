"""Every card reads well in Teams' light, dark and high-contrast themes: only colours Teams maps
per theme, and none that turns yellow on white."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "messages"
# Teams maps these per theme; "Warning" renders yellow-ish on the light theme's white, and
# "Light" / "Dark" fade into one theme's background or the other's.
READABLE_COLOURS = {"Default", "Accent", "Good", "Attention"}
READABLE_STYLES = {"default", "emphasis", "accent", "good", "attention", "expanded", "compact"}
# A colour or style, with whatever decides it: a literal, or a Jinja expression up to `| json`.
_SETTING = re.compile(r'"(color|style|backgroundColor)"\s*:\s*("[^"]*"|\{\{.*?\}\})')
_QUOTED = re.compile(r'"([^"]*)"')
_HEX = re.compile(r"#[0-9a-fA-F]{3,8}\b")
FILES = sorted(TEMPLATES.rglob("*.j2*"))


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_a_template_uses_only_colours_teams_themes_read_well(path: Path) -> None:
    source = path.read_text()

    for name, setting in _SETTING.findall(source):
        assert name != "backgroundColor", f"{path.name}: a fixed background ignores the theme"
        values = _QUOTED.findall(setting) if setting.startswith("{{") else [setting.strip('"')]
        allowed = READABLE_COLOURS if name == "color" else READABLE_STYLES
        for value in values:
            assert value in allowed, f"{path.name}: {name} {value!r} reads badly in some theme"
    assert not _HEX.search(source), f"{path.name}: a hard-coded colour ignores the theme"
    # Also where a colour is handed to a macro as an argument.
    assert not re.search(r'"(warning|light|dark)"', source, re.IGNORECASE), path.name


def test_the_scan_sees_the_colours_chosen_in_expressions() -> None:
    found = _SETTING.findall('"color": {{ ("Good" if met else "Warning") | json }}')
    assert _QUOTED.findall(found[0][1]) == ["Good", "Warning"]
