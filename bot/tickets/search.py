"""Finding tickets by key, words, status or "mine", within what the asker may see of the queue."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.directory.models import Person
from bot.tickets.lifecycle import OPEN_STATUSES, Status
from bot.tickets.models import Ticket

# Teams asks for 25 results a page; more than this is never drawn.
MAX_RESULTS = 25
MAX_WORDS = 5
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}-[0-9]{1,12}$")
# "mine" in the languages esmbot speaks, as typed into a search box.
MINE_WORDS = frozenset({"mine", "my", "me", "meine", "meins", "mein", "mir"})
_LIKE_SPECIALS = re.compile(r"([\\%_])")


@dataclass(frozen=True)
class Query:
    """What was typed, read: one key, or words to find in the summary, a status, and "mine"."""

    key: str | None = None
    words: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()
    mine: bool = False


@dataclass(frozen=True)
class Found:
    """One ticket found, with its reporter and owner as cards name them."""

    ticket: Ticket
    reporter: Person | None
    assignee: Person | None


def read_query(text: str, status_words: Mapping[str, str]) -> Query:
    """The query typed; `status_words` maps each status's name in any language (lower case) to
    the status. An empty query is every open ticket the asker may see."""
    text = " ".join(text.split())
    if _KEY.match(text):
        return Query(key=text.upper())
    words = [word for word in text.lower().split(" ") if word]
    mine = any(word in MINE_WORDS for word in words)
    words = [word for word in words if word not in MINE_WORDS]
    rest = " ".join(words)
    if rest in status_words:
        return Query(statuses=frozenset({status_words[rest]}), mine=mine)
    if not rest:
        return Query(statuses=frozenset(str(status) for status in OPEN_STATUSES), mine=mine)
    return Query(words=tuple(words[:MAX_WORDS]), mine=mine)


def status_names() -> dict[str, str]:
    """Each status by its stored name, spelled with spaces too ("in progress")."""
    names = {str(status): str(status) for status in Status}
    return names | {name.replace("_", " "): name for name in names}


async def find_tickets(
    session: AsyncSession,
    query: Query,
    *,
    person: Person,
    whole_queue: bool,
    skip: int = 0,
    count: int = MAX_RESULTS,
) -> list[Found]:
    """The tickets that match, newest change first: the whole queue for the desk, else only
    those the person reported or opened for someone."""
    statement = _matching(query, person=person, whole_queue=whole_queue)
    statement = statement.offset(max(skip, 0)).limit(min(max(count, 1), MAX_RESULTS))
    rows = (await session.execute(statement)).all()
    return [Found(ticket, reporter, assignee) for ticket, reporter, assignee in rows]


async def find_ticket(session: AsyncSession, key: str) -> Found | None:
    """One ticket by key, whoever asks: the caller decides how much of it they may see."""
    row = (await session.execute(_ONE, {"key": key.strip().upper()})).first()
    return None if row is None else Found(row[0], row[1], row[2])


# Built once: a refresh and a search run them on every press, and building the aliased joins
# costs more than the database takes to answer.
_REPORTER, _ASSIGNEE = aliased(Person, name="reporter"), aliased(Person, name="assignee")
_WITH_PEOPLE = (
    select(Ticket, _REPORTER, _ASSIGNEE)
    .outerjoin(_REPORTER, _REPORTER.id == Ticket.reporter_id)
    .outerjoin(_ASSIGNEE, _ASSIGNEE.id == Ticket.assignee_id)
)
_ONE = _WITH_PEOPLE.where(Ticket.key == bindparam("key"))
_NEWEST_FIRST = _WITH_PEOPLE.order_by(Ticket.updated_at.desc(), Ticket.id.desc())


def _matching(query: Query, *, person: Person, whole_queue: bool) -> Select[Ticket, Person, Person]:
    statement = _NEWEST_FIRST
    if not whole_queue:
        statement = statement.where(
            or_(Ticket.reporter_id == person.id, Ticket.opened_by_id == person.id)
        )
    elif query.mine:
        # Written so that no index on the column is used: see the statuses below.
        statement = statement.where(Ticket.assignee_id + 0 == person.id)
    if query.key is not None:
        return statement.where(Ticket.key == query.key)
    if query.statuses:
        # The queue is read newest change first until a page is found, by the index on
        # updated_at. Compared as they are, SQLite takes the status index instead and sorts
        # every open ticket: 350 ms over 100,000 tickets, against a few with the column
        # wrapped so that its index is not used.
        status = Ticket.status + "" if whole_queue else Ticket.status
        statement = statement.where(status.in_(sorted(query.statuses)))
    for word in query.words:
        escaped = _LIKE_SPECIALS.sub(r"\\\1", word)
        pattern = f"%{escaped}%"
        statement = statement.where(
            or_(Ticket.summary.ilike(pattern, escape="\\"), Ticket.key.ilike(pattern, escape="\\"))
        )
    return statement
