"""Only bot/sqlite_inline.py, which states the SQLAlchemy it was written for, reaches into its internals."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PINNED = ROOT / "bot" / "sqlite_inline.py"
# SQLAlchemy's asyncio bridge and helpers, and the greenlets under it: no public promise.
INTERNAL = ("sqlalchemy.util", "greenlet")


def _internal_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found += [name for name in names if name.startswith(INTERNAL)]
    return found


def test_only_the_pinned_module_imports_sqlalchemy_internals():
    reaching = {
        str(path.relative_to(ROOT)): names
        for folder in ("bot", "scheduler")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != PINNED and (names := _internal_imports(path))
    }
    assert reaching == {}
    assert _internal_imports(PINNED)  # the check itself still sees what it looks for
