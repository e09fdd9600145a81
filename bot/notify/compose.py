"""Turns routing intents into outbox rows: finds each audience's conversations, drafts or renders for them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias, TypedDict

from sqlalchemy import Row, bindparam, insert, select, union
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.config.organisation import email_like
from bot.db import utcnow
from bot.directory.models import AudienceBinding, Conversation, Person
from bot.notify.drafts import Draft
from bot.notify.holders import holders_of
from bot.notify.labels import labelled
from bot.notify.mentions import mention_of, with_mention
from bot.notify.metrics import Metrics
from bot.notify.models import OutboxMessage
from bot.notify.outbox import FAILED, PENDING, REACHING
from bot.notify.render import Renderer
from bot.notify.routing import AFFECTED, AGENTS, ASSIGNEE, CUSTOMER, TOLD_AFTER, Intent
from bot.notify.template_error import TemplateError
from bot.notify.unreached import Addressee, addressee_at, addressee_of, reason_for
from bot.notify.views import Reader, TicketView
from bot.problems.models import ProblemLink
from bot.tickets.lifecycle import Status
from bot.tickets.models import Ticket

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# What only the reporter gets, not a key user who opened the ticket for them: the survey asks
# the person who was helped.
REPORTER_ONLY = frozenset({"customer/survey"})
COULD_NOT_REACH = "agents/could_not_reach"
# What an owner without a 1:1 chat need not hear again: the agents' channel has the ticket's card,
# redrawn with its owner, already.
CHANNEL_HAS_IT = frozenset({"agents/new_ticket"})
AGENT_ROLE = "agents"  # the role in esmbot.toml whose holders own tickets
# Rows per INSERT: well under SQLite's and asyncpg's parameter limits, and few round trips.
INSERT_CHUNK = 1000


@dataclass(frozen=True)
class Recipient:
    """One conversation an intent reaches (its row id), and who reads it there."""

    conversation_id: int
    reader: Reader


# What the agents' card of a new ticket may suggest: an open problem it looks like (its key and
# title), found by a function app.py hands in (bot/problems/known.py), or None.
Suggest = Callable[[AsyncSession, Ticket], Awaitable[dict[str, str] | None]]
SUGGESTING = frozenset({"agents/new_ticket"})


@dataclass(frozen=True)
class Reach:
    """Whom an intent reaches: conversations, the people it is for who have none yet, and the
    person a channel post mentions because it is theirs."""

    recipients: list[Recipient] = field(default_factory=list)
    missing: list[Addressee] = field(default_factory=list)
    mention: dict[str, str] | None = None
    covered: bool = False  # nobody to write to, because the channel has it already


class DraftRow(TypedDict):
    """An outbox row as `compose` writes it: the draft now, the activity rendered when sent."""

    next_attempt_at: datetime
    dedupe_key: str
    conversation_id: int | None
    person_id: int | None
    address: str | None
    status: str
    last_error: str | None
    ticket_id: int
    audience: str
    template: str
    activity: None
    draft: dict[str, Any]
    broadcast_id: None


class Notifier:
    """Writes every outbox row, in the caller's transaction, and counts it once the commit holds."""

    def __init__(
        self,
        renderer: Renderer,
        organisation: Organisation,
        *,
        jira_base_url: str = "",
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utcnow,
        suggest: Suggest | None = None,
        reaching: bool = False,
    ) -> None:
        self._renderer, self._organisation = renderer, organisation
        self.suggest = suggest
        # Whether a person without a chat is reached through Graph (their rows wait, REACHING)
        # or is told of as unreachable at once (their rows fail, and the desk hears it).
        self.reaching = reaching
        self._jira_base_url = jira_base_url.rstrip("/")
        self.metrics = metrics
        # A row falls due on the app's clock, which the dispatcher claims by, not the wall's.
        self._clock = clock

    @property
    def renderer(self) -> Renderer:
        """The renderer every message is written with, for whoever speaks in the same words."""
        return self._renderer

    def add(self, session: AsyncSession, rows: Sequence[OutboxMessage]) -> None:
        """Writes rendered rows into the caller's transaction."""
        if not rows:
            return  # a tally costs the session three listeners: none for nothing to count
        if self.metrics is not None:
            self.metrics.tally(session)  # notes them when they are flushed
        session.add_all(rows)

    async def insert(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        """Writes rows as plain values (a broadcast, an event's drafts): no objects to track.

        Every row has the same keys: one INSERT per chunk, whatever the number of rows.
        """
        if not rows:
            return
        for start in range(0, len(rows), INSERT_CHUNK):
            await session.execute(_INSERT, rows[start : start + INSERT_CHUNK])
        if self.metrics is not None:
            self.metrics.tally(session).inserted(rows)

    async def add_once(self, session: AsyncSession, row: OutboxMessage) -> bool:
        """Writes the row unless its dedupe key exists (a replica racing us makes this a no-op);
        True when this call wrote it."""
        values = {
            column.key: getattr(row, column.key)
            for column in OutboxMessage.__table__.columns
            if getattr(row, column.key, None) is not None
        }
        values.setdefault("status", PENDING)
        values.setdefault("attempts", 0)
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        statement = postgresql.insert if dialect == "postgresql" else sqlite.insert
        written = await session.scalar(
            statement(OutboxMessage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxMessage.id)
        )
        if written is not None and self.metrics is not None:
            self.metrics.tally(session).inserted([values])
        return written is not None

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        ticket: Ticket,
        intents: tuple[Intent, ...] | list[Intent],
        origin: str,
        extras: Mapping[str, Any],
    ) -> int:
        """Writes what `compose` drafts into the caller's transaction; returns how many rows
        wait to be sent."""
        rows = await self.compose(
            session, ticket=ticket, intents=intents, origin=origin, extras=extras
        )
        await self.insert(session, rows)
        return waiting(rows)

    async def compose(
        self,
        session: AsyncSession,
        *,
        ticket: Ticket,
        intents: tuple[Intent, ...] | list[Intent],
        origin: str,
        extras: Mapping[str, Any],
    ) -> list[DraftRow]:
        """One row per intent and conversation, as values for `insert`, each holding the draft
        it is rendered from when sent; `origin` (the event) makes replays harmless."""
        if not intents:
            return []
        view = await self.ticket_view(session, ticket)
        extras = {**_DEFAULT_EXTRAS, "vendor": self._organisation.service, **extras}
        if self.suggest is not None and any(i.template in SUGGESTING for i in intents):
            extras["suggested"] = await self.suggest(session, ticket)
        now = self._clock()
        rows: list[DraftRow] = []
        drafted: set[tuple[str, int]] = set()
        missed: dict[str, tuple[Addressee, str]] = {}
        for intent in intents:
            reach = await self._recipients(session, intent, ticket)
            # The owner's card may fall back to a channel that has it already: once is enough.
            recipients = [
                recipient
                for recipient in reach.recipients
                if (intent.template, recipient.conversation_id) not in drafted
            ]
            drafted.update((intent.template, r.conversation_id) for r in recipients)
            if not reach.recipients and not reach.missing and not reach.covered:
                log.info(
                    "nobody to tell",
                    extra={
                        "ticket": ticket.key,
                        "audience": intent.audience,
                        "template": intent.template,
                    },
                )
                if self.metrics is not None:
                    self.metrics.unaddressed(intent.audience, intent.template)
            said = {**extras, "mention": reach.mention} if reach.mention else extras
            for recipient in recipients:
                draft = Draft(intent.template, view, recipient.reader, said)
                key = f"{origin}:{intent.audience}:{intent.template}:{recipient.conversation_id}"
                rows.append(
                    _row(now, key, ticket.id, intent, draft.to_json(), recipient.conversation_id)
                )
            for person in reach.missing:
                draft = Draft(intent.template, view, person.reader, extras)
                key = f"{origin}:{intent.audience}:{intent.template}:to:{person.key}"
                row = _row(now, key, ticket.id, intent, draft.to_json(), None)
                row["person_id"], row["address"] = person.person_id, person.address
                if self.reaching:
                    row["status"] = REACHING
                else:
                    row["status"], row["last_error"] = FAILED, reason_for(person)
                    missed.setdefault(person.key, (person, intent.template))
                rows.append(row)
        rows = _without_untold(rows, ticket.key, self.metrics)
        for person, template in missed.values():
            rows.extend(await self.desk_rows(session, ticket, view, person, template, now))
        return rows

    async def desk_rows(
        self,
        session: AsyncSession,
        ticket: Ticket,
        view: TicketView,
        person: Addressee,
        template: str,
        now: datetime,
        reason: str | None = None,
        detail: str | None = None,
    ) -> list[DraftRow]:
        """The desk's one "could not reach" card for this ticket and person, unless written."""
        key = f"unreached:{ticket.id}:{person.key}"[:256]
        written: set[str] = session.info.setdefault(_TOLD_DESK, set())
        if key in written or await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
        ):
            return []
        written.add(key)
        desk = await self._audience(session, AGENTS)
        if not desk.recipients:
            log.warning(
                "nobody at the desk to tell of someone unreached",
                extra={"ticket": ticket.key, "person": person.key, "template": template},
            )
            if self.metrics is not None:
                self.metrics.unaddressed(AGENTS, COULD_NOT_REACH)
            return []
        extras = {
            "person": person.name,
            "address": person.address,
            "cause": reason or reason_for(person),
            "message": template,
            "detail": detail,
        }
        intent = Intent(AGENTS, COULD_NOT_REACH)
        return [
            _row(
                now,
                key if index == 0 else f"{key}:{recipient.conversation_id}"[:256],
                ticket.id,
                intent,
                Draft(COULD_NOT_REACH, view, recipient.reader, extras).to_json(),
                recipient.conversation_id,
            )
            for index, recipient in enumerate(desk.recipients)
        ]

    def activity_of(self, row: OutboxMessage) -> dict[str, Any]:
        """What the row sends: its activity, rendered now from its draft if it has none yet.

        Raises TemplateError when the draft cannot be rendered (or read).
        """
        if row.activity is not None:
            return row.activity
        try:
            draft = Draft.from_json(row.draft or {})
            folder, message = draft.template.split("/", 1)
        except Exception as error:  # whatever a stored row was changed into
            raise TemplateError(f"unreadable draft ({error!r})", template=row.template) from None
        return self._activity(folder, message, draft.view, draft.reader, draft.extras)

    def _activity(
        self,
        folder: str,
        message: str,
        view: TicketView | None,
        reader: Reader,
        extras: Mapping[str, Any],
    ) -> dict[str, Any]:
        """The Teams activity of a message: its card, with the plain text as fallback."""
        view = labelled(view, self._renderer.phrases(reader))
        rendered = self._renderer.render(folder, message, ticket=view, reader=reader, extras=extras)
        card = {**rendered.card, "fallbackText": rendered.text}
        if extras.get("mention"):
            card = with_mention(card, extras["mention"])
        return {
            "type": "message",
            "summary": rendered.summary,
            "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}],
        }

    def render_row(
        self,
        *,
        template: str,
        audience: str,
        recipient: Recipient,
        dedupe_key: str,
        view: TicketView | None,
        extras: Mapping[str, Any],
        ticket_id: int | None = None,
        broadcast_id: str | None = None,
    ) -> OutboxMessage:
        folder, message = template.split("/", 1)
        activity = self._activity(folder, message, view, recipient.reader, extras)
        return OutboxMessage(
            next_attempt_at=self._clock(),
            dedupe_key=dedupe_key,
            conversation_id=recipient.conversation_id,
            ticket_id=ticket_id,
            audience=audience,
            template=template,
            activity=activity,
            broadcast_id=broadcast_id,
        )

    async def ticket_view(self, session: AsyncSession, ticket: Ticket) -> TicketView:
        """The ticket as cards show it."""
        reporter = await _person(session, ticket.reporter_id)
        assignee = await _person(session, ticket.assignee_id)
        return self.view_of(ticket, reporter=reporter, assignee=assignee)

    def view_of(
        self, ticket: Ticket, *, reporter: Person | None, assignee: Person | None
    ) -> TicketView:
        """The ticket as cards show it, with its reporter and assignee as read by the caller."""
        jira_url = (
            f"{self._jira_base_url}/browse/{ticket.key}"
            if self._jira_base_url and ticket.source == "jira"
            else None
        )
        return TicketView(
            key=ticket.key,
            summary=ticket.summary,
            type=ticket.type,
            status=Status(ticket.status),
            priority=ticket.priority,
            created_at=ticket.created_at,
            reporter_name=(reporter.name if reporter else None) or ticket.reporter_unmatched or "",
            module=ticket.module,
            impact=ticket.impact,
            steps=ticket.steps,
            description=ticket.description or None,
            first_seen=ticket.first_occurred_at or ticket.first_occurred_on,
            first_response_due=ticket.first_response_due,
            resolution_due=ticket.resolution_due,
            vendor_escalation_due=ticket.vendor_escalation_due,
            vendor_response_due=ticket.vendor_response_due,
            assignee_name=assignee.name if assignee else None,
            reporter_email=reporter.email if reporter else None,
            resolution=ticket.resolution,
            jira_url=jira_url,
            paused=ticket.paused_since is not None,
        )

    async def _recipients(self, session: AsyncSession, intent: Intent, ticket: Ticket) -> Reach:
        audience = intent.audience
        if audience == CUSTOMER:
            reporter = await self._reporter(session, ticket)
            opener = ticket.opened_by_id
            if (
                opener is None
                or opener == ticket.reporter_id
                or not self._organisation.key_user_updates
                or intent.template in REPORTER_ONLY
            ):
                return reporter
            # The key user who opened it for a colleague follows it as the colleague does.
            colleague = await self._person(session, opener)
            return Reach(
                reporter.recipients + colleague.recipients, reporter.missing + colleague.missing
            )
        if audience == AFFECTED:
            return Reach(await self.affected(session, ticket.id))
        if audience == ASSIGNEE:
            if ticket.assignee_id is None or not await self._owned_by_agent(session, ticket):
                # The desk's cards are for the desk: an assignee without the agent role (a Jira
                # account that also reports tickets) gets none of them; the agents' channel does.
                return await self._audience(session, AGENTS)
            owner = await self._person(session, ticket.assignee_id)
            if owner.recipients:
                return owner
            if intent.template in CHANNEL_HAS_IT:
                return Reach(covered=True)
            if self.reaching:
                return owner
            # An owner who works only from the agents' channel hears it there, mentioned.
            desk = await self.channel(session, AGENTS)
            person = await _person(session, ticket.assignee_id)
            if not desk or person is None:
                return owner
            return Reach(desk, mention=mention_of(_user_id(person), person.name))
        return await self._audience(session, audience)

    async def audience_recipients(self, session: AsyncSession, audience: str) -> list[Recipient]:
        """The audience's channel, or the 1:1 chats of its role's holders who have one."""
        return (await self._audience(session, audience)).recipients

    async def _reporter(self, session: AsyncSession, ticket: Ticket) -> Reach:
        if ticket.reporter_id is not None:
            return await self._person(session, ticket.reporter_id)
        # A reporter the ticket system names by an address esmbot has not met in Teams. (A
        # Jira account id alone is looked up first: bot/events/accounts.py.)
        unmatched = ticket.reporter_unmatched
        if unmatched and email_like(unmatched):
            return Reach(missing=[addressee_at(unmatched)])
        return Reach()

    async def _person(self, session: AsyncSession, person_id: int) -> Reach:
        """A person's 1:1 chat, or the person as missing when they have none."""
        chats = await self.personal(session, person_id)
        if chats:
            return Reach(chats)
        person = await _person(session, person_id)
        return Reach(missing=[addressee_of(person)]) if person is not None else Reach()

    async def _audience(self, session: AsyncSession, audience: str) -> Reach:
        """The audience's channel, or else the 1:1 chats of the people holding its role."""
        bound = await self.channel(session, audience)
        if bound:
            return Reach(bound)
        holders = await holders_of(session, self._organisation, audience)
        reach = Reach(missing=[addressee_at(address) for address in holders.addresses])
        for person in holders.people:
            found = await self._person(session, person.id)
            reach.recipients.extend(found.recipients)
            reach.missing.extend(found.missing)
        return reach

    async def _owned_by_agent(self, session: AsyncSession, ticket: Ticket) -> bool:
        owner = await _person(session, ticket.assignee_id)
        return owner is not None and AGENT_ROLE in self._organisation.person_roles(owner)

    async def preload(self, session: AsyncSession, *, person_ids: Iterable[int]) -> None:
        """Reads every bound channel and these people's chats at once, for a batch of events.

        What the session's later messages then need is found without a query. Only a batch
        that changes no binding or chat may preload: the answers are kept until it ends.
        """
        ids = list(set(person_ids))
        known = _Preloaded()
        for audience, conversation_id in await session.execute(_BOUND_CHANNELS):
            known.channels[audience] = [_channel_recipient(conversation_id)]
        if ids:
            known.personal = {person_id: [] for person_id in ids}
            for chat in await session.execute(_PERSONAL_CHATS, {"ids": ids}):
                if not known.personal[chat.person_id]:  # the newest comes first
                    known.personal[chat.person_id] = [_personal_recipient(chat)]
        session.info[_PRELOADED] = known

    async def channel(self, session: AsyncSession, audience: str) -> list[Recipient]:
        """The channel bound to an audience, written in the organisation's language and zone."""
        known: _Preloaded | None = session.info.get(_PRELOADED)
        if known is not None:
            return known.channels.get(audience, [])
        found = (await session.execute(_BOUND_CHANNEL, {"audience": audience})).first()
        return [_channel_recipient(found.id)] if found else []

    async def affected(self, session: AsyncSession, problem_id: int) -> list[Recipient]:
        """The 1:1 chat of everyone a problem affects, once per person however many of their
        tickets it links."""
        ids = list(await session.scalars(_AFFECTED, {"problem": problem_id}))
        if not ids:
            return []
        chats = await session.execute(_PERSONAL_CHATS, {"ids": ids})
        newest: dict[int, Recipient] = {}
        for chat in chats:  # the newest comes first
            newest.setdefault(chat.person_id, _personal_recipient(chat))
        return sorted(newest.values(), key=lambda recipient: recipient.conversation_id)

    async def personal(self, session: AsyncSession, person_id: int) -> list[Recipient]:
        """A person's 1:1 chat with the bot, written in their language and time zone."""
        known: _Preloaded | None = session.info.get(_PRELOADED)
        if known is not None and person_id in known.personal:
            return known.personal[person_id]
        chat = (await session.execute(_PERSONAL_CHATS, {"ids": [person_id]})).first()
        return [_personal_recipient(chat)] if chat else []


