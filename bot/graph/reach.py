"""Reaches the people whose messages wait as "reaching": installs esmbot for each once, learns
their chat and hands their rows to the dispatcher; or fails the rows and tells the desk why."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.directory.models import Conversation, Person
from bot.directory.service import ConversationSighting, remember_conversation
from bot.graph.client import GraphClient, GraphUnavailable
from bot.graph.install import Installer
from bot.graph.people import find_user, remember_user
from bot.graph.tokens import SignInError
from bot.notify.compose import Notifier
from bot.notify.drafts import Draft
from bot.notify.metrics import Metrics
from bot.notify.models import Coordination, OutboxMessage, set_coordination
from bot.notify.outbox import FAILED, PENDING, REACHING
from bot.notify.unreached import (
    FAILED as GRAPH_FAILED,
)
from bot.notify.unreached import (
    FORBIDDEN,
    NO_ADDRESS,
    NOT_IN_DIRECTORY,
    Addressee,
    addressee_at,
    addressee_of,
)
from bot.notify.views import Reader
from bot.tickets.models import Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReachSettings:
    """How the reacher paces itself."""

    # A replica holds a person this long while it reaches them; no other replica starts then.
    lease_seconds: float = 120.0
    idle_poll: float = 2.0
    people_per_round: int = 20
    in_flight: int = 4
    # Graph failing for a moment: the person is tried again after this, up to max_attempts.
    retry_seconds: float = 60.0
    max_attempts: int = 5
    # Where proactive messages go when no conversation taught esmbot its Teams region.
    service_url: str = "https://smba.trafficmanager.net/teams/"


@dataclass(frozen=True)
class Identity:
    """Who esmbot is in the chats it learns: the bot's app id, name and tenant."""

    app_id: str
    bot_name: str
    tenant_id: str


