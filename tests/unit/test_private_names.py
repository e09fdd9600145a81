"""Only bot/sqlite_inline.py, which states the SQLAlchemy it was written for, reaches into a library's internals."""

from __future__ import annotations

import ast
import importlib
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


# Their underscore names carry no promise either; esmbot uses only what they document.
LIBRARIES = ("botbuilder", "botframework", "msrest", "jinja2", "sqlalchemy", "aiohttp", "babel")


def _private_uses(path: Path) -> list[str]:
    """Underscore names imported from the libraries, or read off what was imported from them."""
    tree = ast.parse(path.read_text(), str(path))
    imported: set[str] = set()
    classes: dict[str, tuple[str, str]] = {}  # a name bound here -> where it was imported from
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(LIBRARIES):
            for alias in node.names:
                imported.add(alias.asname or alias.name)
                classes[alias.asname or alias.name] = (node.module, alias.name)
                if alias.name.startswith("_") or "._" in node.module:
                    found.append(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(LIBRARIES):
                    imported.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in imported
        ):
            found.append(f"{node.value.id}.{node.attr} (line {node.lineno})")
        elif (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "super"
        ):
            found.append(f"super().{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.ClassDef):
            bases = [_library_class(classes, base) for base in node.bases]
            found += [
                f"{node.name}.{item.name} overridden (line {item.lineno})"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and _private(item.name)
                and any(hasattr(base, item.name) for base in bases if base is not None)
            ]
    return found


def _library_class(classes: dict[str, tuple[str, str]], base: ast.expr) -> type | None:
    """The library class a class statement names as its base, if it names one."""
    if not isinstance(base, ast.Name) or base.id not in classes:
        return None
    module, name = classes[base.id]
    found = getattr(importlib.import_module(module), name, None)
    return found if isinstance(found, type) else None


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_reaches_into_the_libraries_underscore_names():
    reaching = {
        str(path.relative_to(ROOT)): names
        for folder in ("bot", "scheduler")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != PINNED and (names := _private_uses(path))
    }
    assert reaching == {}


def test_the_underscore_check_sees_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from botbuilder.core import TurnContext\n"
        "from msrest.serialization import _FLATTEN\n"
        "TurnContext._emit\n"
        "class Turn(TurnContext):\n"
        "    async def _emit(self):\n"
        "        return super()._emit()\n"
    )
    assert sorted(_private_uses(sample)) == [
        "Turn._emit overridden (line 5)",
        "TurnContext._emit (line 3)",
        "msrest.serialization._FLATTEN",
        "super()._emit (line 6)",
    ]