# Built once, read as columns: every batch of events reads them, and building a statement or
# loading objects costs more than the rows themselves.
_BOUND_CHANNELS = (
    select(AudienceBinding.audience, Conversation.id)
    .join(Conversation, AudienceBinding.conversation_id == Conversation.id)
    .where(Conversation.reachable.is_(True))
)  # each audience with the reachable channel bound to it
_BOUND_CHANNEL = _BOUND_CHANNELS.where(AudienceBinding.audience == bindparam("audience"))
_PERSONAL_CHATS = (
    select(Conversation.id, Conversation.person_id, Person.name, Person.locale, Person.time_zone)
    .join(Person, Conversation.person_id == Person.id)
    .where(
        Conversation.person_id.in_(bindparam("ids", expanding=True)),
        Conversation.scope == "personal",
        Conversation.reachable.is_(True),
    )
    .order_by(Conversation.updated_at.desc())
)  # the people's reachable 1:1 chats with the bot, the most recently seen first


_AFFECTED = union(
    select(Ticket.reporter_id)
    .join(ProblemLink, ProblemLink.ticket_id == Ticket.id)
    .where(ProblemLink.problem_id == bindparam("problem"), Ticket.reporter_id.is_not(None)),
    select(ProblemLink.person_id).where(
        ProblemLink.problem_id == bindparam("problem"), ProblemLink.person_id.is_not(None)
    ),
)  # the reporters of a problem's linked tickets and the people added to it as affected


