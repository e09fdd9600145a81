"""Shared fixtures: both databases, the example organisation, the connector double and the bot."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from bot.app import create_app
from bot.config import Organisation, Settings, load_organisation
from bot.db import Database, create_engine
from bot.demo.activities import TeamsUser
from bot.demo.connector import ConnectorDouble
from bot.migrate import upgrade
from bot.models import metadata

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

ALEX = TeamsUser.named("Alex Agent", "alex@esmos.example")
DANIELLE = TeamsUser.named("Danielle CTO", "danielle@esmos.example")
LEARNER = TeamsUser.named("Lena Learner", "lena.learner@esmos.example")
KIM = TeamsUser.named("Kim Keyuser", "kim@esmos.example", locale="de-DE")


def _run(coroutine: Any) -> Any:
    """Runs set-up work on its own loop, whether or not a test's loop is already running."""
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def _postgres_admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)


async def _postgres_reachable(url: str) -> str | None:
    engine = create_engine(url, pool_size=1)
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure means "skip", and the reason is shown
        return f"PostgreSQL at {url} is not reachable ({error.__class__.__name__}: {error})"
    finally:
        await engine.dispose()
    return None


async def _create_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def _drop_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped at the end."""
    admin = _postgres_admin_url()
    reason = _run(_postgres_reachable(admin))
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI requires PostgreSQL")
        pytest.skip(reason)
    name = f"esmbot_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    _run(_create_database(admin, name))
    _run(upgrade(url))
    yield url
    _run(_drop_database(admin, name))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test so that every test starts empty."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    _run(upgrade(f"sqlite+inline:///{path}"))
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that needs a database runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "esmbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+inline:///{path}"  # the default; aiosqlite has tests of its own
    url = request.getfixturevalue("postgres_url")
    _run(_truncate(url))
    return url


async def _truncate(url: str) -> None:
    """Empties every table and restarts the ids: on tables this small, DELETE takes a fifth of
    TRUNCATE's time, and every PostgreSQL test starts with it."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        sequences = await connection.fetch("SELECT sequence_name FROM information_schema.sequences")
        deletes = [f'DELETE FROM "{table.name}"' for table in reversed(metadata.sorted_tables)]
        restarts = [f'ALTER SEQUENCE "{row[0]}" RESTART' for row in sequences]
        await connection.execute("; ".join(deletes + restarts))
    finally:
        await connection.close()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.close()


@pytest.fixture(scope="session")
def organisation(request: pytest.FixtureRequest) -> Organisation:
    """The example organisation, or the file a test names with indirect parametrisation."""
    return load_organisation(getattr(request, "param", ROOT / "esmbot.example.toml"))


@pytest.fixture(scope="session")
def template_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One folder of compiled templates for the run: each test's app need not compile them."""
    return str(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def settings(database_url: str, template_cache: str) -> Settings:
    return Settings(database_url=database_url, log_format="text", template_cache=template_cache)


@pytest.fixture
async def connector() -> AsyncIterator[ConnectorDouble]:
    double = ConnectorDouble()
    await double.start()
    for user in (ALEX, DANIELLE, LEARNER, KIM):
        double.add_member(
            user.id, name=user.name, email=user.email, aad_object_id=user.aad_object_id
        )
    yield double
    await double.close()


@dataclass
class Bot:
    """The running bot over real HTTP, with the connector double it replies to."""

    client: TestClient
    connector: ConnectorDouble
    database: Database

    async def post(self, activity: dict[str, Any], **headers: str) -> Any:
        return await self.client.post("/api/messages", json=activity, headers=headers)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.database.transaction() as session:
            return (await session.execute(text(sql), params)).scalar()


@pytest.fixture
async def bot(
    aiohttp_client: Any,
    settings: Settings,
    organisation: Organisation,
    connector: ConnectorDouble,
    database: Database,
) -> Bot:
    # Without the scheduler: on the wall clock, a bot started after the digest's time on a
    # working day posts it to the management channel a test is about to bind.
    client = await aiohttp_client(create_app(settings, organisation, schedule=False))
    return Bot(client=client, connector=connector, database=database)


class _WriterWaits(logging.Handler):
    """Notes each SQLite transaction that gave up waiting for the writer queue."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.waits: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "waited" in record.getMessage():
            self.waits.append(record.getMessage())


@pytest.fixture(autouse=True)
def writer_waits() -> Iterator[list[str]]:
    """Fails a test in which a transaction waited out the queue: a task waited on its holder."""
    handler = _WriterWaits()
    logger = logging.getLogger("bot.db")
    logger.addHandler(handler)
    try:
        yield handler.waits
    finally:
        logger.removeHandler(handler)
    assert not handler.waits, handler.waits
