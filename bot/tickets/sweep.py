"""Runs the due actions whose moment has come: re-checks each ticket, then nudges, alerts or reminds."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.db import Database
from bot.notify.compose import Notifier
from bot.notify.routing import AGENTS, ASSIGNEE, CUSTOMER, MANAGEMENT, Intent
from bot.notify.routing import VENDOR as VENDOR_CHANNEL
from bot.tickets.due import DONE, PENDING, SKIPPED, schedule_once
from bot.tickets.due_models import DueAction
from bot.tickets.events import EventKind, TicketEvent
from bot.tickets.flows import NO_RESPONSE, apply_event
from bot.tickets.lifecycle import OPEN_STATUSES, Status
from bot.tickets.models import CsatSurvey, Ticket
from bot.tickets.planning import (
    AUTO_RESOLVE,
    BREACH,
    CUSTOMER_REMINDER,
    FIRST_RESPONSE,
    NUDGE,
    RESOLUTION,
    SURVEY,
    SURVEY_EXPIRY,
    SURVEY_REMINDER,
    VENDOR,
    VENDOR_OVERDUE,
    VENDOR_REMINDER,
)
from bot.tickets.state import policy_for

log = logging.getLogger(__name__)


@dataclass
class Sweeper:
    """One sweep takes what is due, oldest first, and settles each action exactly once.

    The rows stay locked until the sweep commits (SKIP LOCKED on PostgreSQL), so replicas
    sweeping at the same moment share the work instead of repeating it.
    """

    database: Database
    organisation: Organisation
    notifier: Notifier
    clock: Callable[[], datetime]
    on_commit: Callable[[], None] | None = None
    batch: int = 500

    async def sweep(self) -> int:
        now = self.clock()
        async with self.database.transaction() as session:
            query = (
                select(DueAction)
                .where(DueAction.status == PENDING, DueAction.due_at <= now)
                .order_by(DueAction.due_at, DueAction.id)
                .limit(self.batch)
            )
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            actions = (await session.scalars(query)).all()
            for action in actions:
                ticket = await session.get(Ticket, action.ticket_id)
                outcome = (
                    "ticket gone"
                    if ticket is None
                    else await self._settle(session, action, ticket, now)
                )
                if action.status == PENDING and outcome != "moved":
                    action.status = SKIPPED if outcome.startswith("skip") else DONE
                    action.outcome, action.done_at = outcome, now
        if actions and self.on_commit is not None:
            self.on_commit()
        return len(actions)

    async def _settle(
        self, session: AsyncSession, action: DueAction, ticket: Ticket, now: datetime
    ) -> str:
        if action.kind == NUDGE:
            return await self._nudge(session, action, ticket, now)
        if action.kind == BREACH:
            return await self._breach(session, action, ticket, now)
        if action.kind == CUSTOMER_REMINDER:
            return await self._remind_customer(session, action, ticket)
        if action.kind == AUTO_RESOLVE:
            return await self._auto_resolve(session, action, ticket, now)
        if action.kind in (SURVEY, SURVEY_REMINDER, SURVEY_EXPIRY):
            return await self._survey(session, action, ticket, now)
        if action.kind in (VENDOR_REMINDER, VENDOR_OVERDUE):
            return await self._vendor_response(session, action, ticket)
        return f"skipped: unknown kind {action.kind}"

    async def _nudge(
        self, session: AsyncSession, action: DueAction, ticket: Ticket, now: datetime
    ) -> str:
        due = _deadline(ticket, action.sla)
        if due is None or _met(ticket, action.sla):
            return "skipped: met"
        if now >= due:
            # After downtime a nudge for a deadline already missed only adds noise: the breach says it.
            return "skipped: folded into the breach"
        later = await session.scalar(
            select(DueAction.id).where(
                DueAction.ticket_id == ticket.id,
                DueAction.kind == NUDGE,
                DueAction.sla == action.sla,
                DueAction.status == PENDING,
                DueAction.due_at <= now,
                DueAction.fraction > (action.fraction or 0),
            )
        )
        if later is not None:
            return "skipped: superseded by a later nudge"  # after downtime, say it once
        owner = ASSIGNEE if ticket.assignee_id else AGENTS
        business = _business(self.organisation, ticket, action.sla)
        left = (
            timedelta(seconds=self.organisation.calendar.business_seconds_between(now, due))
            if business
            else due - now
        )
        await self._tell(session, action, ticket, owner, "agents/sla_nudge", {
            "sla_name": action.sla, "due": due, "time_left": left, "percent": round((action.fraction or 0) * 100),
        })  # fmt: skip
        return "nudged"

    async def _breach(
        self, session: AsyncSession, action: DueAction, ticket: Ticket, now: datetime
    ) -> str:
        due = _deadline(ticket, action.sla)
        if due is None or _met(ticket, action.sla, by=action.due_at):
            return "skipped: met in time"
        if due > action.due_at + timedelta(seconds=1):
            action.due_at = due  # the deadline moved out (priority or pause): wait for the new one
            return "moved"
        # A promise kept late (a late escalation) was late by when it was kept, not by now.
        kept = _done_at(ticket, action.sla)
        late_by = max(min(kept or now, now) - due, timedelta(0))
        await self._tell(session, action, ticket, MANAGEMENT, "management/sla_breach", {
            "sla_name": action.sla, "due": due, "late_by": late_by, "kept_late": kept is not None,
        })  # fmt: skip
        return "alerted"

    async def _vendor_response(
        self, session: AsyncSession, action: DueAction, ticket: Ticket
    ) -> str:
        """Before the vendor's respond-by its channel is reminded; after it the agents hear."""
        if ticket.status != Status.WAITING_FOR_VENDOR or ticket.vendor_responded_at is not None:
            return "skipped: the vendor answered" if ticket.vendor_responded_at else "skipped: back"
        due = ticket.vendor_response_due
        if due is None:
            return "skipped: no respond-by"
        if action.kind == VENDOR_REMINDER:
            await self._tell(session, action, ticket, VENDOR_CHANNEL, "vendor/reminder", {
                "respond_by": due,
            })  # fmt: skip
            return "reminded"
        await self._tell(session, action, ticket, AGENTS, "agents/vendor_overdue", {
            "respond_by": due,
        })  # fmt: skip
        return "told the agents"

    async def _remind_customer(
        self, session: AsyncSession, action: DueAction, ticket: Ticket
    ) -> str:
        if ticket.status != Status.WAITING_FOR_CUSTOMER or ticket.paused_since is None:
            return "skipped: answered"
        await self._tell(session, action, ticket, CUSTOMER, "customer/question", {
            "question": ticket.pending_question or "", "author": None, "reminder": True,
        })  # fmt: skip
        return "reminded"

    async def _auto_resolve(
        self, session: AsyncSession, action: DueAction, ticket: Ticket, now: datetime
    ) -> str:
        if ticket.status != Status.WAITING_FOR_CUSTOMER:
            return "skipped: answered"
        await apply_event(
            session,
            TicketEvent(
                kind=EventKind.RESOLVED,
                source="esmbot",
                ticket_key=ticket.key,
                dedupe_key=f"due:{action.dedupe_key}",
                occurred_at=now,
                status=Status.RESOLVED,
                reason=NO_RESPONSE,
            ),
            organisation=self.organisation,
            now=now,
            notifier=self.notifier,
        )
        return "resolved for no response"

    async def _survey(
        self, session: AsyncSession, action: DueAction, ticket: Ticket, now: datetime
    ) -> str:
        round_ = ticket.reopen_count + 1
        survey = await session.scalar(
            select(CsatSurvey).where(CsatSurvey.ticket_id == ticket.id, CsatSurvey.round == round_)
        )
        if action.kind == SURVEY:
            if ticket.status not in (Status.RESOLVED, Status.CLOSED) or ticket.reporter_id is None:
                return "skipped: not resolved" if ticket.reporter_id else "skipped: nobody to ask"
            if survey is not None:
                return "skipped: already surveyed"
            timers, calendar = self.organisation.timers, self.organisation.calendar
            expires_at = calendar.add(now, timers.survey_expiry)
            survey = CsatSurvey(
                ticket_id=ticket.id,
                person_id=ticket.reporter_id,
                round=round_,
                status="sent",
                due_at=action.due_at,
                sent_at=now,
                expires_at=expires_at,
            )
            session.add(survey)
            await session.flush()
            base = f"{ticket.id}:{{kind}}:-:-:{round_}"
            schedule_once(
                session,
                ticket_id=ticket.id,
                key=base.format(kind=SURVEY_REMINDER),
                kind=SURVEY_REMINDER,
                due_at=calendar.add(now, timers.survey_reminder),
            )
            schedule_once(
                session,
                ticket_id=ticket.id,
                key=base.format(kind=SURVEY_EXPIRY),
                kind=SURVEY_EXPIRY,
                due_at=expires_at,
            )
            await self._tell(
                session,
                action,
                ticket,
                CUSTOMER,
                "customer/survey",
                {"survey_id": str(survey.id), "reminder": False},
            )
            return "surveyed"
        if survey is None or survey.status != "sent":
            return "skipped: answered"
        if action.kind == SURVEY_REMINDER:
            await self._tell(
                session,
                action,
                ticket,
                CUSTOMER,
                "customer/survey",
                {"survey_id": str(survey.id), "reminder": True},
            )
            survey.reminded_at = now
            return "reminded"
        survey.status = "expired"
        return "expired"

    async def _tell(
        self,
        session: AsyncSession,
        action: DueAction,
        ticket: Ticket,
        audience: str,
        template: str,
        extras: dict[str, Any],
    ) -> None:
        if audience == ASSIGNEE and ticket.assignee_id is None:
            audience = AGENTS
        await self.notifier.enqueue(
            session,
            ticket=ticket,
            intents=[Intent(audience, template)],
            origin=f"due-{action.id}",
            extras=extras,
        )


