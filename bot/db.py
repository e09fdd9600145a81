"""The database: engine creation for SQLite and PostgreSQL, session scopes and the shared types."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar, TypeVar

from sqlalchemy import DateTime, MetaData, Row, Table, inspect, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, make_transient_to_detached
from sqlalchemy.types import TypeDecorator

from bot import sqlite_engine
from bot.sqlite_engine import is_sqlite

log = logging.getLogger(__name__)

T = TypeVar("T")
Model = TypeVar("Model", bound="Base")

# Named constraints keep Alembic's autogenerate stable across SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every esmbot table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model here is mapped to a table of its own, never to a join or a select.
    __table__: ClassVar[Table]


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC-aware in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _in_utc(value)

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # On SQLite the two steps (the check above, then the DATETIME type's %-formatting of
        # seven fields) are one call, and the text is made in C: it was 5 % of applying a
        # batch of events, whose rows carry a dozen timestamps each.
        return _sqlite_text

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite returns the stored UTC value without a zone.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
    return value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DATETIME stores, 'YYYY-MM-DD HH:MM:SS.ffffff', in UTC."""
    return None if value is None else _in_utc(value).isoformat(" ", "microseconds")[:26]


def detached(model: type[Model], row: Row[Any]) -> Model:
    """The instance a session would have loaded from `row` (all the table's columns, as
    `select(model)` run on a connection gives them), detached as a closed session leaves it."""
    values = row._mapping
    instance = model()
    # Straight into the instance's __dict__, which SQLAlchemy documents as its attribute
    # state (InstanceState.dict), as loading does: through the constructor each value is an
    # instrumented change, twice the cost. make_transient_to_detached then makes them the
    # loaded state, with no change pending, and the primary key the identity.
    vars(instance).update({attribute: values[column] for attribute, column in _columns(model)})
    make_transient_to_detached(instance)
    return instance


@cache
def _columns(model: type[Base]) -> tuple[tuple[str, str], ...]:
    """Each mapped attribute of `model` and the name of the column it holds."""
    return tuple(
        (attribute.key, attribute.columns[0].name) for attribute in inspect(model).column_attrs
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine tuned per backend: `bot/sqlite_engine.py` on SQLite, a pool on PostgreSQL."""
    if is_sqlite(url):
        return sqlite_engine.create_sqlite_engine(url, **options)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 10)
    options.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **options)


class Database:
    """An engine and its session factory, owned by the app and handed to whoever needs them."""

    def __init__(self, url: str, **options: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **options)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writers = WriterQueue() if is_sqlite(url) else None
        # On SQLite a reading transaction takes neither the write lock nor a writer's turn;
        # on PostgreSQL it is READ ONLY. On either, a write inside one fails.
        read_only = (
            {sqlite_engine.READ_ONLY: True} if is_sqlite(url) else {"postgresql_readonly": True}
        )
        self._reading_engine = self.engine.execution_options(**read_only)
        self._readers = async_sessionmaker(self._reading_engine, expire_on_commit=False)
        # An in-memory database is one connection, shared: a read beside a write would be
        # inside the writer's transaction, so reads take their turn like writes.
        self._shared_connection = is_sqlite(url) and sqlite_engine.in_memory(url)
        # On sqlite+inline:// the statements of one read hand the loop a turn only once they
        # have kept it a while; elsewhere each one awaits its driver anyway.
        self._inline = self.engine.url.drivername == sqlite_engine.INLINE

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        async with self._writers_turn(), self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that only reads, and where a write fails: on a SQLite file it waits
        for no writer and no writer waits for it."""
        turn = self._writers_turn() if self._shared_connection else nullcontext()
        async with turn, self._readers() as session, session.begin():
            yield session

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Runs `work`, plain reads on one connection, in a reading transaction, as one step.

        For the reads every turn makes. An ORM session costs about three times the time of the
        statements themselves there (its unit of work, identity map and loading), and each of
        its statements is an await of its own: here `work` runs Core statements, all in one
        `run_sync`, and makes the instances it returns with `detached`.
        """
        turn = self._writers_turn() if self._shared_connection else nullcontext()
        async with turn:
            # Not `async with`: its exit closes the connection in a task of its own, shielded,
            # which costs every read three turns of the loop.
            connection = await self._reading_engine.connect()
            try:
                return await connection.run_sync(self._read_now, work)
            finally:
                await connection.close()

    def _read_now(self, connection: Connection, work: Callable[[Connection], T]) -> T:
        with connection.begin():
            if not self._inline:
                return work(connection)
            from bot import sqlite_inline

            return sqlite_inline.in_one_step(lambda: work(connection))

    def _writers_turn(self) -> AbstractAsyncContextManager[None]:
        return self._writers.turn() if self._writers is not None else nullcontext()

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


class WriterQueue:
    """Lets this process's SQLite transactions take the write lock one after another, in order.

    Every transaction begins IMMEDIATE (`bot/sqlite_engine.py`), so two at once would have the
    second wait in SQLite's busy handler (or, on sqlite+inline://, retry its BEGIN up to 50 ms
    apart), and waiters would win in no order: under load single requests waited for seconds. Waiting here, each starts as the one
    before ends. A transaction opened inside one its task already holds goes ahead, as it did
    before the queue; one that waits longer than WAIT_SECONDS (a task waiting on the holder) is
    left to those retries rather than wait for ever.
    """

    WAIT_SECONDS = 10.0

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._holder: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            yield
            return
        lock = self._for_this_loop()
        try:
            async with asyncio.timeout(self.WAIT_SECONDS):
                await lock.acquire()
        except TimeoutError:
            log.warning("a transaction waited %g s for the SQLite writer", self.WAIT_SECONDS)
            yield
            return
        self._holder = task
        try:
            yield
        finally:
            self._holder = None
            lock.release()

    def _for_this_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # a CLI may run several loops in turn
            self._lock, self._loop, self._holder = asyncio.Lock(), loop, None
        return self._lock