class Reacher:
    """Runs beside the dispatcher on every replica; a lease per person keeps it to one install."""

    def __init__(
        self,
        *,
        database: Database,
        graph: GraphClient,
        installer: Installer,
        notifier: Notifier,
        metrics: Metrics,
        clock: Callable[[], datetime],
        identity: Identity,
        name: str,
        settings: ReachSettings | None = None,
        on_ready: Callable[[], None] = lambda: None,
    ) -> None:
        self.database, self.graph, self.installer = database, graph, installer
        self.notifier, self.metrics, self.clock = notifier, metrics, clock
        self.identity, self.name = identity, name
        self.settings = settings or ReachSettings()
        self.on_ready = on_ready
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                reached = await self.run_once()
            except Exception:  # the loop must outlive a bad round; the rows stay and are retried
                log.exception("reaching people failed; trying again")
                reached = 0
            if reached or self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.idle_poll)
            self._wake.clear()

    async def run_once(self) -> int:
        """Reaches the people with rows due now; how many it took on."""
        now = self.clock()
        async with self.database.reading() as session:
            due = (
                await session.execute(
                    select(OutboxMessage.person_id, OutboxMessage.address)
                    .where(OutboxMessage.status == REACHING, OutboxMessage.next_attempt_at <= now)
                    .group_by(OutboxMessage.person_id, OutboxMessage.address)
                    .order_by(func.min(OutboxMessage.id))
                    .limit(self.settings.people_per_round)
                )
            ).all()
        people = list(dict.fromkeys((row.person_id, row.address) for row in due))
        limit = asyncio.Semaphore(self.settings.in_flight)

        async def one(person_id: int | None, address: str | None) -> bool:
            async with limit:
                return await self.reach(person_id, address)

        taken = await asyncio.gather(*(one(*person) for person in people))
        return sum(taken)

    async def reach(self, person_id: int | None, address: str | None) -> bool:
        """Reaches one person, unless another replica holds them; True when this one did."""
        lease = await self._lease(person_id, address)
        if lease is None:
            return False
        try:
            return await self._reach(person_id, address)
        finally:
            await self._release(lease)

    async def _reach(self, person_id: int | None, address: str | None) -> bool:
        async with self.database.transaction() as session:
            person = await _known(session, person_id, address)
            if not await _waiting(session, person_id, address, person):
                return False  # another replica reached them before this one held the lease
            chat = await _personal_chat(session, person) if person is not None else None
            if person is not None and chat is not None:  # known already: a turn, a replica
                await self._settle(session, person_id, address, person, chat)
                self.on_ready()
                return True
        lookup = (
            (person.aad_object_id or person.email or person.upn) if person is not None else None
        ) or address
        addressee = addressee_of(person) if person is not None else addressee_at(address or "")
        if not lookup:
            await self._fail(person_id, address, addressee, NO_ADDRESS, "no address to look up")
            return True
        try:
            user, answer = await find_user(self.graph, lookup)
            if user is None:
                reason = {403: FORBIDDEN, 404: NOT_IN_DIRECTORY}.get(answer.status, GRAPH_FAILED)
                detail = f"{answer.status} {answer.error_code}: {answer.error_message}"
                await self._fail(person_id, address, addressee, reason, detail)
                return True
            async with self.database.transaction() as session:
                found = await remember_user(session, user, tenant_id=self.identity.tenant_id)
                addressee = addressee_of(found)
                found_id = found.id
            installed = await self.installer.install(user.object_id)
        except (GraphUnavailable, SignInError) as error:
            await self._fail(person_id, address, addressee, GRAPH_FAILED, str(error))
            return True
        if installed.chat_id is None:
            reason = installed.reason or GRAPH_FAILED
            await self._fail(person_id, address, addressee, reason, installed.detail)
            return True
        async with self.database.transaction() as session:
            reached = await session.get(Person, found_id)
            assert reached is not None
            conversation = await remember_conversation(
                session,
                sighting=await self._sighting(session, reached, installed.chat_id),
                person=reached,
            )
            await self._settle(session, person_id, address, reached, conversation)
        log.info("reached through Graph", extra={"person": found_id})
        self.on_ready()
        return True

    async def _lease(self, person_id: int | None, address: str | None) -> tuple[str, str] | None:
        """The person's lease (its name and this holder), or None while another replica has it."""
        key = f"p{person_id}" if person_id is not None else f"a:{(address or '').lower()}"
        name = "reach:" + hashlib.blake2s(key.encode(), digest_size=16).hexdigest()
        holder = f"{self.name}:{uuid.uuid4().hex[:12]}"
        now = self.clock()
        async with self.database.transaction() as session:
            await set_coordination(
                session,
                name=name,
                until=now + timedelta(seconds=self.settings.lease_seconds),
                holder=holder,
                where=Coordination.until < now,
            )
            held = await session.scalar(
                select(Coordination.holder).where(Coordination.name == name)
            )
        return (name, holder) if held == holder else None

    async def _release(self, lease: tuple[str, str]) -> None:
        name, holder = lease
        async with self.database.transaction() as session:
            await set_coordination(
                session,
                name=name,
                until=self.clock() - timedelta(seconds=1),
                holder="",
                where=Coordination.holder == holder,
            )

    async def _sighting(
        self, session: AsyncSession, person: Person, chat_id: str
    ) -> ConversationSighting:
        # The region's service URL as Teams last gave it in an activity; the global one else.
        service_url = (
            await session.scalar(
                select(Conversation.service_url).order_by(Conversation.updated_at.desc()).limit(1)
            )
            or self.settings.service_url
        )
        identity = self.identity
        reference: dict[str, Any] = {
            "user": {"id": f"8:orgid:{person.aad_object_id}", "aadObjectId": person.aad_object_id,
                     "name": person.name},
            "bot": {"id": f"28:{identity.app_id}", "name": identity.bot_name},
            "conversation": {"id": chat_id, "conversationType": "personal", "isGroup": False,
                             "tenantId": identity.tenant_id},
            "channelId": "msteams",
            "serviceUrl": service_url,
        }  # fmt: skip
        return ConversationSighting(
            conversation_id=chat_id,
            scope="personal",
            service_url=service_url,
            reference=reference,
            tenant_id=identity.tenant_id,
        )

    async def _settle(
        self,
        session: AsyncSession,
        person_id: int | None,
        address: str | None,
        person: Person,
        conversation: Conversation,
    ) -> None:
        """The person's waiting rows go to their chat, written in their language and zone."""
        reader = Reader(name=person.name or None, locale=person.locale, time_zone=person.time_zone)
        now = self.clock()
        addresses = _addresses(person)
        if addresses:
            # Tickets that named the person by address now name the person: their next
            # messages go to the chat straight away.
            await session.execute(
                update(Ticket)
                .where(
                    Ticket.reporter_id.is_(None),
                    func.lower(Ticket.reporter_unmatched).in_(addresses),
                )
                .values(reporter_id=person.id, reporter_unmatched=None)
                .execution_options(synchronize_session=False)
            )
        for row in await _waiting(session, person_id, address, person):
            row.conversation_id, row.person_id = conversation.id, person.id
            row.status, row.next_attempt_at, row.last_error = PENDING, now, None
            if row.draft is not None:
                draft = Draft.from_json(row.draft)
                row.draft = replace(draft, reader=reader).to_json()

    async def _fail(
        self,
        person_id: int | None,
        address: str | None,
        addressee: Addressee,
        reason: str,
        detail: str,
    ) -> None:
        """The rows fail, saying why, and the desk hears once per ticket; a passing failure
        of Graph is tried again later first."""
        log.warning(
            "could not reach a person through Graph",
            extra={"person": addressee.key, "reason": reason, "detail": detail[:300]},
        )
        now = self.clock()
        failed = 0
        async with self.database.transaction() as session:
            rows = await _waiting(session, person_id, address, None)
            if (
                reason == GRAPH_FAILED
                and rows
                and max(r.attempts for r in rows) + 1 < (self.settings.max_attempts)
            ):
                for row in rows:
                    row.attempts += 1
                    row.next_attempt_at = now + timedelta(seconds=self.settings.retry_seconds)
                return
            tickets: dict[int, str] = {}
            for row in rows:
                row.status, row.last_error = FAILED, f"{reason}: {detail}"[:2000]
                if row.ticket_id is not None:
                    tickets.setdefault(row.ticket_id, row.template)
                failed += 1
            for ticket_id, template in tickets.items():
                ticket = await session.get(Ticket, ticket_id)
                if ticket is None:
                    continue
                view = await self.notifier.ticket_view(session, ticket)
                told = await self.notifier.desk_rows(
                    session, ticket, view, addressee, template, now, reason=reason, detail=detail
                )
                await self.notifier.insert(session, told)
        if failed:
            self.metrics.unreached(reason, failed)
            self.on_ready()


