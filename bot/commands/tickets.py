"""Agent commands that move a ticket or change who owns it, each one call into TicketActions."""

from __future__ import annotations

import argparse

from bot.commands.common import (
    AGENTS,
    DESK,
    KEY_ARGUMENT,
    joined,
    person_named,
)
from bot.commands.registry import Command, CommandContext, CommandError, Reply, argument
from bot.directory.models import Person
from bot.directory.service import bound_conversation
from bot.tickets.events import Change
from bot.tickets.lifecycle import Status

PRIORITIES = ("P1", "P2", "P3", "P4")

# Moves that need words for someone: each has its own command, which asks for them.
_DEDICATED = frozenset(
    {Status.WAITING_FOR_CUSTOMER, Status.WAITING_FOR_VENDOR, Status.RESOLVED, Status.REOPENED}
)


async def acknowledge(context: CommandContext, key: str) -> Reply:
    """The first response; shared by /ack and the Acknowledge button."""
    applied = await context.actions.acknowledge(key, actor=context.person)
    words = context.phrases()
    done = "commands.ack.done_taken" if Change.ASSIGNED in applied.changes else "commands.ack.done"
    said = [words.t(done, key=applied.ticket_key)]
    if Change.ACKNOWLEDGED in applied.changes:
        said.append(words.t("commands.ack.told"))
    return Reply(" ".join(said))


async def take(context: CommandContext, key: str) -> Reply:
    """The Assign to me button: it only takes a ticket nobody owns, so one of two presses wins."""
    _must_be_agent(context, context.person)
    applied = await context.actions.assign(
        key, context.person, actor=context.person, only_if_unassigned=True
    )
    return Reply(context.phrases().t("commands.assign.yours_now", key=applied.ticket_key))


async def ack(context: CommandContext, args: argparse.Namespace) -> Reply:
    return await acknowledge(context, args.key)


async def assign(context: CommandContext, args: argparse.Namespace) -> Reply:
    person = await person_named(context, args.person)
    _must_be_agent(context, person)
    applied = await context.actions.assign(args.key, person, actor=context.person)
    whose = "yours" if person.id == context.person.id else "theirs"
    changed = Change.ASSIGNED in applied.changes
    said = f"commands.assign.{whose}_now" if changed else f"commands.assign.already_{whose}"
    name = person.name or person.email
    return Reply(context.phrases().t(said, key=applied.ticket_key, name=name))


async def status(context: CommandContext, args: argparse.Namespace) -> Reply:
    target = Status(args.status)
    if target in _DEDICATED:
        words = context.phrases()
        raise CommandError(
            "commands.status.dedicated",
            status=target,
            command=words.t(f"commands.status.use.{target}", key=args.key),
        )
    if target == Status.ACKNOWLEDGED:
        return await acknowledge(context, args.key)
    applied = await context.actions.move(args.key, target, actor=context.person)
    return _moved(context, applied.ticket_key, target, bool(applied.changes))


async def resolve(context: CommandContext, args: argparse.Namespace) -> Reply:
    resolution = joined(args.resolution)
    applied = await context.actions.move(
        args.key, Status.RESOLVED, actor=context.person, fields={"resolution": resolution}
    )
    said = (
        "commands.resolve.done"
        if Change.RESOLVED in applied.changes
        else "commands.resolve.already"
    )
    return Reply(context.phrases().t(said, key=applied.ticket_key))


