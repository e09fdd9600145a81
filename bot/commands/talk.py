"""Agent commands that put words on a ticket: a reply to the customer, an internal note, a question."""

from __future__ import annotations

import argparse

from bot.commands.common import AGENTS, DESK, KEY_ARGUMENT, joined
from bot.commands.registry import Command, CommandContext, Reply, argument
from bot.tickets.events import Change


async def reply(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.comment(
        args.key, joined(args.text), actor=context.person, public=True
    )
    return Reply(f"Sent to the requester of {applied.ticket_key}.")


async def note(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.comment(
        args.key, joined(args.text), actor=context.person, public=False
    )
    return Reply(f"Note added to {applied.ticket_key}. Only the desk sees it.")


async def ask(context: CommandContext, args: argparse.Namespace) -> Reply:
    applied = await context.actions.ask(args.key, joined(args.question), actor=context.person)
    if Change.WAITING_FOR_CUSTOMER not in applied.changes:
        # It was waiting already: the question went out as one more message.
        return Reply(f"Asked. {applied.ticket_key} was already waiting for the requester.")
    return Reply(
        f"Asked. {applied.ticket_key} now waits for the requester; the resolution clock is "
        "paused until they answer."
    )


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
)
