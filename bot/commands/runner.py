"""Runs one typed command: parse, check scope and role, run, and turn errors into answers."""

from __future__ import annotations

from bot.commands.errors import told
from bot.commands.registry import Command, CommandContext, Registry, Reply
from bot.directory.service import record_audit
from bot.errors import EsmbotError


async def run_command(registry: Registry, context: CommandContext, text: str) -> Reply:
    try:
        command, args = registry.parse(text)
    except EsmbotError as error:
        return Reply(told(error, context.phrases()))
    refusal = await refuse(command, context, text)
    if refusal is not None:
        return refusal
    try:
        return await command.run(context, args)
    except EsmbotError as error:
        # CommandError, an unknown ticket, an illegal move, Jira's refusal: all safe to show.
        return Reply(told(error, context.phrases()))


async def refuse(command: Command, context: CommandContext, text: str) -> Reply | None:
    """Why this person may not run the command here, or None when they may.

    Typed commands and card buttons both pass through here, so a button never does what its
    command would refuse.
    """
    words = context.phrases()
    if context.conversation.scope not in command.scopes:
        places = [words.t(f"commands.scope.{scope}") for scope in sorted(command.scopes)]
        return Reply(
            words.t(
                "commands.refused.scope",
                name=command.name,
                places=words.listing(places, style="or"),
            )
        )
    if command.allows(context.roles):
        return None
    # Refusals are recorded too: a manager may want to know who tried.
    async with context.database.transaction() as session:
        await record_audit(
            session,
            actor=context.person,
            action=command.name,
            outcome="refused",
            target=context.conversation.conversation_id,
            detail={"text": text[:500], "roles": sorted(context.roles)},
        )
    roles = sorted(command.roles or frozenset())
    named = [words.t(f"commands.role.{role}") for role in roles]
    if "agents" in roles:
        who = words.listing(named)
        return Reply(words.t("commands.refused.desk", name=command.name, roles=who))
    needed = words.listing(named, style="or")
    return Reply(words.t("commands.refused.role", name=command.name, roles=needed))