# A row of _PERSONAL_CHATS: conversation id, person id, name, locale, time zone.
_PersonalChat: TypeAlias = Row[int, int | None, str, str | None, str | None]
_PRELOADED = "preloaded_recipients"
_TOLD_DESK = "told_desk_unreached"  # the "could not reach" keys this transaction wrote
_INSERT = insert(OutboxMessage.__table__)


@dataclass
class _Preloaded:
    """The recipients a batch read up front: channels by audience, 1:1 chats by person."""

    channels: dict[str, list[Recipient]] = field(default_factory=dict)
    personal: dict[int, list[Recipient]] = field(default_factory=dict)


def _channel_recipient(conversation_id: int) -> Recipient:
    return Recipient(conversation_id, Reader(name=None, locale=None, time_zone=None))


def _personal_recipient(chat: _PersonalChat) -> Recipient:
    return Recipient(chat.id, Reader(name=chat.name, locale=chat.locale, time_zone=chat.time_zone))


# Every extra a ticket template may read; the event fills in what it knows.
_DEFAULT_EXTRAS: dict[str, Any] = {
    "comment": "",
    "author": None,
    "question": "",
    "reason": None,
    "note": None,
    "previous_status": None,
    "respond_by": None,
    "suggested": None,
}


def waiting(rows: Sequence[DraftRow]) -> int:
    """How many of the rows wait to be sent or for their person to be reached (not those that
    failed before any try)."""
    return sum(1 for row in rows if row["status"] in (PENDING, REACHING))


