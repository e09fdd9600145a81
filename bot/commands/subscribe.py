"""/subscribe and /unsubscribe: a manager binds a channel to an audience, or releases it."""

from __future__ import annotations

import argparse

from bot.commands.registry import Command, CommandContext, CommandError, Reply, argument
from bot.directory.service import (
    AUDIENCES,
    audiences_of,
    bind_audience,
    record_audit,
    unbind_audiences,
)

_WHAT = {
    "management": (
        "SLA breach alerts, major incidents, low satisfaction scores, the daily digest and the "
        "weekly service-level report"
    ),
    "vendor": "escalations to the vendor and their reminders",
    "agents": "new tickets, SLA nudges, customer replies and satisfaction results",
}


async def subscribe(context: CommandContext, args: argparse.Namespace) -> Reply:
    audience = args.audience.lower()
    async with context.database.transaction() as session:
        previous = await bind_audience(
            session, audience=audience, conversation=context.conversation, actor=context.person
        )
        await record_audit(
            session,
            actor=context.person,
            action="subscribe",
            outcome="done",
            target=context.conversation.conversation_id,
            detail={
                "audience": audience,
                "replaced": previous.conversation_id if previous else None,
            },
        )
    moved = " It no longer goes to the channel that had it before." if previous else ""
    return Reply(f"This channel now receives the {audience} messages: {_WHAT[audience]}.{moved}")


async def unsubscribe(context: CommandContext, args: argparse.Namespace) -> Reply:
    audience = args.audience.lower() if args.audience else None
    async with context.database.transaction() as session:
        removed = await unbind_audiences(
            session, conversation=context.conversation, audience=audience
        )
        if not removed:
            bound = await audiences_of(session, conversation=context.conversation)
            raise CommandError(
                f"This channel does not receive the {audience} messages."
                if audience and bound
                else "This channel is not subscribed to anything."
            )
        await record_audit(
            session,
            actor=context.person,
            action="unsubscribe",
            outcome="done",
            target=context.conversation.conversation_id,
            detail={"audiences": removed},
        )
    return Reply(f"This channel no longer receives the {' and '.join(removed)} messages.")


SUBSCRIPTION_COMMANDS = (
    Command(
        name="subscribe",
        example="/subscribe management",
        run=subscribe,
        roles=frozenset({"managers"}),
        scopes=frozenset({"channel"}),
        arguments=(argument("audience", type=str.lower, choices=AUDIENCES),),
    ),
    Command(
        name="unsubscribe",
        example="/unsubscribe vendor",
        run=unsubscribe,
        roles=frozenset({"managers"}),
        scopes=frozenset({"channel"}),
        arguments=(argument("audience", nargs="?", type=str.lower, choices=AUDIENCES),),
    ),
)
