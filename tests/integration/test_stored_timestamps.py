"""Timestamps on SQLite are stored as the text SQLAlchemy's DATETIME writes, and read back in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    create_engine,
    insert,
    select,
    text,
)
from sqlalchemy.exc import StatementError

from bot.db import UtcDateTime

BERLIN_WINTER = timezone(timedelta(hours=1))
MOMENTS = [
    datetime(2026, 12, 2, 9, 30, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 12, 2, 9, 30, 0, 1, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2027, 1, 1, 0, 30, 15, 250000, tzinfo=BERLIN_WINTER),  # the day before, in UTC
    datetime(1, 1, 1, 0, 0, tzinfo=UTC),
]


@pytest.fixture
def table():
    engine = create_engine("sqlite://")
    metadata = MetaData()
    stamps = Table(
        "stamps",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("ours", UtcDateTime),
        Column("stock", DateTime),  # SQLAlchemy's own, given the same moment in UTC without a zone
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection, stamps
    engine.dispose()


def test_the_stored_text_is_what_sqlalchemys_datetime_stores(table):
    connection, stamps = table
    connection.execute(
        insert(stamps),
        [{"ours": m, "stock": m.astimezone(UTC).replace(tzinfo=None)} for m in MOMENTS],
    )
    stored = connection.execute(text("SELECT ours, stock FROM stamps ORDER BY id")).all()
    assert [ours for ours, _ in stored] == [stock for _, stock in stored]
    assert stored[0][0] == "2026-12-02 09:30:00.000000"
    assert stored[3][0] == "2026-12-31 23:30:15.250000"


def test_what_is_stored_reads_back_as_the_same_moment_in_utc(table):
    connection, stamps = table
    connection.execute(insert(stamps), [{"ours": m} for m in MOMENTS])
    read = connection.scalars(select(stamps.c.ours).order_by(stamps.c.id)).all()
    assert read == MOMENTS
    assert all(moment.tzinfo is UTC for moment in read)


def test_comparisons_in_sql_order_the_stored_text_as_time(table):
    connection, stamps = table
    connection.execute(insert(stamps), [{"ours": m} for m in MOMENTS])
    after = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    later = connection.scalars(select(stamps.c.ours).where(stamps.c.ours > after)).all()
    assert sorted(later) == sorted(m for m in MOMENTS if m > after)


def test_a_naive_datetime_is_refused_and_nothing_stored(table):
    connection, stamps = table
    with pytest.raises(StatementError, match="naive datetimes are not stored"):
        connection.execute(insert(stamps), [{"ours": datetime(2026, 12, 2, 9, 30)}])
    assert connection.scalar(text("SELECT count(*) FROM stamps")) == 0