def _addresses(person: Person) -> list[str]:
    return [value.lower() for value in (person.email, person.upn, person.aad_object_id) if value]


async def _known(
    session: AsyncSession, person_id: int | None, address: str | None
) -> Person | None:
    """The person the rows are for: by id, or the one an earlier reach found at the address."""
    if person_id is not None:
        return await session.get(Person, person_id)
    if not address:
        return None
    wanted = address.lower()
    return await session.scalar(
        select(Person)
        .where(
            or_(
                func.lower(Person.email) == wanted,
                func.lower(Person.upn) == wanted,
                func.lower(Person.aad_object_id) == wanted,
            )
        )
        .order_by(Person.id)
        .limit(1)
    )


async def _personal_chat(session: AsyncSession, person: Person) -> Conversation | None:
    return await session.scalar(
        select(Conversation)
        .where(
            Conversation.person_id == person.id,
            Conversation.scope == "personal",
            Conversation.reachable.is_(True),
        )
        .order_by(Conversation.updated_at.desc())
        .limit(1)
    )


async def _waiting(
    session: AsyncSession, person_id: int | None, address: str | None, person: Person | None
) -> list[OutboxMessage]:
    """The rows waiting for this person, whether written for them by id or by address."""
    matches = []
    if person_id is not None:
        matches.append(OutboxMessage.person_id == person_id)
    if person is not None:
        matches.append(OutboxMessage.person_id == person.id)
        addresses = _addresses(person)
        if addresses:
            matches.append(
                and_(OutboxMessage.person_id.is_(None),
                     func.lower(OutboxMessage.address).in_(addresses))
            )  # fmt: skip
    if address is not None:
        matches.append(
            and_(OutboxMessage.person_id.is_(None),
                 func.lower(OutboxMessage.address) == address.lower())
        )  # fmt: skip
    if not matches:
        return []
    return list(
        (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == REACHING, or_(*matches))
                .order_by(OutboxMessage.id)
            )
        ).all()
    )