def _row(
    now: datetime,
    key: str,
    ticket_id: int,
    intent: Intent,
    draft: dict[str, Any],
    conversation_id: int | None,
) -> DraftRow:
    return {
        "next_attempt_at": now,
        "dedupe_key": key[:256],
        "conversation_id": conversation_id,
        "person_id": None,
        "address": None,
        "status": PENDING,
        "last_error": None,
        "ticket_id": ticket_id,
        "audience": intent.audience,
        "template": intent.template,
        "activity": None,
        "draft": draft,
        "broadcast_id": None,
    }


def _user_id(person: Person) -> str | None:
    # Teams mentions a user by their Teams id, or by their Azure AD object id.
    return person.teams_user_id or person.aad_object_id


def _without_untold(rows: list[DraftRow], key: str, metrics: Metrics | None) -> list[DraftRow]:
    """The rows, less those that speak of a message that no row of theirs carries (a row that
    failed before any try carries nothing)."""
    drafted = {row["template"] for row in rows if row["status"] != FAILED}
    kept = []
    for row in rows:
        needs = TOLD_AFTER.get(row["template"])
        if needs is None or needs in drafted:
            kept.append(row)
        else:
            log.info(
                "not said: what it speaks of went to nobody",
                extra={
                    "ticket": key,
                    "template": row["template"],
                    "needs": needs,
                },
            )
            if metrics is not None:
                metrics.unaddressed(row["audience"], row["template"])
    return kept


async def _person(session: AsyncSession, person_id: int | None) -> Person | None:
    return None if person_id is None else await session.get(Person, person_id)
