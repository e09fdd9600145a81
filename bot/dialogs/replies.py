"""One-turn answers to a customer: their tickets, one ticket's story, and what their buttons do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialogs.voice import Desk, Voice
from bot.directory.models import Person
from bot.directory.service import person_by_id
from bot.errors import EsmbotError
from bot.tickets import requester
from bot.tickets.csat import Outcome
from bot.tickets.lifecycle import Status
from bot.tickets.models import Ticket
from bot.tickets.service import ticket_by_key

ANSWER_LIMIT = 4000


@dataclass(frozen=True)
class TicketLine:
    """One row of the "my tickets" card."""

    key: str
    summary: str
    status: str
    owner: str | None
    due: datetime | None
    due_name: str | None = None  # which deadline `due` is: "first_response" or "resolution"
    for_name: str | None = None  # the colleague a key user opened it for


@dataclass(frozen=True)
class Answered:
    """What a button press gets: a reply, and the card to put in place of the pressed one."""

    reply: Activity
    card: Activity | None = None


async def my_tickets(voice: Voice, desk: Desk, *, closed: bool = False) -> Activity:
    async with desk.database.reading() as session:
        found, total = await requester.tickets_of(session, person=voice.person, closed=closed)
    if not found:
        return voice.text("chat.check.none_closed" if closed else "chat.check.none_open")
    lines = tuple(_line(ticket, owner, whom) for ticket, owner, whom in found)
    return voice.card("my_tickets", extras={"tickets": lines, "total": total, "closed": closed})


async def ticket_status(voice: Voice, desk: Desk, key: str) -> Activity:
    notifier = desk.actions.notifier
    found = await desk.database.read(partial(_story, key=key, person=voice.person))
    if found is None or notifier is None:
        return voice.text("chat.check.unknown", key=key.upper())
    ticket, reporter, assignee, story = found
    view = notifier.view_of(ticket, reporter=reporter, assignee=assignee)
    name, due = requester.next_deadline(ticket) or (None, None)
    extras = {"history": tuple(story), "due": due, "due_name": name}
    return voice.card("ticket_status", ticket=view, extras=extras)


def _line(ticket: Ticket, owner: str | None, whom: str | None = None) -> TicketLine:
    name, due = requester.next_deadline(ticket) or (None, None)
    return TicketLine(ticket.key, ticket.summary, ticket.status, owner, due, name, whom)


# The ticket, its reporter and assignee, and its history.
_Story = tuple[Ticket, Person | None, Person | None, list[requester.HistoryLine]]


def _story(connection: Connection, *, key: str, person: Person) -> _Story | None:
    """The ticket the person asked about if they may see it, its people and its history."""
    ticket = requester.ticket_seen(connection, key=key, person=person)
    if ticket is None:
        return None
    reporter = person_by_id(connection, ticket.reporter_id, known=person)
    assignee = person_by_id(connection, ticket.assignee_id, known=person)
    return ticket, reporter, assignee, requester.history(connection, ticket=ticket)


def help_text(voice: Voice, desk: Desk) -> Activity:
    desk_roles = {"agents", "managers"} & set(voice.person.roles)
    text = voice.t("chat.help", service=desk.organisation.service)
    if desk_roles:
        text += "\n\n" + voice.t("chat.help_desk")
    return MessageFactory.text(text)


# Buttons on the customer's cards. The card's data is the sender's to forge: every press is
# checked against the ticket as it stands and against who pressed it.


async def press(voice: Voice, desk: Desk, data: dict[str, Any]) -> Answered:
    verb = data.get("action")
    key = data.get("ticket")
    if verb == "csat":
        return await _rate(voice, desk, data)
    if not isinstance(key, str) or not key.strip():
        return Answered(voice.text("chat.press.unknown"))
    async with desk.database.reading() as session:
        ticket = await requester.visible_ticket(session, key=key, person=voice.person)
    if ticket is None:
        return Answered(voice.text("chat.check.unknown", key=key.strip().upper()[:40]))
    if verb == "answer":
        return await answer(voice, desk, ticket.key, data.get("answer"), from_card=True)
    if verb in ("solved", "still_broken"):
        return await _feedback(voice, desk, ticket.key, verb, data.get("comment"))
    if verb == "status":
        return Answered(await ticket_status(voice, desk, ticket.key))
    return Answered(voice.text("chat.press.unknown"))


async def answer(
    voice: Voice, desk: Desk, key: str, text: object, *, from_card: bool = False
) -> Answered:
    """The customer's answer to the desk's question becomes a public comment on the ticket."""
    body = text.strip() if isinstance(text, str) else ""
    if not body:
        return Answered(voice.text("chat.answer.empty"))
    body = body[:ANSWER_LIMIT]
    async with desk.database.reading() as session:
        ticket = await ticket_by_key(session, key=key)
        owner = await _owner_name(session, ticket.assignee_id) if ticket else None
    if ticket is None:
        return Answered(voice.text("chat.check.unknown", key=key))
    waiting = Status(ticket.status) == Status.WAITING_FOR_CUSTOMER
    if Status(ticket.status) in (Status.CLOSED, Status.CANCELLED):
        return Answered(voice.text("chat.answer.finished", key=ticket.key))
    try:
        await desk.actions.answer(ticket.key, body, actor=voice.person)
    except EsmbotError as error:
        return Answered(voice.text("chat.answer.failed", key=ticket.key, reason=str(error)))
    who = owner or voice.t("chat.answer.the_desk")
    phrase = "chat.answer.thanks" if waiting else "chat.answer.added"
    card = None
    if from_card:
        card = voice.card(
            "reply_received", extras={"kind": "answer", "key": ticket.key, "text": body}
        )
    return Answered(voice.text(phrase, key=ticket.key, owner=who), card)


async def _feedback(voice: Voice, desk: Desk, key: str, verb: str, comment: object) -> Answered:
    async with desk.database.reading() as session:
        ticket = await ticket_by_key(session, key=key)
    assert ticket is not None
    status = Status(ticket.status)
    if verb == "solved" and status == Status.CLOSED:
        return Answered(voice.text("chat.feedback.already_closed", key=key))
    if status != Status.RESOLVED and not (verb == "still_broken" and status == Status.CLOSED):
        return Answered(voice.text("chat.feedback.not_resolved", key=key))
    reason = " ".join(str(comment or "").split())[:ANSWER_LIMIT] or None
    target = Status.CLOSED if verb == "solved" else Status.REOPENED
    try:
        await desk.actions.move(key, target, actor=voice.person, reason=reason)
    except EsmbotError as error:
        return Answered(voice.text("chat.answer.failed", key=key, reason=str(error)))
    phrase = "chat.feedback.solved" if verb == "solved" else "chat.feedback.reopened"
    card = voice.card("reply_received", extras={"kind": verb, "key": key, "text": reason})
    return Answered(voice.text(phrase, key=key), card)


async def _rate(voice: Voice, desk: Desk, data: dict[str, Any]) -> Answered:
    survey, score = _number(data.get("survey")), _number(data.get("score"))
    if survey is None:
        return Answered(voice.text("chat.csat.unknown"))
    if score is None or not 1 <= score <= 4:
        return Answered(voice.text("chat.csat.invalid_score"))
    comment = data.get("comment") if isinstance(data.get("comment"), str) else None
    answered = await desk.actions.rate(survey, score, comment, actor=voice.person)
    if answered.outcome == Outcome.UNKNOWN:
        return Answered(voice.text("chat.csat.unknown"))
    if answered.outcome == Outcome.EXPIRED:
        return Answered(voice.text("chat.csat.expired", key=answered.ticket_key))
    key = answered.ticket_key or ""
    card = voice.card(
        "reply_received", extras={"kind": "csat", "key": key, "score": answered.score}
    )
    if answered.outcome == Outcome.ALREADY_ANSWERED:
        return Answered(voice.text("chat.csat.already", key=key), card)
    phrase = "chat.csat.thanks_low" if answered.alerted else "chat.csat.thanks"
    return Answered(voice.text(phrase, key=key), card)


def _number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
        return int(value.strip())
    return None


async def _owner_name(session: AsyncSession, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    person = await session.get(Person, person_id)
    return (person.name or person.email) if person else None
