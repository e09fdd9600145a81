"""The period's report read from SQLite and PostgreSQL equals the one made from the rows by hand,
and it is read without holding the writer."""

from __future__ import annotations

import asyncio

from bot.reports.history import period_report
from bot.reports.trends import report
from tests.integration.report_rows import store_history
from tests.unit.report_history import END, MOVES, NOW, ORGANISATION, START, SURVEYS, TICKETS


async def test_the_stored_history_gives_the_hand_built_report(database):
    await store_history(database)

    read = await period_report(database, start=START, end=END, now=NOW, organisation=ORGANISATION)

    expected = report(
        TICKETS, MOVES, SURVEYS, start=START, end=END, now=NOW, organisation=ORGANISATION
    )
    assert read == expected
    assert read.current.stage_hours["in_progress"] == 14.5  # the status history was read
    assert read.current.csat.sent == 3


async def test_the_report_runs_while_a_writer_holds_its_transaction(database):
    await store_history(database)
    holding, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with database.transaction():
            holding.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await asyncio.wait_for(holding.wait(), 5)
    try:
        read = await asyncio.wait_for(
            period_report(database, start=START, end=END, now=NOW, organisation=ORGANISATION),
            5,
        )
    finally:
        release.set()
        await task
    assert read.current.created.total == 5
