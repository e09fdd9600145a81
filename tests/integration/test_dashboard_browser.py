"""The dashboard in headless Chromium (Debian's package) shows the numbers of the JSON report."""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import socket

import pytest
from aiohttp import web

from bot.app import create_app
from bot.reports.export import as_data
from bot.reports.history import period_report
from tests.integration.report_rows import store_history
from tests.unit.report_history import END, NOW, START

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def dump_dom(url: str) -> str:
    """The page as Chromium leaves it once its scripts ran (virtual time lets the fetch end)."""
    browser = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=15000",
        "--dump-dom", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(browser.communicate(), 90)
    return out.decode()


def cells(dom: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table}">(.*?)</table>', dom, re.S)
    assert body, f"no table {table} on the page"
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [
        [html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)] for row in rows
    ]


@pytest.mark.slow
async def test_the_tab_shows_the_figures_of_the_json_report(settings, organisation, database):
    await store_history(database)
    app = create_app(settings, organisation, clock=lambda: NOW, dispatch=False, schedule=False)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        dom = await dump_dom(f"http://127.0.0.1:{port}/dashboard?from=2026-11-02&to=2026-11-04")
    finally:
        await runner.cleanup()

    report = as_data(await period_report(database, start=START, end=END, now=NOW,
                                         organisation=organisation))  # fmt: skip
    assert 'data-ready="true"' in dom
    figures = {row[0]: row[1:] for row in cells(dom, "figures")[1:]}
    created = next(c for c in report["changes"] if c["figure"] == "created")
    assert figures["Tickets created"][:2] == [str(created["now"]), str(created["before"])]
    assert figures["Within all service levels"][:2] == ["40 %", "50 %"]
    assert figures["CSAT average"][0] == "3"
    levels = [row[1] for row in cells(dom, "levels")[1:]]
    assert levels == [
        f"{level['percent_on_time']} %" for level in report["current"]["service_levels"]
    ]
    assert "SR-4" in dom  # at risk: unanswered past its deadline
