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
    words = context.phrases()
    return Reply(
        words.t(
            "commands.subscribe.moved" if previous else "commands.subscribe.done",
            audience=audience,
            what=words.t(f"commands.subscribe.what.{audience}"),
        )
    )


async def unsubscribe(context: CommandContext, args: argparse.Namespace) -> Reply:
    audience = args.audience.lower() if args.audience else None
    async with context.database.transaction() as session:
        removed = await unbind_audiences(
            session, conversation=context.conversation, audience=audience
        )
        if not removed:
            bound = await audiences_of(session, conversation=context.conversation)
            if audience and bound:
                raise CommandError("commands.unsubscribe.not_this", audience=audience)
            raise CommandError("commands.unsubscribe.nothing")
        await record_audit(
            session,
            actor=context.person,
            action="unsubscribe",
            outcome="done",
            target=context.conversation.conversation_id,
            detail={"audiences": removed},
        )
    words = context.phrases()
    return Reply(words.t("commands.unsubscribe.done", audiences=words.listing(removed)))


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
