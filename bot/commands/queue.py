"""/queue and /sla: the open tickets by SLA risk, and one ticket's deadlines, for the reader."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from bot.commands.common import DESK, KEY_ARGUMENT, left
from bot.commands.registry import Command, CommandContext, Reply, argument
from bot.notify.words import Phrases
from bot.tickets.actions import UnknownTicket
from bot.tickets.lifecycle import Status
from bot.tickets.models import Ticket
from bot.tickets.service import open_tickets, ticket_and_owner
from bot.tickets.sla import compute_deadlines, time_left
from bot.tickets.state import policy_for, sla_facts

# A chat message stays readable; the rest is counted, not listed.
QUEUE_LINES = 15


def next_deadline(ticket: Ticket) -> tuple[str, datetime] | None:
    """The earliest deadline the desk still has to meet; a paused resolution clock has none."""
    pending: list[tuple[str, datetime]] = []
    if ticket.first_response_at is None and ticket.first_response_due is not None:
        pending.append(("first_response", ticket.first_response_due))
    if (
        ticket.vendor_needed_at is not None
        and ticket.vendor_escalated_at is None
        and ticket.vendor_escalation_due is not None
    ):
        pending.append(("vendor_escalation", ticket.vendor_escalation_due))
    if (
        ticket.resolved_at is None
        and ticket.paused_since is None
        and ticket.resolution_due is not None
    ):
        pending.append(("resolution", ticket.resolution_due))
    return min(pending, key=lambda item: item[1]) if pending else None


async def queue(context: CommandContext, args: argparse.Namespace) -> Reply:
    which = args.which or "all"
    now = context.actions.clock()
    async with context.database.transaction() as session:
        found = await open_tickets(
            session,
            assignee_id=context.person.id if which == "mine" else None,
            unassigned=which == "unassigned",
        )
    rows = [(next_deadline(ticket), ticket, owner) for ticket, owner in found]
    if which == "breaching":
        rows = [row for row in rows if row[0] is not None and row[0][1] <= now]
    words = context.phrases()
    if not rows:
        return Reply(words.t(f"commands.queue.empty.{which}"))
    # Most at risk first: the nearest (or most overdue) deadline; paused tickets last.
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows.sort(key=lambda row: (row[0][1] if row[0] else far, row[1].id))
    lines = [_queue_line(words, deadline, ticket, owner, now) for deadline, ticket, owner in rows]
    shown = lines[:QUEUE_LINES]
    if len(lines) > QUEUE_LINES:
        shown.append(words.plural("commands.queue.more", len(lines) - QUEUE_LINES))
    title = words.t(f"commands.queue.title.{which}")
    heading = words.t("commands.queue.heading", title=title, zone=words.zone.key)
    return Reply("\n".join([heading, *shown]))


def _queue_line(
    words: Phrases,
    deadline: tuple[str, datetime] | None,
    ticket: Ticket,
    owner: str | None,
    now: datetime,
) -> str:
    said = {
        "key": ticket.key,
        "priority": ticket.priority,
        "status": ticket.status,
        "owner": owner or words.t("commands.queue.unassigned"),
        "summary": ticket.summary[:80],
    }
    if deadline is None:
        return words.t("commands.queue.paused", **said)
    name, due = deadline
    return words.t(
        "commands.queue.due",
        **said,
        sla=words.t(f"commands.sla_name.{name}"),
        due=words.moment(due, "commands.date.queue"),
        left=left(words, due - now),
    )


async def sla(context: CommandContext, args: argparse.Namespace) -> Reply:
    async with context.database.transaction() as session:
        found = await ticket_and_owner(session, key=args.key)
    if found is None:
        raise UnknownTicket(args.key)
    ticket, owner = found
    now = max(context.actions.clock(), ticket.created_at)
    organisation, words = context.organisation, context.phrases()
    policy = policy_for(organisation, ticket.priority, ticket.type)
    calendar = organisation.calendar
    # Computed for now: while the customer is awaited, the resolution deadline keeps moving.
    due = compute_deadlines(policy, calendar, sla_facts(ticket), now=now)
    closed = Status(ticket.status) == Status.CANCELLED

    def at(moment: datetime) -> str:
        return words.moment(moment, "commands.date.sla")

    def state(
        done: datetime | None, deadline: datetime, business: bool, verb: str, *, paused: bool
    ) -> str:
        if done is not None:
            late = done - deadline
            verdict = (
                words.t("commands.sla.late", length=words.duration(late))
                if late > timedelta(0)
                else words.t("commands.sla.on_time")
            )
            return words.t(f"commands.sla.{verb}", when=at(done), verdict=verdict)
        if closed:
            return words.t("commands.sla.not_needed")
        remaining = left(words, time_left(deadline, now, calendar, business), working=business)
        phrase = "commands.sla.due_paused" if paused else "commands.sla.due"
        return words.t(phrase, when=at(deadline), left=remaining)

    lines = [
        words.t(
            "commands.sla.heading",
            key=ticket.key,
            priority=ticket.priority,
            status=ticket.status,
            owner=owner or words.t("commands.queue.unassigned"),
            zone=words.zone.key,
        ),
        words.t(
            "commands.sla.first_response",
            state=state(
                ticket.first_response_at,
                due.first_response_due,
                policy.first_response.business,
                "given",
                paused=False,
            ),
        ),
        words.t(
            "commands.sla.resolution",
            state=state(
                ticket.resolved_at,
                due.resolution_due,
                policy.resolution.business,
                "resolved",
                paused=ticket.paused_since is not None,
            ),
        ),
    ]
    if due.vendor_escalation_due is not None:
        escalation = state(
            ticket.vendor_escalated_at,
            due.vendor_escalation_due,
            policy.vendor_escalation.business,
            "escalated",
            paused=False,
        )
        lines.append(words.t("commands.sla.vendor_escalation", state=escalation))
    paused = ticket.paused_seconds + (
        (now - ticket.paused_since).total_seconds() if ticket.paused_since else 0.0
    )
    length = words.duration(timedelta(seconds=max(paused, 0.0)))
    if ticket.paused_since is not None:
        since = at(ticket.paused_since)
        lines.append(words.t("commands.sla.paused_waiting", length=length, since=since))
    elif paused > 0:
        lines.append(words.t("commands.sla.paused", length=length))
    else:
        lines.append(words.t("commands.sla.not_paused"))
    return Reply("\n".join(lines))


QUEUE_COMMANDS = (
    Command(
        name="queue",
        example="/queue unassigned",
        run=queue,
        roles=DESK,
        arguments=(
            argument(
                "which", nargs="?", type=str.lower, choices=("mine", "unassigned", "breaching")
            ),
        ),
    ),
    Command(
        name="sla",
        example="/sla SR-1",
        run=sla,
        roles=DESK,
        arguments=(KEY_ARGUMENT,),
    ),
)