async def close(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.move(args.key, Status.CLOSED, actor=context.person)
    return _moved(context, applied.ticket_key, Status.CLOSED, bool(applied.changes))


async def reopen(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.move(
        args.key, Status.REOPENED, actor=context.person, reason=joined(args.reason)
    )
    said = "commands.reopen.done" if applied.changes else "commands.reopen.already"
    return Reply(context.phrases().t(said, key=applied.ticket_key))


async def priority(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.set_priority(
        args.key, args.priority, actor=context.person, reason=joined(args.reason) or None
    )
    words = context.phrases()
    if not applied.changes:
        return Reply(
            words.t("commands.priority.already", key=applied.ticket_key, priority=args.priority)
        )
    said = [words.t("commands.priority.done", key=applied.ticket_key, priority=args.priority)]
    if Change.PRIORITY_RAISED_TO_P1 in applied.changes:
        said.append(words.t("commands.priority.major"))
    return Reply(" ".join(said))


async def escalate(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.move(
        args.key, Status.WAITING_FOR_VENDOR, actor=context.person, reason=joined(args.reason)
    )
    words = context.phrases()
    if not applied.changes:
        return Reply(words.t("commands.escalate.already", key=applied.ticket_key))
    async with context.database.transaction() as session:
        channel = await bound_conversation(session, audience="vendor")
    said = "commands.escalate.no_channel" if channel is None else "commands.escalate.done"
    return Reply(words.t(said, key=applied.ticket_key))


async def vendor(context: CommandContext, args: argparse.Namespace) -> Reply:
    """Marks that the vendor is needed: the escalation clock starts, and with it its nudges."""
    applied = await context.actions.vendor_needed(
        args.key, joined(args.reason), actor=context.person
    )
    words, ticket = context.phrases(), applied.ticket
    if ticket is None or ticket.vendor_escalated_at is not None:
        return Reply(words.t("commands.vendor.escalated", key=applied.ticket_key))
    said = (
        "commands.vendor.marked"
        if Change.VENDOR_NEEDED in applied.changes
        else "commands.vendor.already"
    )
    due = ticket.vendor_escalation_due
    when = words.moment(due, "commands.date.sla") if due is not None else ""
    return Reply(words.t(said, key=applied.ticket_key, due=when, zone=words.zone.key))


async def classify_type(context: CommandContext, args: argparse.Namespace) -> Reply:
    """The request type a dispatcher gives a ticket; its service levels follow the type."""
    types = context.organisation.ticket_types
    wanted = _one_of(joined(args.type), types, "commands.type.unknown", context)
    applied = await context.actions.classify(args.key, actor=context.person, type=wanted)
    said = "commands.type.done" if applied.changes else "commands.type.already"
    return Reply(context.phrases().t(said, key=applied.ticket_key, type=wanted))


async def classify_module(context: CommandContext, args: argparse.Namespace) -> Reply:
    """The module or workload a ticket is about, from the catalogue when it names modules."""
    text, modules = joined(args.module), context.organisation.modules
    wanted = _one_of(text, modules, "commands.module.unknown", context) if modules else text
    applied = await context.actions.classify(args.key, actor=context.person, module=wanted)
    said = "commands.module.done" if applied.changes else "commands.module.already"
    return Reply(context.phrases().t(said, key=applied.ticket_key, module=wanted))


def _one_of(text: str, choices: tuple[str, ...], refusal: str, context: CommandContext) -> str:
    for choice in choices:
        if choice.casefold() == text.casefold():
            return choice
    raise CommandError(
        refusal, text=text, choices=context.phrases().listing(list(choices), style="or")
    )


def _must_be_agent(context: CommandContext, person: Person) -> None:
    if "agents" not in context.organisation.person_roles(person):
        if person.id == context.person.id:
            raise CommandError("commands.assign.not_agent_you")
        name = person.name or person.email or context.phrases().t("commands.whois.they")
        raise CommandError("commands.assign.not_agent", name=name)


def _moved(context: CommandContext, key: str, target: Status, changed: bool) -> Reply:
    said = "commands.status.now" if changed else "commands.status.already"
    return Reply(context.phrases().t(said, key=key, status=target))


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
    Command(
        name="type",
        example="/type SR-1 service request",
        run=classify_type,
        roles=DESK,
        arguments=(KEY_ARGUMENT, argument("type", nargs="+")),
    ),
    Command(
        name="module",
        example="/module SR-1 Checkout",
        run=classify_module,
        roles=DESK,
        arguments=(KEY_ARGUMENT, argument("module", nargs="+")),
    ),
    Command(
        name="vendor",
        example="/vendor SR-1 needed The payment module's source is the vendor's",
        run=vendor,
        roles=DESK,
        arguments=(
            KEY_ARGUMENT,
            argument("what", type=str.lower, choices=("needed",), metavar="needed"),
            argument("reason", nargs="+"),
        ),
    ),
)
