"""/queue and /sla: the open tickets by SLA risk, and one ticket's deadlines, for the reader."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.commands.common import DESK, KEY_ARGUMENT, left, span, when, zone_of
from bot.commands.registry import Command, CommandContext, Reply, argument
from bot.tickets.actions import UnknownTicket
from bot.tickets.lifecycle import Status
from bot.tickets.models import Ticket
from bot.tickets.service import open_tickets, ticket_and_owner
from bot.tickets.sla import compute_deadlines, time_left
from bot.tickets.state import policy_for, sla_facts

# A chat message stays readable; the rest is counted, not listed.
QUEUE_LINES = 15

_SLA_NAMES = {
    "first_response": "first response",
    "resolution": "resolution",
    "vendor_escalation": "vendor escalation",
}
_EMPTY = {
    "all": "No open tickets. Enjoy the quiet.",
    "mine": "You own no open tickets.",
    "unassigned": "Every open ticket has an owner.",
    "breaching": "No open ticket is past a deadline.",
}


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
    if not rows:
        return Reply(_EMPTY[which])
    # Most at risk first: the nearest (or most overdue) deadline; paused tickets last.
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows.sort(key=lambda row: (row[0][1] if row[0] else far, row[1].id))
    zone = zone_of(context)
    lines = [_queue_line(deadline, ticket, owner, now, zone) for deadline, ticket, owner in rows]
    shown = lines[:QUEUE_LINES]
    if len(lines) > QUEUE_LINES:
        shown.append(f"…and {len(lines) - QUEUE_LINES} more.")
    title = {"all": "Open tickets", "mine": "Your open tickets"}.get(which, f"Open, {which}")
    return Reply(f"{title}, most at risk first ({zone.key}):\n" + "\n".join(shown))


def _queue_line(
    deadline: tuple[str, datetime] | None,
    ticket: Ticket,
    owner: str | None,
    now: datetime,
    zone: ZoneInfo,
) -> str:
    head = f"- {ticket.key} · {ticket.priority} · {ticket.status} · {owner or 'unassigned'}"
    if deadline is None:
        return f"{head}: waiting for the customer, clock paused · {ticket.summary[:80]}"
    name, due = deadline
    local = due.astimezone(zone)
    return (
        f"{head}: {_SLA_NAMES[name]} due {local:%a %d %b %H:%M} ({left(due - now)})"
        f" · {ticket.summary[:80]}"
    )


async def sla(context: CommandContext, args: argparse.Namespace) -> Reply:
    async with context.database.transaction() as session:
        found = await ticket_and_owner(session, key=args.key)
    if found is None:
        raise UnknownTicket(args.key)
    ticket, owner = found
    now = max(context.actions.clock(), ticket.created_at)
    organisation, zone = context.organisation, zone_of(context)
    policy = policy_for(organisation, ticket.priority)
    calendar = organisation.calendar
    # Computed for now: while the customer is awaited, the resolution deadline keeps moving.
    due = compute_deadlines(policy, calendar, sla_facts(ticket), now=now)
    closed = Status(ticket.status) == Status.CANCELLED

    def state(done: datetime | None, deadline: datetime, business: bool, verb: str) -> str:
        if done is not None:
            late = done - deadline
            verdict = f"{span(late)} late" if late > timedelta(0) else "on time"
            return f"{verb} {when(done, zone)}, {verdict}"
        if closed:
            return "not needed (cancelled)"
        remaining = time_left(deadline, now, calendar, business)
        return f"due {when(deadline, zone)}, {left(remaining, working=business)}"

    lines = [
        f"{ticket.key} · {ticket.priority} · {ticket.status} · {owner or 'unassigned'}"
        f" (times in {zone.key})",
        "First response: "
        + state(
            ticket.first_response_at,
            due.first_response_due,
            policy.first_response.business,
            "given",
        ),
    ]
    resolution = state(
        ticket.resolved_at, due.resolution_due, policy.resolution.business, "resolved"
    )
    if ticket.paused_since is not None and ticket.resolved_at is None:
        resolution += " if the customer answered now; the clock is paused"
    lines.append(f"Resolution: {resolution}")
    if due.vendor_escalation_due is not None:
        lines.append(
            "Vendor escalation: "
            + state(
                ticket.vendor_escalated_at,
                due.vendor_escalation_due,
                policy.vendor_escalation.business,
                "escalated",
            )
        )
    paused = ticket.paused_seconds + (
        (now - ticket.paused_since).total_seconds() if ticket.paused_since else 0.0
    )
    waiting = (
        f", waiting for the customer since {when(ticket.paused_since, zone)}"
        if ticket.paused_since
        else ""
    )
    if paused <= 0 and not waiting:
        lines.append("Paused: not at all")
    else:
        lines.append(f"Paused: {span(timedelta(seconds=max(paused, 0.0)))} so far{waiting}")
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
