"""Runs one typed command: parse, check scope and role, run, and turn errors into answers."""

from __future__ import annotations

from bot.commands.registry import Command, CommandContext, CommandError, Registry, Reply
from bot.directory.service import record_audit
from bot.errors import EsmbotError

_SCOPE_NAMES = {
    "personal": "our 1:1 chat",
    "channel": "a team channel",
    "groupChat": "a group chat",
}


async def run_command(registry: Registry, context: CommandContext, text: str) -> Reply:
    try:
        command, args = registry.parse(text)
    except CommandError as error:
        return Reply(str(error))
    refusal = await refuse(command, context, text)
    if refusal is not None:
        return refusal
    try:
        return await command.run(context, args)
    except EsmbotError as error:
        # CommandError, an unknown ticket, an illegal move, Jira's refusal: all safe to show.
        return Reply(str(error))


async def refuse(command: Command, context: CommandContext, text: str) -> Reply | None:
    """Why this person may not run the command here, or None when they may.

    Typed commands and card buttons both pass through here, so a button never does what its
    command would refuse.
    """
    if context.conversation.scope not in command.scopes:
        places = " or ".join(_SCOPE_NAMES[scope] for scope in sorted(command.scopes))
        return Reply(f"/{command.name} works in {places}: type it there.")
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
    roles = command.roles or frozenset()
    if "agents" in roles:
        who = " and ".join(sorted(roles))
        return Reply(
            f"Sorry, that is for the service desk: only {who} can use /{command.name}. "
            "Nothing was changed."
        )
    needed = " or ".join(sorted(roles))
    return Reply(f"Sorry, /{command.name} is only for {needed}. Nothing was changed.")
