"""`esmbot outbox`: shows the messages still waiting or failed, and puts failed ones back in line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db import Database, utcnow
from bot.directory.models import Conversation
from bot.notify import outbox
from bot.notify.models import OutboxMessage
from bot.tickets.models import Ticket

OK, REFUSED, USAGE = 0, 1, 2
DEFAULT_LIMIT = 50
# A row claimed by a dispatcher is still on its way: for an operator it is pending.
_STATUSES = {
    "pending": (outbox.PENDING, outbox.SENDING),
    "failed": (outbox.FAILED,),
    "sent": (outbox.SENT,),
    "all": (outbox.PENDING, outbox.SENDING, outbox.FAILED, outbox.SENT, outbox.CANCELLED),
    None: (outbox.PENDING, outbox.SENDING, outbox.FAILED),
}
# Widest a column may get; longer values end in an ellipsis so that a row stays one line.
_WIDTHS = {"template": 30, "conversation": 30, "ticket": 16, "last error": 48}


class UsageError(Exception):
    """The command line asked for something that does not exist; shown with the usage."""


class _Parser(argparse.ArgumentParser):
    # argparse would print and exit on its own; the caller decides the exit code instead.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().rstrip()}")


@dataclass(frozen=True)
class Listing:
    status: str | None
    limit: int


@dataclass(frozen=True)
class Retry:
    ids: tuple[int, ...]
    all_failed: bool


def main(settings: Settings, argv: list[str]) -> int:
    """Runs `esmbot outbox [list|retry] …`; 0 done, 1 refused or database trouble, 2 bad usage."""
    try:
        command = parse(argv)
    except UsageError as error:
        print(f"esmbot outbox: {error}", file=sys.stderr)
        return USAGE
    except SystemExit as done:  # --help printed its text
        return done.code if isinstance(done.code, int) else OK
    try:
        return asyncio.run(_run(settings.database_url, command))
    except (SQLAlchemyError, OSError) as error:
        print(f"esmbot outbox: cannot use the database: {_reason(error)}", file=sys.stderr)
        print("  (is DATABASE_URL right, and has `esmbot db upgrade` run?)", file=sys.stderr)
        return REFUSED


def parse(argv: Sequence[str]) -> Listing | Retry:
    parser = _Parser(prog="esmbot outbox", description="The messages on their way to Teams.")
    actions = parser.add_subparsers(dest="action", metavar="{list,retry}")
    listing = actions.add_parser(
        "list",
        help="show messages (the default)",
        description="Pending messages in the order they go out; the others newest first.",
    )
    listing.add_argument(
        "--status",
        choices=["pending", "failed", "sent", "all"],
        help="which messages (default: pending and failed)",
    )
    listing.add_argument(
        "--limit",
        type=_positive,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"at most N rows (default: {DEFAULT_LIMIT})",
    )
    retry = actions.add_parser(
        "retry",
        help="send failed messages again",
        description="Sets failed messages back to pending, with their attempts counted from 0.",
    )
    retry.add_argument("ids", nargs="*", type=_positive, metavar="ID")
    retry.add_argument("--all-failed", action="store_true", help="every failed message")
    argv = list(argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["list", *argv]
    args = parser.parse_args(argv)
    if args.action == "list":
        return Listing(status=args.status, limit=args.limit)
    if args.all_failed == bool(args.ids):
        retry.error("give the ids of failed messages, or --all-failed (not both)")
    return Retry(ids=tuple(dict.fromkeys(args.ids)), all_failed=args.all_failed)


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive number")
    return value


async def _run(url: str, command: Listing | Retry) -> int:
    database = Database(url)
    try:
        if isinstance(command, Listing):
            return await _list(database, command)
        return await _retry(database, command)
    finally:
        await database.close()


async def _list(database: Database, command: Listing) -> int:
    statuses = _STATUSES[command.status]
    pending_only = command.status == "pending"
    order = (
        (OutboxMessage.next_attempt_at, OutboxMessage.id)
        if pending_only
        else (OutboxMessage.id.desc(),)
    )
    async with database.transaction() as session:
        total = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(statuses))
        )
        found = (
            await session.execute(
                select(OutboxMessage, Conversation.conversation_id, Ticket.key)
                .outerjoin(Conversation, Conversation.id == OutboxMessage.conversation_id)
                .outerjoin(Ticket, Ticket.id == OutboxMessage.ticket_id)
                .where(OutboxMessage.status.in_(statuses))
                .order_by(*order)
                .limit(command.limit)
            )
        ).all()
    which = {None: "pending or failed ", "all": ""}.get(command.status, f"{command.status} ")
    if not found:
        print(f"no {which}messages" if which else "the outbox is empty")
        return OK
    table = [
        {
            "id": str(row.id),
            "status": row.status,
            "attempts": str(row.tries),
            "audience": row.audience,
            "template": row.template,
            "conversation": conversation or "-",
            "ticket": key or "-",
            "next attempt (UTC)": _when(row.next_attempt_at)
            if row.status in (outbox.PENDING, outbox.SENDING)
            else "-",
            "last error": " ".join((row.last_error or "-").split()),
        }
        for row, conversation, key in found
    ]
    print(_render(table))
    shown = f"{len(found)} of {total}" if total and total > len(found) else str(len(found))
    more = "; --limit N shows more" if total and total > len(found) else ""
    print(f"\n{shown} {which}message{'s' if total != 1 else ''}{more}")
    return OK


async def _chat_of(session: AsyncSession, person_id: int | None) -> int | None:
    if person_id is None:
        return None
    return await session.scalar(
        select(Conversation.id)
        .where(
            Conversation.person_id == person_id,
            Conversation.scope == "personal",
            Conversation.reachable.is_(True),
        )
        .order_by(Conversation.updated_at.desc())
        .limit(1)
    )


async def _retry(database: Database, command: Retry) -> int:
    refused: list[str] = []
    warnings: list[str] = []
    now = utcnow()
    async with database.transaction() as session:
        chosen = select(OutboxMessage, Conversation).outerjoin(
            Conversation, Conversation.id == OutboxMessage.conversation_id
        )
        if command.all_failed:
            chosen = chosen.where(OutboxMessage.status == outbox.FAILED)
        else:
            chosen = chosen.where(OutboxMessage.id.in_(command.ids))
        found = {
            row.id: (row, conversation)
            for row, conversation in (
                await session.execute(chosen.order_by(OutboxMessage.id).with_for_update())
            ).all()
        }
        for wanted in command.ids:
            if wanted not in found:
                refused.append(f"{wanted}: there is no such message")
            elif found[wanted][0].status != outbox.FAILED:
                refused.append(f"{wanted}: it is {found[wanted][0].status}, not failed")
        retried = []
        for row, conversation in found.values():
            if row.status != outbox.FAILED:
                continue
            if row.conversation_id is None:
                # For someone esmbot could not reach: only a chat learned since can take it.
                chat = await _chat_of(session, row.person_id)
                if chat is None:
                    why = f"{row.id}: {row.address or 'its person'} has no chat with esmbot yet"
                    (warnings if command.all_failed else refused).append(why)
                    continue
                row.conversation_id = chat
            row.status, row.attempts, row.next_attempt_at = outbox.PENDING, 0, now
            row.held_back, row.chat_reopened, row.last_error = 0, False, None
            retried.append(row.id)
            if conversation is not None and not conversation.reachable:
                warnings.append(
                    f"{row.id}: its chat is marked unreachable "
                    f"({conversation.unreachable_reason or 'no reason recorded'}); "
                    "it fails again unless the person adds the bot back"
                )
    for line in refused:
        print(f"esmbot outbox: not retried: {line}", file=sys.stderr)
    for line in warnings:
        print(f"esmbot outbox: note: {line}", file=sys.stderr)
    if retried:
        ids = ", ".join(map(str, retried))
        print(f"{len(retried)} message{'s' if len(retried) != 1 else ''} back in line: {ids}")
    elif command.all_failed:
        print("no failed messages")
    return REFUSED if refused else OK


def _render(rows: list[dict[str, str]]) -> str:
    columns = list(rows[0])
    cells = [{c: _cut(row[c], _WIDTHS.get(c)) for c in columns} for row in rows]
    widths = {c: max(len(c), *(len(row[c]) for row in cells)) for c in columns}
    numeric = {"id", "attempts"}

    def line(values: dict[str, str]) -> str:
        return "  ".join(
            values[c].rjust(widths[c]) if c in numeric else values[c].ljust(widths[c])
            for c in columns
        ).rstrip()

    header = line({c: c for c in columns})
    rule = "  ".join("-" * widths[c] for c in columns)
    return "\n".join([header, rule, *(line(row) for row in cells)])


def _cut(value: str, width: int | None) -> str:
    if width is None or len(value) <= width:
        return value
    return value[: width - 1] + "…"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _reason(error: BaseException) -> str:
    # The driver's own message says what is wrong; SQLAlchemy's wrapper adds the SQL and a URL.
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return text[0] if text else error.__class__.__name__
