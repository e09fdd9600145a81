"""Agent commands that move a ticket or change who owns it, each one call into TicketActions."""

from __future__ import annotations

import argparse

from bot.commands.common import (
    AGENTS,
    DESK,
    KEY_ARGUMENT,
    joined,
    person_named,
    roles_of,
)
from bot.commands.registry import Command, CommandContext, CommandError, Reply, argument
from bot.directory.models import Person
from bot.directory.service import bound_conversation
from bot.tickets.events import Change
from bot.tickets.lifecycle import Status

PRIORITIES = ("P1", "P2", "P3", "P4")

# Moves that need words for someone: each has its own command, which asks for them.
_DEDICATED = {
    Status.WAITING_FOR_CUSTOMER: "/ask {key} <your question>",
    Status.WAITING_FOR_VENDOR: "/escalate {key} vendor <what the vendor needs to know>",
    Status.RESOLVED: "/resolve {key} <what fixed it>",
    Status.REOPENED: "/reopen {key} <why>",
}


async def acknowledge(context: CommandContext, key: str) -> Reply:
    """The first response; shared by /ack and the Acknowledge button."""
    applied = await context.actions.acknowledge(key, actor=context.person)
    owner = " and it is yours now" if Change.ASSIGNED in applied.changes else ""
    told = (
        " The requester hears that someone is on it."
        if Change.ACKNOWLEDGED in applied.changes
        else ""
    )
    return Reply(f"{applied.ticket_key} acknowledged{owner}.{told}")


async def take(context: CommandContext, key: str) -> Reply:
    """The Assign to me button: it only takes a ticket nobody owns, so one of two presses wins."""
    _must_be_agent(context, context.person, "You")
    applied = await context.actions.assign(
        key, context.person, actor=context.person, only_if_unassigned=True
    )
    return Reply(f"{applied.ticket_key} is yours now.")


async def ack(context: CommandContext, args: argparse.Namespace) -> Reply:
    return await acknowledge(context, args.key)


async def assign(context: CommandContext, args: argparse.Namespace) -> Reply:
    person = await person_named(context, args.person)
    yours = person.id == context.person.id
    _must_be_agent(context, person, "You" if yours else person.name or person.email or "They")
    applied = await context.actions.assign(args.key, person, actor=context.person)
    name = "yours" if yours else f"{person.name or person.email}'s"
    if Change.ASSIGNED not in applied.changes:
        return Reply(f"{applied.ticket_key} is already {name}.")
    return Reply(f"{applied.ticket_key} is {name} now.")


async def status(context: CommandContext, args: argparse.Namespace) -> Reply:
    target = Status(args.status)
    if target in _DEDICATED:
        raise CommandError(
            f"To set {target}, use {_DEDICATED[target].format(key=args.key)}: it tells the "
            "right people why."
        )
    if target == Status.ACKNOWLEDGED:
        return await acknowledge(context, args.key)
    applied = await context.actions.move(args.key, target, actor=context.person)
    return _moved(applied.ticket_key, target, bool(applied.changes))


async def resolve(context: CommandContext, args: argparse.Namespace) -> Reply:
    resolution = joined(args.resolution)
    applied = await context.actions.move(
        args.key, Status.RESOLVED, actor=context.person, fields={"resolution": resolution}
    )
    if Change.RESOLVED not in applied.changes:
        return Reply(f"{applied.ticket_key} was already resolved; nothing was sent.")
    return Reply(
        f"{applied.ticket_key} resolved. The requester gets your resolution and can confirm "
        "it or tell us it is still broken."
    )


async def close(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.move(args.key, Status.CLOSED, actor=context.person)
    return _moved(applied.ticket_key, Status.CLOSED, bool(applied.changes))


async def reopen(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.move(
        args.key, Status.REOPENED, actor=context.person, reason=joined(args.reason)
    )
    if not applied.changes:
        return Reply(f"{applied.ticket_key} is already reopened.")
    return Reply(f"{applied.ticket_key} reopened; it is back in the queue.")


async def priority(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.set_priority(
        args.key, args.priority, actor=context.person, reason=joined(args.reason) or None
    )
    if not applied.changes:
        return Reply(f"{applied.ticket_key} is already {args.priority}.")
    major = (
        " Management hears of it as a major incident."
        if Change.PRIORITY_RAISED_TO_P1 in applied.changes
        else ""
    )
    return Reply(
        f"{applied.ticket_key} is {args.priority} now; its deadlines follow that priority.{major}"
    )


async def escalate(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.move(
        args.key, Status.WAITING_FOR_VENDOR, actor=context.person, reason=joined(args.reason)
    )
    if not applied.changes:
        return Reply(f"{applied.ticket_key} is already with the vendor.")
    async with context.database.transaction() as session:
        channel = await bound_conversation(session, audience="vendor")
    if channel is None:
        return Reply(
            f"{applied.ticket_key} now waits for the vendor, but no channel receives vendor "
            "messages yet, so the requester has not been told of the vendor either: a manager "
            "can type /subscribe vendor in the vendor's channel."
        )
    return Reply(
        f"{applied.ticket_key} escalated: the vendor's channel has the details and the "
        "requester knows the vendor is involved."
    )


def _must_be_agent(context: CommandContext, person: Person, who: str) -> None:
    if "agents" not in roles_of(context.organisation, person):
        verb = "are" if who == "You" else "is"
        raise CommandError(f"Only agents can own tickets, and {who} {verb} not one.")


def _moved(key: str, target: Status, changed: bool) -> Reply:
    if not changed:
        return Reply(f"{key} is already {target}.")
    return Reply(f"{key} is {target} now.")


TICKET_COMMANDS = (
    Command(
        name="ack",
        example="/ack SR-1",
        run=ack,
        roles=AGENTS,
        arguments=(KEY_ARGUMENT,),
    ),
    Command(
        name="assign",
        example="/assign SR-1 me",
        run=assign,
        roles=DESK,
        arguments=(KEY_ARGUMENT, argument("person", metavar="@person|me")),
    ),
    Command(
        name="status",
        example="/status SR-1 in_progress",
        run=status,
        roles=AGENTS,
        arguments=(
            KEY_ARGUMENT,
            argument("status", type=str.lower, choices=[str(s) for s in Status], metavar="status"),
        ),
    ),
    Command(
        name="resolve",
        example="/resolve SR-1 Patched the payment module",
        run=resolve,
        roles=AGENTS,
        arguments=(KEY_ARGUMENT, argument("resolution", nargs="+")),
    ),
    Command(
        name="close",
        example="/close SR-1",
        run=close,
        roles=AGENTS,
        arguments=(KEY_ARGUMENT,),
    ),
    Command(
        name="reopen",
        example="/reopen SR-1 The error is back after the update",
        run=reopen,
        roles=AGENTS,
        arguments=(KEY_ARGUMENT, argument("reason", nargs="+")),
    ),
    Command(
        name="priority",
        example="/priority SR-1 P2 Checkout down for one store",
        run=priority,
        roles=DESK,
        arguments=(
            KEY_ARGUMENT,
            argument("priority", type=str.upper, choices=PRIORITIES),
            argument("reason", nargs="*"),
        ),
    ),
    Command(
        name="escalate",
        example="/escalate SR-1 vendor Payment module throws 500 on 4.0.2.3",
        run=escalate,
        roles=DESK,
        arguments=(
            KEY_ARGUMENT,
            argument("to", type=str.lower, choices=("vendor",), metavar="vendor"),
            argument("reason", nargs="+"),
        ),
    ),
)
