"""Problem records: a ticket of type problem, the incidents linked to it and the people it affects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import AuditEntry, Person
from bot.errors import EsmbotError
from bot.problems.models import ProblemAlert, ProblemAlertTicket, ProblemLink
from bot.tickets.actions import TicketActions, UnknownTicket
from bot.tickets.lifecycle import Status, is_open
from bot.tickets.models import PROBLEM, Ticket
from bot.tickets.service import ticket_by_key
from bot.tickets.system import Draft

# The key prefix of problems when esmbot is the ticket store (PRB-1); Jira names its own.
PROBLEM_PREFIX = "PRB"
_PRIORITY_ORDER = ("P1", "P2", "P3", "P4")
# What became of a spike alert (bot/problems/detector.py).
OPEN, DECLARED, DISMISSED = "open", "declared", "dismissed"


class ProblemRefused(EsmbotError):
    """A problem cannot be made or linked as asked; `reason` names the words that say why."""

    def __init__(self, reason: str, /, **params: str) -> None:
        super().__init__(f"{reason}: {params}")
        self.reason, self.params = reason, params


@dataclass(frozen=True)
class Declared:
    """A problem made: its key, the tickets linked, and those the system of record refused."""

    key: str
    linked: tuple[str, ...]
    failed: tuple[str, ...] = ()
    why: str | None = None


@dataclass(frozen=True)
class LinkedTicket:
    """A ticket as /problem show lists it, to the desk."""

    key: str
    summary: str
    status: Status
    module: str | None


@dataclass(frozen=True)
class ProblemState:
    """A problem, its linked tickets and the names of everyone it affects (for the desk only)."""

    key: str
    summary: str
    status: Status
    module: str | None
    tickets: tuple[LinkedTicket, ...]
    affected: tuple[str, ...]


@dataclass
class ProblemRecords:
    """Declares problems and links tickets and people to them; the system of record first."""

    actions: TicketActions

    async def declare(self, title: str, keys: Sequence[str], *, actor: Person) -> Declared:
        """Creates the problem and links every ticket named.

        Every ticket is checked first: if one is unfit, nothing is made. A link the system of
        record refuses after the problem exists is left out and named in the answer, so that
        the desk can link it again with /problem link.
        """
        keys = list(dict.fromkeys(key.upper() for key in keys))
        async with self.actions.database.transaction() as session:
            tickets = [await _linkable(session, key) for key in keys]
        modules = Counter(ticket.module for ticket in tickets if ticket.module)
        priorities = [ticket.priority for ticket in tickets if ticket.priority in _PRIORITY_ORDER]
        draft = Draft(
            summary=title,
            description=title,
            type=PROBLEM,
            module=modules.most_common(1)[0][0] if modules else None,
            priority=min(priorities, key=_PRIORITY_ORDER.index) if priorities else "P3",
        )
        applied = await self.actions.open(draft, reporter=actor, prefix=PROBLEM_PREFIX)
        linked, failed, why = [], [], None
        for ticket in tickets:
            try:
                await self._link(applied.ticket_key, ticket.key, actor=actor)
                linked.append(ticket.key)
            except EsmbotError as error:
                failed.append(ticket.key)
                why = str(error)
        return Declared(applied.ticket_key, tuple(linked), tuple(failed), why)

    async def declare_alert(self, alert_id: int, title: str, *, actor: Person) -> Declared:
        """Makes a problem of a spike alert's tickets; one of two presses at once wins, and the
        other is refused. Tickets linked elsewhere meanwhile are left out."""
        if not await self._decide(alert_id, DECLARED, actor=actor):
            raise ProblemRefused("alert_decided", alert=str(alert_id))
        try:
            async with self.actions.database.transaction() as session:
                counted = select(ProblemAlertTicket.ticket_id).where(
                    ProblemAlertTicket.alert_id == alert_id
                )
                linked = select(ProblemLink.ticket_id).where(ProblemLink.ticket_id.is_not(None))
                keys = list(
                    await session.scalars(
                        select(Ticket.key)
                        .where(Ticket.id.in_(counted), Ticket.id.not_in(linked))
                        .order_by(Ticket.id)
                    )
                )
            declared = await self.declare(title, keys, actor=actor)
        except BaseException:
            # No problem was made: the alert is open again for the next press.
            await self._decide(alert_id, OPEN, actor=None, undo=True)
            raise
        async with self.actions.database.transaction() as session:
            problem = await ticket_by_key(session, key=declared.key)
            await session.execute(
                update(ProblemAlert)
                .where(ProblemAlert.id == alert_id)
                .values(problem_id=problem.id if problem else None)
            )
        return declared

    async def alert_about(self, alert_id: int) -> str:
        """What a spike alert is about: its module, or the concept its tickets share."""
        async with self.actions.database.transaction() as session:
            alert = await session.get(ProblemAlert, alert_id)
        if alert is None:
            raise ProblemRefused("alert_unknown", alert=str(alert_id))
        return alert.module or alert.signature.removeprefix("words:")

    async def dismiss_alert(self, alert_id: int, *, actor: Person) -> None:
        """ "Not related": the group stays quiet for a while (esmbot.toml)."""
        if not await self._decide(alert_id, DISMISSED, actor=actor):
            raise ProblemRefused("alert_decided", alert=str(alert_id))

    async def _decide(
        self, alert_id: int, status: str, *, actor: Person | None, undo: bool = False
    ) -> bool:
        async with self.actions.database.transaction() as session:
            result = await session.execute(
                update(ProblemAlert)
                .where(
                    ProblemAlert.id == alert_id, ProblemAlert.status == (DECLARED if undo else OPEN)
                )
                .values(
                    status=status,
                    decided_at=None if undo else self.actions.clock(),
                    decided_by_id=actor.id if actor else None,
                )
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE's CursorResult

    async def link(self, ticket_key: str, problem_key: str, *, actor: Person) -> bool:
        """Links one more ticket; False when it was linked to this problem already."""
        async with self.actions.database.transaction() as session:
            problem = await _open_problem(session, problem_key)
            ticket = await ticket_by_key(session, key=ticket_key)
            if ticket is not None and await _problem_of(session, ticket.id) == problem.id:
                return False
            await _linkable(session, ticket_key)
        return await self._link(problem.key, ticket_key.upper(), actor=actor)

    async def add_affected(self, problem_key: str, person: Person) -> bool:
        """A customer who says the problem hits them too; False when they were on it already."""
        now = self.actions.clock()
        async with self.actions.database.transaction() as session:
            problem = await _open_problem(session, problem_key)
            return await _insert_link(
                session,
                problem_id=problem.id,
                person_id=person.id,
                linked_by_id=person.id,
                source="intake",
                at=now,
            )

    async def state(self, problem_key: str) -> ProblemState:
        async with self.actions.database.transaction() as session:
            problem = await ticket_by_key(session, key=problem_key)
            if problem is None or problem.type != PROBLEM:
                raise ProblemRefused("not_a_problem", key=problem_key.upper())
            linked = await session.scalars(
                select(Ticket)
                .join(ProblemLink, ProblemLink.ticket_id == Ticket.id)
                .where(ProblemLink.problem_id == problem.id)
                .order_by(Ticket.id)
            )
            tickets = tuple(
                LinkedTicket(t.key, t.summary, Status(t.status), t.module) for t in linked
            )
            reporters = select(Ticket.reporter_id).join(
                ProblemLink, ProblemLink.ticket_id == Ticket.id
            )
            people = await session.scalars(
                select(Person)
                .where(
                    (Person.id.in_(reporters.where(ProblemLink.problem_id == problem.id)))
                    | Person.id.in_(
                        select(ProblemLink.person_id).where(ProblemLink.problem_id == problem.id)
                    )
                )
                .order_by(Person.name, Person.id)
            )
            affected = tuple(person.name or person.email or "?" for person in people)
            return ProblemState(
                problem.key,
                problem.summary,
                Status(problem.status),
                problem.module,
                tickets,
                affected,
            )

    async def _link(self, problem_key: str, ticket_key: str, *, actor: Person) -> bool:
        await self.actions.system.link(problem_key, ticket_key)
        now = self.actions.clock()
        async with self.actions.database.transaction() as session:
            problem = await _open_problem(session, problem_key)
            ticket = await _linkable(session, ticket_key)
            linked = await _insert_link(
                session,
                problem_id=problem.id,
                ticket_id=ticket.id,
                linked_by_id=actor.id,
                source=self.actions.system.name,
                at=now,
            )
            if not linked:
                # Another agent linked it elsewhere between our check and this write.
                holder_id = await _problem_of(session, ticket.id)
                holder = await session.get(Ticket, holder_id) if holder_id else None
                elsewhere = holder.key if holder else problem.key
                raise ProblemRefused("linked_elsewhere", key=ticket.key, problem=elsewhere)
            session.add(
                AuditEntry(
                    at=now,
                    actor_id=actor.id,
                    action="problem.link",
                    outcome="done",
                    target=problem.key,
                    detail={"ticket": ticket.key},
                )
            )
        return True


async def _open_problem(session: AsyncSession, key: str) -> Ticket:
    problem = await ticket_by_key(session, key=key)
    if problem is None:
        raise UnknownTicket(key)
    if problem.type != PROBLEM:
        raise ProblemRefused("not_a_problem", key=problem.key)
    if not is_open(Status(problem.status)):
        raise ProblemRefused("problem_closed", key=problem.key)
    return problem


async def _linkable(session: AsyncSession, key: str) -> Ticket:
    """The ticket, if it may be linked: it exists, is no problem itself, and has none yet."""
    ticket = await ticket_by_key(session, key=key)
    if ticket is None:
        raise UnknownTicket(key)
    if ticket.type == PROBLEM:
        raise ProblemRefused("is_a_problem", key=ticket.key)
    holder = await _problem_of(session, ticket.id)
    if holder is not None:
        problem = await session.get(Ticket, holder)
        raise ProblemRefused(
            "linked_elsewhere", key=ticket.key, problem=problem.key if problem else "?"
        )
    return ticket


async def _problem_of(session: AsyncSession, ticket_id: int) -> int | None:
    return await session.scalar(
        select(ProblemLink.problem_id).where(ProblemLink.ticket_id == ticket_id)
    )


async def _insert_link(
    session: AsyncSession,
    *,
    problem_id: int,
    at: datetime,
    source: str,
    linked_by_id: int | None,
    ticket_id: int | None = None,
    person_id: int | None = None,
) -> bool:
    """Writes the link unless it exists (a replica or a second press racing us); True if new."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    written = await session.scalar(
        insert(ProblemLink)
        .values(
            problem_id=problem_id,
            ticket_id=ticket_id,
            person_id=person_id,
            linked_at=at,
            linked_by_id=linked_by_id,
            source=source,
        )
        .on_conflict_do_nothing()
        .returning(ProblemLink.id)
    )
    return written is not None
