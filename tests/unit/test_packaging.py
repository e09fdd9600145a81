"""pyproject.toml declares its licence the way current setuptools reads it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_licence_is_an_spdx_expression_and_setuptools_can_read_it():
    data = tomllib.loads(PYPROJECT.read_text())

    assert data["project"]["license"] == "MIT"
    # An SPDX string in `license` needs setuptools 77 or later (PEP 639).
    requires = " ".join(data["build-system"]["requires"])
    match = re.search(r"setuptools>=(\d+)", requires)
    assert match and int(match.group(1)) >= 77, requires
