"""Start-up's choices: where local mode listens, what it warns about, how logs are written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings, load_organisation, load_settings
from bot.config.startup import check, listening_line
from bot.logs import configure_logging

EXAMPLE = load_organisation(Path(__file__).resolve().parents[2] / "esmbot.example.toml")
APP = {"app_id": "00000000-0000-0000-0000-00000000beef", "app_password": "pw"}


def test_local_mode_listens_on_loopback_unless_host_is_set():
    assert load_settings({}).listen_host == "127.0.0.1"
    assert load_settings({"HOST": "0.0.0.0"}).listen_host == "0.0.0.0"
    production = {"MicrosoftAppId": "x", "MicrosoftAppPassword": "y"}
    assert load_settings(production).listen_host == "0.0.0.0"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "bot.esmos.example"])
def test_local_mode_beyond_loopback_is_warned_about(host):
    warnings = check(Settings(host=host, jira_webhook_secret="s"), EXAMPLE)

    assert len(warnings) == 1 and f"local mode listens on {host}, beyond loopback" in warnings[0]


@pytest.mark.parametrize("host", ["", "127.0.0.1", "::1", "localhost"])
def test_local_mode_on_loopback_is_not_warned_about(host):
    assert check(Settings(host=host, jira_webhook_secret="s"), EXAMPLE) == []


def test_the_line_names_postgresql_without_its_password():
    settings = Settings(
        database_url="postgresql+asyncpg://esmbot:hunter2@db.esmos.example:5433/desk", **APP
    )

    line = listening_line(settings, EXAMPLE, example=False)

    assert line == f"esmbot listening on http://0.0.0.0:3978 — app {APP['app_id']}, " + (
        "PostgreSQL db.esmos.example:5433/desk"
    )
    assert "hunter2" not in line


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level
    for name in ("apscheduler", "alembic"):
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("stream", "fmt", "json_lines"),
    [(_Terminal, "", False), (io.StringIO, "", True), (_Terminal, "json", True)],
    ids=["terminal", "not-a-terminal", "json-asked-for"],
)
def test_logs_are_text_on_a_terminal_and_json_otherwise(restored, stream, fmt, json_lines):
    out = stream()
    configure_logging("INFO", fmt, stream=out)

    logging.getLogger("bot").info("esmbot listening on http://127.0.0.1:3978")

    line = out.getvalue().strip()
    if json_lines:
        assert json.loads(line)["msg"] == "esmbot listening on http://127.0.0.1:3978"
    else:
        assert line.endswith("INFO    bot: esmbot listening on http://127.0.0.1:3978")
