"""Records a customer's satisfaction answer once, tells the agents, and management when it is low."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.directory.models import Person
from bot.notify.compose import Notifier
from bot.notify.routing import AGENTS, MANAGEMENT, Intent
from bot.tickets.models import CsatSurvey, Ticket, TicketEvent

SCORES = range(1, 5)
COMMENT_LIMIT = 2000


class Outcome(StrEnum):
    RECORDED = "recorded"
    ALREADY_ANSWERED = "already_answered"
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # no such survey, or not this person's: the same answer either way


@dataclass(frozen=True)
class SurveyAnswer:
    outcome: Outcome
    ticket_key: str | None = None
    score: int | None = None
    alerted: bool = False
    told: bool = False  # messages were written: the dispatcher has something to send


async def answer_survey(
    session: AsyncSession,
    *,
    survey_id: int,
    person: Person,
    score: int,
    comment: str | None,
    organisation: Organisation,
    now: datetime,
    notifier: Notifier | None,
) -> SurveyAnswer:
    """Stores one answer per survey under its row lock, so a double submit counts once."""
    if score not in SCORES:
        raise ValueError(f"a score is 1 to 4, not {score}")
    found = (
        await session.execute(
            select(CsatSurvey, Ticket)
            .join(Ticket, Ticket.id == CsatSurvey.ticket_id)
            .where(CsatSurvey.id == survey_id)
            .with_for_update(of=CsatSurvey)
        )
    ).first()
    if found is None:
        return SurveyAnswer(Outcome.UNKNOWN)
    survey, ticket = found
    if person.id not in (survey.person_id, ticket.reporter_id):
        return SurveyAnswer(Outcome.UNKNOWN)
    if survey.status == "answered":
        return SurveyAnswer(Outcome.ALREADY_ANSWERED, ticket.key, survey.score)
    if survey.status == "expired" or (survey.expires_at is not None and survey.expires_at < now):
        return SurveyAnswer(Outcome.EXPIRED, ticket.key)
    text = " ".join((comment or "").split())[:COMMENT_LIMIT] or None
    survey.status, survey.score, survey.comment, survey.answered_at = "answered", score, text, now
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            ticket_key=ticket.key,
            at=now,
            actor_id=person.id,
            actor_label=(person.email or person.name or "")[:320],
            kind="csat_answered",
            payload={"outcome": "applied", "survey": survey.id, "score": score},
            source="esmbot",
            dedupe_key=f"esmbot:csat:{survey.id}",
        )
    )
    await session.flush()
    alerted = score <= organisation.timers.low_csat and notifier is not None
    if notifier is not None:
        # Every result is a line in the agents' channel; a low one is management's business too.
        intents = [Intent(AGENTS, "agents/csat_result")]
        if alerted:
            intents.append(Intent(MANAGEMENT, "management/low_csat"))
        await notifier.enqueue(
            session,
            ticket=ticket,
            intents=intents,
            origin=f"csat-{survey.id}",
            extras={"score": score, "comment": text},
        )
    return SurveyAnswer(Outcome.RECORDED, ticket.key, score, alerted, told=notifier is not None)
