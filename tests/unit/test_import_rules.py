"""The import rules of docs/architecture.md, checked over every import in bot/ and scheduler/."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "scheduler").rglob("*.py")])

# Where each outside library may be imported (rules 1 and 2): module path prefixes.
EDGE_ONLY = {
    "botbuilder": ("bot/teams/", "bot/dialogs/"),
    "botframework": ("bot/teams/", "bot/dialogs/"),
    "aiohttp": (
        "bot/app.py",
        "bot/__main__.py",
        "bot/heap.py",
        "bot/web/",
        "bot/teams/",
        "bot/graph/",
        "bot/demo/",
        "bot/events/routes.py",
        "bot/events/jira_client.py",
    ),
}
# Only the wiring imports the parts that reach outside (rule 3).
WIRED_BY_APP = {"bot.teams.sender", "bot.teams.adapter", "bot.notify.dispatcher"}
WIRING = ("bot/app.py",)
# What each folder may import of esmbot's own folders (rule 5); the edge may import anything.
BELOW = {"bot.directory", "bot.config", "bot.db", "bot.errors"}
MAY_IMPORT = {
    "bot/directory/": {"bot.directory", "bot.db", "bot.errors"},
    "bot/reports/": BELOW | {"bot.reports", "bot.tickets", "bot.notify", "bot.coordination"},
    "bot/notify/": BELOW
    | {
        "bot.notify",
        "bot.tickets.lifecycle",
        "bot.tickets.models",
        "bot.tickets.events",
        "bot.problems.models",
    },
    "bot/problems/": BELOW | {"bot.problems", "bot.tickets", "bot.notify"},
    "scheduler/": BELOW
    | {"bot.tickets", "bot.reports", "bot.coordination", "bot.db", "bot.problems", "scheduler"},
    "bot/tickets/": BELOW | {"bot.tickets", "bot.notify"},
    # Graph reaches people for the outbox: it learns conversations and settles waiting rows.
    "bot/graph/": BELOW | {"bot.graph", "bot.notify", "bot.tickets.models"},
}
# The pure core: no database, web or template library, directly or through each other (rule 4).
PURE = ("lifecycle", "sla", "calendar", "durations", "planning", "events")
IMPURE = ("sqlalchemy", "aiohttp", "jinja2", "botbuilder", "bot.db", "bot.notify")


def imports(path: Path) -> Iterator[str]:
    """Every module a file imports, at the top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("library", sorted(EDGE_ONLY))
def test_outside_libraries_stay_at_the_edge(library: str) -> None:
    allowed = EDGE_ONLY[library]
    offenders = {
        relative(path)
        for path in SOURCES
        if not relative(path).startswith(allowed)
        and any(under(name, library) for name in imports(path))
    }
    assert not offenders, f"{library} imported outside {allowed}: {sorted(offenders)}"


def test_only_the_app_wires_the_sender_the_adapter_and_the_dispatcher() -> None:
    offenders = {
        (relative(path), name)
        for path in SOURCES
        if not relative(path).startswith(WIRING)
        for name in imports(path)
        if name in WIRED_BY_APP and relative(path) != name.replace(".", "/") + ".py"
    }
    assert not offenders, sorted(offenders)


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_folders_point_one_way(folder: str) -> None:
    allowed = MAY_IMPORT[folder]
    offenders = {
        (relative(path), name)
        for path in SOURCES
        if relative(path).startswith(folder)
        for name in imports(path)
        if under(name, "bot") and not any(under(name, package) for package in allowed)
    }
    assert not offenders, sorted(offenders)


@pytest.mark.parametrize("module", PURE)
def test_the_core_is_pure(module: str) -> None:
    seen: set[str] = set()
    waiting = [f"bot.tickets.{module}"]
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():
            continue
        for imported in imports(path):
            assert not any(under(imported, bad) for bad in IMPURE), f"{name} imports {imported}"
            if under(imported, "bot"):
                waiting.append(imported)