def _deadline(ticket: Ticket, sla: str | None) -> datetime | None:
    return {
        FIRST_RESPONSE: ticket.first_response_due,
        RESOLUTION: ticket.resolution_due,
        VENDOR: ticket.vendor_escalation_due,
    }.get(sla or "")


def _done_at(ticket: Ticket, sla: str | None) -> datetime | None:
    """When the promise was kept, if it was."""
    return {
        FIRST_RESPONSE: ticket.first_response_at,
        RESOLUTION: ticket.resolved_at,
        VENDOR: ticket.vendor_escalated_at,
    }.get(sla or "")


def _met(ticket: Ticket, sla: str | None, *, by: datetime | None = None) -> bool:
    """Whether the promise was kept (by `by`, when given); a ticket no longer open needs nothing."""
    done_at = _done_at(ticket, sla)
    if done_at is not None:
        return by is None or done_at <= by
    if sla == RESOLUTION and ticket.status in (Status.CLOSED, Status.CANCELLED):
        return True
    return ticket.status not in OPEN_STATUSES and sla != VENDOR


def _business(organisation: Organisation, ticket: Ticket, sla: str | None) -> bool:
    policy = policy_for(organisation, ticket.priority, ticket.type)
    return {FIRST_RESPONSE: policy.first_response, RESOLUTION: policy.resolution}.get(
        sla or "", policy.vendor_escalation
    ).business
