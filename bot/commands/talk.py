"""Agent commands that put words on a ticket: a reply to the customer, an internal note, a question."""

from __future__ import annotations

import argparse

from bot.commands.common import AGENTS, DESK, KEY_ARGUMENT, VENDOR, joined
from bot.commands.registry import Command, CommandContext, Reply, argument
from bot.tickets.events import Change


async def reply(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.comment(
        args.key, joined(args.text), actor=context.person, public=True
    )
    return Reply(context.phrases().t("commands.reply.done", key=applied.ticket_key))


async def note(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.comment(
        args.key, joined(args.text), actor=context.person, public=False
    )
    return Reply(context.phrases().t("commands.note.done", key=applied.ticket_key))


async def ask(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.ask(args.key, joined(args.question), actor=context.person)
    # Not waiting before: now it is. Waiting already: the question went out as one more message.
    said = (
        "commands.ask.done"
        if Change.WAITING_FOR_CUSTOMER in applied.changes
        else "commands.ask.already_waiting"
    )
    return Reply(context.phrases().t(said, key=applied.ticket_key))


async def update(context: CommandContext, args: argparse.Namespace) -> Reply:
    """The vendor's answer from its channel, on a ticket escalated to it."""
    applied = await context.actions.vendor_answer(args.key, joined(args.text), actor=context.person)
    return Reply(context.phrases().t("commands.update.done", key=applied.ticket_key))


TALK_COMMANDS = (
    Command(
        name="reply",
        example='/reply SR-1 "We are on it, expect news by noon."',
        run=reply,
        roles=AGENTS,
        arguments=(KEY_ARGUMENT, argument("text", nargs="+")),
    ),
    Command(
        name="note",
        example="/note SR-1 Customer runs the 2019 payment plugin",
        run=note,
        roles=DESK,
        arguments=(KEY_ARGUMENT, argument("text", nargs="+")),
    ),
    Command(
        name="ask",
        example="/ask SR-2 Which payment provider were you using?",
        run=ask,
        roles=AGENTS,
        arguments=(KEY_ARGUMENT, argument("question", nargs="+")),
    ),
    Command(
        name="update",
        example="/update SR-1 Patch 4.0.2.4 fixes it",
        run=update,
        roles=VENDOR,
        arguments=(KEY_ARGUMENT, argument("text", nargs="+")),
    ),
)
