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
from bot.db import utcnow
from bot.directory.models import AudienceBinding, Conversation, Person
from bot.notify.drafts import Draft
from bot.notify.labels import labelled
from bot.notify.metrics import Metrics
from bot.notify.models import OutboxMessage
from bot.notify.outbox import PENDING
from bot.notify.render import Renderer
from bot.notify.routing import AFFECTED, AGENTS, ASSIGNEE, CUSTOMER, TOLD_AFTER, Intent
from bot.notify.template_error import TemplateError
from bot.notify.views import Reader, TicketView
from bot.problems.models import ProblemLink
from bot.tickets.lifecycle import Status
from bot.tickets.models import Ticket

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# What an owner must hear even without a 1:1 chat with the bot: news only the customer has.
# (An assignment is already on the ticket's card in the channel; a reopen goes there anyway.)
OWNER_MUST_HEAR = frozenset({"agents/customer_replied"})
# What only the reporter gets, not a key user who opened the ticket for them: the survey asks
# the person who was helped.
REPORTER_ONLY = frozenset({"customer/survey"})
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


class DraftRow(TypedDict):
    """An outbox row as `compose` writes it: the draft now, the activity rendered when sent."""

    next_attempt_at: datetime
    dedupe_key: str
    conversation_id: int
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
    ) -> None:
        self._renderer, self._organisation = renderer, organisation
        self.suggest = suggest
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
        """Writes what `compose` drafts into the caller's transaction; returns how many rows."""
        rows = await self.compose(
            session, ticket=ticket, intents=intents, origin=origin, extras=extras
        )
        await self.insert(session, rows)
        return len(rows)

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
        for intent in intents:
            addressed = await self._recipients(session, intent, ticket)
            # The owner's card may fall back to a channel that has it already: once is enough.
            recipients = [
                recipient
                for recipient in addressed
                if (intent.template, recipient.conversation_id) not in drafted
            ]
            drafted.update((intent.template, r.conversation_id) for r in recipients)
            if not addressed:
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
            for recipient in recipients:
                draft = Draft(intent.template, view, recipient.reader, extras)
                key = f"{origin}:{intent.audience}:{intent.template}:{recipient.conversation_id}"
                rows.append(
                    {
                        "next_attempt_at": now,
                        "dedupe_key": key[:256],
                        "conversation_id": recipient.conversation_id,
                        "ticket_id": ticket.id,
                        "audience": intent.audience,
                        "template": intent.template,
                        "activity": None,
                        "draft": draft.to_json(),
                        "broadcast_id": None,
                    }
                )
        return _without_untold(rows, ticket.key, self.metrics)

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

    async def _recipients(
        self, session: AsyncSession, intent: Intent, ticket: Ticket
    ) -> list[Recipient]:
        audience = intent.audience
        if audience == CUSTOMER:
            reporter = (
                await self.personal(session, ticket.reporter_id) if ticket.reporter_id else []
            )
            opener = ticket.opened_by_id
            if (
                opener is None
                or opener == ticket.reporter_id
                or not self._organisation.key_user_updates
                or intent.template in REPORTER_ONLY
            ):
                return reporter
            # The key user who opened it for a colleague follows it as the colleague does.
            return reporter + await self.personal(session, opener)
        if audience == AFFECTED:
            return await self.affected(session, ticket.id)
        if audience == ASSIGNEE:
            if ticket.assignee_id is None or not await self._owned_by_agent(session, ticket):
                # The desk's cards are for the desk: an assignee without the agent role (a Jira
                # account that also reports tickets) gets none of them; the agents' channel does.
                return await self.channel(session, AGENTS)
            owner = await self.personal(session, ticket.assignee_id)
            if owner or intent.template not in OWNER_MUST_HEAR:
                return owner
            # An owner who never opened a chat with the bot still hears it, in the agents' channel.
            return await self.channel(session, AGENTS)
        return await self.channel(session, audience)

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


def _without_untold(rows: list[DraftRow], key: str, metrics: Metrics | None) -> list[DraftRow]:
    """The rows, less those that speak of a message that no row of theirs carries."""
    drafted = {row["template"] for row in rows}
    kept = []
    for row in rows:
        if TOLD_AFTER.get(row["template"], row["template"]) in drafted:
            kept.append(row)
        else:
            log.info(
                "not said: what it speaks of went to nobody",
                extra={
                    "ticket": key,
                    "template": row["template"],
                    "needs": TOLD_AFTER[row["template"]],
                },
            )
            if metrics is not None:
                metrics.unaddressed(row["audience"], row["template"])
    return kept


async def _person(session: AsyncSession, person_id: int | None) -> Person | None:
    return None if person_id is None else await session.get(Person, person_id)
