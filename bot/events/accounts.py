"""Finds out who an unmatched Jira reporter is, after the webhook was answered, and links them late."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.directory.models import Person
from bot.events.jira_client import JiraClient, JiraError
from bot.notify.compose import Notifier
from bot.notify.metrics import Metrics
from bot.notify.routing import CUSTOMER, TICKET_CARD, Intent
from bot.tickets.events import PersonRef, TicketEvent
from bot.tickets.lifecycle import OPEN_STATUSES, Status
from bot.tickets.models import Ticket
from bot.tickets.people import match_person

log = logging.getLogger(__name__)

Monotonic = Callable[[], float]


@dataclass(frozen=True)
class LookupSettings:
    """How hard esmbot asks Jira about accounts, and how long it believes the answers."""

    timeout: float = 5.0  # the whole look-up, retries included
    attempts: int = 2
    # Jira rate-limits per user and per site: a flood of events naming one account must not
    # become a flood of look-ups, so every answer, "unknown" included, is kept for a while.
    known_seconds: float = 3600.0  # an e-mail Jira gave
    hidden_seconds: float = 900.0  # no e-mail (privacy settings) or no such account
    failed_seconds: float = 60.0  # Jira down, slow or refusing: asked again soon after


@dataclass(frozen=True)
class _Answer:
    email: str | None
    name: str
    until: float


class AccountLookup:
    """Asks Jira for the e-mail behind accounts that matched nobody, then links their tickets.

    The webhook is answered as soon as its event is stored; a reporter nobody matched stays
    recorded as unmatched, and this runs beside it: one look-up per account however many
    events name it (later ones wait for the first), the answer kept in memory, and the
    ticket's reporter set in a transaction of its own once the e-mail meets a person esmbot
    knows from Teams. The network call never holds a transaction, and a Jira outage costs
    nothing but the late link. Without Jira credentials it only counts.
    """

    def __init__(
        self,
        *,
        database: Database,
        client: JiraClient | None,
        notifier: Notifier | None = None,
        metrics: Metrics | None = None,
        settings: LookupSettings | None = None,
        on_commit: Callable[[], None] | None = None,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self._database, self._client, self._notifier = database, client, notifier
        self._metrics = metrics or Metrics()
        self._settings = settings or LookupSettings()
        self._on_commit, self._monotonic = on_commit, monotonic
        self._answers: dict[str, _Answer] = {}
        self._waiting: Counter[str] = Counter()  # unmatched events per account, not yet settled
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    def enrich(self, event: TicketEvent) -> TicketEvent:
        """The event with e-mails already learned filled in, so that it matches on its own."""
        reporter = self._known(event.reporter)
        return (
            event if reporter is event.reporter else dataclasses.replace(event, reporter=reporter)
        )

    def unmatched(self, reporters: Iterable[PersonRef]) -> None:
        """Takes the reporters that stored events left unmatched; called after their commit."""
        for ref in reporters:
            account = ref.jira_account_id
            if self._closed or self._client is None or not account or ref.email:
                # Nothing Jira could add: the e-mail is known already, or nobody can ask.
                self._metrics.reporter_unmatched()
                continue
            self._waiting[account] += 1
            if account not in self._tasks:
                self._tasks[account] = asyncio.create_task(
                    self._settle(account), name=f"jira-account-{account}"
                )

    async def settled(self) -> None:
        """Waits until every look-up started so far is done, with its tickets linked."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close()

    def _known(self, ref: PersonRef | None) -> PersonRef | None:
        if ref is None or ref.email or not ref.jira_account_id:
            return ref
        answer = self._fresh(ref.jira_account_id)
        if answer is None or answer.email is None:
            return ref
        return dataclasses.replace(ref, email=answer.email)

    def _fresh(self, account: str) -> _Answer | None:
        answer = self._answers.get(account)
        if answer is not None and answer.until <= self._monotonic():
            del self._answers[account]
            return None
        return answer

    async def _settle(self, account: str) -> None:
        # Events that arrive while a round runs make one more round: their tickets may have been
        # stored after the link was made, by a transaction that could not see the person yet.
        try:
            while self._waiting[account]:
                events = self._waiting.pop(account)
                answer = self._fresh(account) or await self._ask(account)
                linked = False
                if answer.email is not None:
                    try:
                        linked = await self._link(account, answer)
                    except Exception:  # the tickets stay unmatched; the next event tries again
                        log.exception("could not link a Jira reporter", extra={"account": account})
                if not linked:
                    self._metrics.reporter_unmatched(events)
        finally:
            self._waiting.pop(account, None)
            self._tasks.pop(account, None)

    async def _ask(self, account: str) -> _Answer:
        assert self._client is not None
        settings = self._settings
        try:
            async with asyncio.timeout(settings.timeout):
                user = await self._client.get_user(account)
        except (JiraError, TimeoutError) as error:
            missing = isinstance(error, JiraError) and error.status == 404
            seconds = settings.hidden_seconds if missing else settings.failed_seconds
            log.warning(
                "could not look up a Jira account",
                extra={"account": account, "error": str(error) or "timed out"},
            )
            return self._remember(account, None, "", seconds)
        email = user.email.strip().lower() if user.email else None
        seconds = settings.known_seconds if email else settings.hidden_seconds
        if email is None:
            log.info("a Jira account hides its e-mail", extra={"account": account})
        return self._remember(account, email, user.display_name, seconds)

    def _remember(self, account: str, email: str | None, name: str, seconds: float) -> _Answer:
        answer = _Answer(email=email, name=name, until=self._monotonic() + seconds)
        self._answers[account] = answer
        return answer

    async def _link(self, account: str, answer: _Answer) -> bool:
        """Sets the reporter of the tickets waiting for this account; False if nobody has the
        e-mail yet (the tickets then name the e-mail). Tickets that are no longer open get
        their reporter but no late message."""
        assert answer.email is not None
        async with self._database.transaction() as session:
            ref = PersonRef(name=answer.name, email=answer.email, jira_account_id=account)
            person = await match_person(session, ref=ref)
            if person is None:
                changed = await self._address(session, account, answer.email)
            else:
                changed = await self._linked(session, account, answer.email, person)
        if changed and self._on_commit is not None:
            self._on_commit()
        return person is not None

    async def _linked(self, session: AsyncSession, account: str, email: str, person: Person) -> int:
        if person.email is None:
            person.email = email  # met by UPN only: keep the address Jira gave
        tickets = (
            await session.scalars(
                select(Ticket)
                .where(
                    Ticket.reporter_id.is_(None),
                    Ticket.reporter_unmatched.in_((account, email)),
                )
                .order_by(Ticket.id)
                .with_for_update()
            )
        ).all()
        for ticket in tickets:
            ticket.reporter_id, ticket.reporter_unmatched = person.id, None
            if self._notifier is not None and Status(ticket.status) in OPEN_STATUSES:
                # The customer missed the card that tells them the ticket exists, and the
                # later progress messages redraw that card: send it now.
                await self._notifier.enqueue(
                    session,
                    ticket=ticket,
                    intents=(Intent(CUSTOMER, TICKET_CARD),),
                    origin=f"reporter-linked-{ticket.id}",
                    extras={},
                )
        log.info(
            "linked a Jira reporter after looking the account up",
            extra={"account": account, "tickets": [ticket.key for ticket in tickets]},
        )
        return len(tickets)

    async def _address(self, session: AsyncSession, account: str, email: str) -> int:
        """Tickets waiting for an account nobody esmbot knows has now name its e-mail: their
        card goes to that address (reached through Graph, or the desk hears it could not)."""
        tickets = (
            await session.scalars(
                select(Ticket)
                .where(Ticket.reporter_id.is_(None), Ticket.reporter_unmatched == account)
                .order_by(Ticket.id)
                .with_for_update()
            )
        ).all()
        for ticket in tickets:
            ticket.reporter_unmatched = email
            if self._notifier is not None and Status(ticket.status) in OPEN_STATUSES:
                await self._notifier.enqueue(
                    session,
                    ticket=ticket,
                    intents=(Intent(CUSTOMER, TICKET_CARD),),
                    origin=f"reporter-addressed-{ticket.id}",
                    extras={},
                )
        return len(tickets)
