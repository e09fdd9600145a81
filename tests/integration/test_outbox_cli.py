"""`esmbot outbox` against a real SQLite database: the listing, retrying failed rows, bad input."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db import Database
from bot.directory.models import Conversation, Person
from bot.notify.models import OutboxMessage
from bot.notify.outbox_cli import main
from bot.tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
LONG_ERROR = "500: Teams answered 500 ServiceError " + "and then some more words " * 10


async def _seed(url: str) -> dict[str, int]:
    """Two chats, one unreachable; a pending, a failed, another failed, a sent row."""
    database = Database(url)
    try:
        async with database.transaction() as session:
            lena = Conversation(
                conversation_id="a:personal-lena",
                scope="personal",
                service_url="http://127.0.0.1:1/",
                reference={"conversation": {"id": "a:personal-lena"}},
            )
            gone = Conversation(
                conversation_id="a:personal-" + "x" * 60,
                scope="personal",
                service_url="http://127.0.0.1:1/",
                reference={},
                reachable=False,
                unreachable_reason="Teams refused (MessageWritesBlocked)",
            )
            ticket = Ticket(key="SR-42", summary="Printer on fire")
            session.add_all([lena, gone, ticket])
            await session.flush()

            def row(name: str, conversation: Conversation, **fields: object) -> OutboxMessage:
                return OutboxMessage(
                    dedupe_key=name,
                    conversation_id=conversation.id,
                    ticket_id=ticket.id,
                    audience="customer",
                    template="customer/ticket_received",
                    activity={"type": "message", "text": name},
                    **fields,
                )

            rows = {
                "pending": row("pending", lena, next_attempt_at=T0),
                "failed": row("failed", lena, status="failed", attempts=8, last_error=LONG_ERROR),
                "blocked": row(
                    "blocked",
                    gone,
                    status="failed",
                    attempts=1,
                    last_error="403 MessageWritesBlocked",
                ),
                "sent": row("sent", lena, status="sent", attempts=1, sent_at=T0),
            }
            session.add_all(rows.values())
            await session.flush()
            return {name: stored.id for name, stored in rows.items()}
    finally:
        await database.close()


async def _rows(url: str) -> dict[int, OutboxMessage]:
    database = Database(url)
    try:
        async with database.transaction() as session:
            return {row.id: row for row in await session.scalars(select(OutboxMessage))}
    finally:
        await database.close()


@pytest.fixture
def seeded(tmp_path: Path, sqlite_template: Path) -> tuple[str, dict[str, int]]:
    path = tmp_path / "outbox.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+inline:///{path}"
    return url, asyncio.run(_seed(url))


def run_cli(url: str, *argv: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "esmbot.toml"
    config.write_text('[organisation]\nname = "Test"\n')
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "ESMBOT_"))}
    environ.update(
        {
            "DATABASE_URL": url,
            "ESMBOT_CONFIG": str(config),
            "LOG_FORMAT": "text",
            "PYTHONPATH": str(ROOT),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "outbox", *argv],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def lines_of(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def test_the_list_shows_pending_and_failed_as_a_table(seeded, tmp_path):
    url, ids = seeded

    result = run_cli(url, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    header, rule, *body, footer = lines_of(result.stdout)
    for column in ("id", "status", "attempts", "audience", "template", "conversation", "ticket"):
        assert column in header
    assert "next attempt" in header and "last error" in header
    assert set(rule) == {"-", " "}
    assert len(body) == 3 and footer == "3 pending or failed messages"
    by_id = {int(line.split()[0]): line for line in body}
    assert set(by_id) == {ids["pending"], ids["failed"], ids["blocked"]}
    assert "pending" in by_id[ids["pending"]] and "2025-03-03 08:00:00" in by_id[ids["pending"]]
    assert "SR-42" in by_id[ids["pending"]] and "a:personal-lena" in by_id[ids["pending"]]
    failed = by_id[ids["failed"]]
    assert "failed" in failed and " 8 " in failed
    # Long values are cut, so that every row stays one line of a readable width.
    assert "500: Teams answered 500" in failed and failed.endswith("…")
    assert LONG_ERROR.strip() not in result.stdout
    assert "x" * 60 not in result.stdout
    assert len(rule) == max(len(line) for line in (header, *body))


def test_retry_puts_a_failed_row_back_in_line(seeded, tmp_path):
    url, ids = seeded

    result = run_cli(url, "retry", str(ids["failed"]), tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"1 message back in line: {ids['failed']}"
    row = asyncio.run(_rows(url))[ids["failed"]]
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, None)
    assert row.next_attempt_at > T0  # due now, not at some old moment


def test_bad_input_is_a_usage_error_without_a_traceback(seeded, tmp_path):
    url, _ids = seeded

    result = run_cli(url, "list", "--limit", "many", tmp_path=tmp_path)

    assert result.returncode == 2
    assert "'many' is not a whole number" in result.stderr
    assert "usage: esmbot outbox list" in result.stderr
    assert "Traceback" not in result.stderr


# The rest calls main() in this process: same code, no interpreter start-up per case.


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, log_format="text")


def test_status_filters_the_list(seeded, capsys):
    url, ids = seeded

    assert main(settings_for(url), ["--status", "sent"]) == 0
    sent = capsys.readouterr().out
    assert main(settings_for(url), ["list", "--status", "failed"]) == 0
    failed = capsys.readouterr().out
    assert main(settings_for(url), ["list", "--status", "all"]) == 0
    everything = capsys.readouterr().out

    assert lines_of(sent)[-1] == "1 sent message"
    assert lines_of(sent)[2].split()[0] == str(ids["sent"])
    assert lines_of(failed)[-1] == "2 failed messages"
    # Not pending: a failed row is not attempted again, so it has no next attempt.
    assert all(" - " in line for line in lines_of(failed)[2:-1])
    assert lines_of(everything)[-1] == "4 messages"


def test_pending_lists_in_sending_order_and_others_newest_first(seeded, capsys):
    url, ids = seeded

    main(settings_for(url), ["--status", "failed"])
    failed = [int(line.split()[0]) for line in lines_of(capsys.readouterr().out)[2:-1]]

    assert failed == sorted([ids["failed"], ids["blocked"]], reverse=True)


def test_the_limit_shows_fewer_and_says_so(seeded, capsys):
    url, _ids = seeded

    assert main(settings_for(url), ["--status", "all", "--limit", "2"]) == 0

    out = lines_of(capsys.readouterr().out)
    assert len(out) == 2 + 2 + 1
    assert out[-1] == "2 of 4 messages; --limit N shows more"


def test_an_empty_list_says_so(seeded, capsys):
    url, _ids = seeded
    main(settings_for(url), ["retry", "--all-failed"])
    capsys.readouterr()

    assert main(settings_for(url), ["--status", "failed"]) == 0
    assert capsys.readouterr().out.strip() == "no failed messages"


def test_retry_refuses_rows_that_are_not_failed(seeded, capsys):
    url, ids = seeded

    code = main(settings_for(url), ["retry", str(ids["sent"]), str(ids["failed"]), "999"])

    out, err = capsys.readouterr()
    assert code == 1
    assert out.strip() == f"1 message back in line: {ids['failed']}"
    assert f"not retried: {ids['sent']}: it is sent, not failed" in err
    assert "not retried: 999: there is no such message" in err
    rows = asyncio.run(_rows(url))
    assert rows[ids["sent"]].status == "sent"  # untouched
    assert rows[ids["failed"]].status == "pending"


def test_retry_of_nothing_but_refused_ids_changes_nothing(seeded, capsys):
    url, ids = seeded
    before = {i: (r.status, r.attempts) for i, r in asyncio.run(_rows(url)).items()}

    assert main(settings_for(url), ["retry", str(ids["pending"])]) == 1

    _out, err = capsys.readouterr()
    assert f"{ids['pending']}: it is pending, not failed" in err
    assert {i: (r.status, r.attempts) for i, r in asyncio.run(_rows(url)).items()} == before


def test_retry_all_failed_takes_every_failed_row_and_warns_of_an_unreachable_chat(seeded, capsys):
    url, ids = seeded

    assert main(settings_for(url), ["retry", "--all-failed"]) == 0

    out, err = capsys.readouterr()
    assert out.strip() == f"2 messages back in line: {ids['failed']}, {ids['blocked']}"
    assert f"note: {ids['blocked']}: its chat is marked unreachable" in err
    rows = asyncio.run(_rows(url))
    assert [rows[ids[n]].attempts for n in ("failed", "blocked")] == [0, 0]
    assert main(settings_for(url), ["retry", "--all-failed"]) == 0
    assert capsys.readouterr().out.strip() == "no failed messages"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["retry"], "give the ids of failed messages, or --all-failed"),
        (["retry", "--all-failed", "3"], "give the ids of failed messages, or --all-failed"),
        (["retry", "abc"], "'abc' is not a whole number"),
        (["retry", "0"], "'0' is not a positive number"),
        (["--status", "lost"], "invalid choice: 'lost'"),
        (["--limit", "-4"], "'-4' is not a positive number"),
        (["purge"], "invalid choice: 'purge'"),
        (["list", "extra"], "unrecognized arguments: extra"),
    ],
)
def test_bad_input_exits_2_with_a_message(seeded, capsys, argv, message):
    url, _ids = seeded

    assert main(settings_for(url), argv) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert message in err and err.startswith("esmbot outbox: ")


def test_help_exits_0(seeded, capsys):
    url, _ids = seeded

    assert main(settings_for(url), ["--help"]) == 0
    assert "{list,retry}" in capsys.readouterr().out
    assert main(settings_for(url), ["retry", "--help"]) == 0
    assert "--all-failed" in capsys.readouterr().out


def test_a_database_without_the_tables_is_reported_not_raised(tmp_path, capsys):
    url = f"sqlite+inline:///{tmp_path / 'empty.db'}"

    assert main(settings_for(url), []) == 1

    err = capsys.readouterr().err
    assert "cannot use the database: no such table" in err
    assert "esmbot db upgrade" in err


def test_an_unreachable_database_is_reported_not_raised(tmp_path, capsys):
    url = f"sqlite+inline:///{tmp_path / 'missing' / 'dir' / 'x.db'}"

    assert main(settings_for(url), ["retry", "--all-failed"]) == 1

    assert "cannot use the database: unable to open database file" in capsys.readouterr().err


def test_the_row_in_the_database_is_what_the_listing_claims(seeded, capsys):
    """A retried row is picked up by a dispatcher: due now and counted from its first attempt."""
    url, ids = seeded
    main(settings_for(url), ["retry", str(ids["blocked"])])
    capsys.readouterr()

    main(settings_for(url), ["--status", "pending"])

    body = lines_of(capsys.readouterr().out)[2:-1]
    assert [int(line.split()[0]) for line in body] == [ids["pending"], ids["blocked"]]
    blocked = body[1].split()
    assert blocked[1:3] == ["pending", "0"]
    moment = datetime.strptime(" ".join(body[1].split()[-3:-1]), "%Y-%m-%d %H:%M:%S")
    assert abs(moment.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=1)


async def _unreached(url: str, *, with_chat: bool) -> int:
    """A row that failed because its person had no chat; with_chat: they have one now."""
    database = Database(url)
    try:
        async with database.transaction() as session:
            frank = Person(name="Frank Forgetful", email="frank@esmos.example")
            session.add(frank)
            await session.flush()
            if with_chat:
                session.add(
                    Conversation(
                        conversation_id="a:personal-frank", scope="personal",
                        service_url="http://127.0.0.1:1/", reference={}, person_id=frank.id,
                    )
                )  # fmt: skip
            row = OutboxMessage(
                dedupe_key="unreached", conversation_id=None, person_id=frank.id,
                address="frank@esmos.example", audience="customer",
                template="customer/ticket_received", activity={"type": "message"},
                status="failed", last_error="no_graph",
            )  # fmt: skip
            session.add(row)
            await session.flush()
            return row.id
    finally:
        await database.close()


def test_retry_of_a_row_for_someone_without_a_chat_says_so(seeded, capsys):
    url, _ids = seeded
    unreached = asyncio.run(_unreached(url, with_chat=False))

    assert main(settings_for(url), ["retry", str(unreached)]) == 1

    _out, err = capsys.readouterr()
    assert f"not retried: {unreached}: frank@esmos.example has no chat with esmbot yet" in err
    assert asyncio.run(_rows(url))[unreached].status == "failed"


def test_retry_sends_a_row_for_someone_unreached_to_the_chat_they_have_now(seeded, capsys):
    url, _ids = seeded
    unreached = asyncio.run(_unreached(url, with_chat=True))

    assert main(settings_for(url), ["retry", str(unreached)]) == 0

    row = asyncio.run(_rows(url))[unreached]
    assert row.status == "pending" and row.conversation_id is not None
