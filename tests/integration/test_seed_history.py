"""`esmbot seed-history` fills a database with history a report finds believable: the common
types first, some breaches, reopenings and surveys, every stage visited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.demo.seed import main, seed_history
from bot.reports.history import period_report
from bot.tickets.models import Ticket

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


async def test_a_seeded_month_reads_as_a_service_desks_month(database, organisation):
    written = await seed_history(database, organisation, tickets=400, weeks=4, now=NOW)

    report = await period_report(
        database, start=NOW - timedelta(weeks=4), end=NOW, now=NOW, organisation=organisation
    )
    current = report.current
    assert written == current.created.total == 400
    assert list(current.created.by_type)[:2] == ["incident", "service request"]
    assert list(current.created.by_priority)[:1] == ["P3"] and "P1" in current.created.by_priority
    assert set(current.created.by_module) <= set(organisation.modules)
    # Mostly in time, not always: breaches of each kind, and some tickets came back.
    assert 0.6 < current.kpis.within_sla < 1.0
    assert {breach.level for breach in current.breaches} == {
        "first_response", "resolution", "vendor_escalation",
    }  # fmt: skip
    assert current.kpis.reopened > 0
    assert all(hours is not None and hours > 0 for hours in current.stage_hours.values())
    assert 0.2 < (current.csat.response_rate or 0) < 0.8
    assert 2.5 < (current.csat.average or 0) < 3.8
    assert set(current.kpis.by_owner) == {"Alex", "Sam"}  # the agents of esmbot.toml


async def test_a_second_seed_adds_after_the_first(database, organisation):
    await seed_history(database, organisation, tickets=50, weeks=2, now=NOW)
    await seed_history(database, organisation, tickets=50, weeks=2, now=NOW)

    async with database.reading() as session:
        keys = set(await session.scalars(select(Ticket.key)))
        count = await session.scalar(select(func.count()).select_from(Ticket))
    assert count == 100 and {"HIST-1", "HIST-100"} <= keys


def test_a_count_that_is_no_number_is_refused_with_the_usage(settings, organisation, capsys):
    assert main(settings, organisation, ["--tickets", "many"]) == 2
    assert "usage: esmbot seed-history" in capsys.readouterr().err
