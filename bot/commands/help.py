"""/help: the list of commands, or one command in detail, generated from the registry."""

from __future__ import annotations

import argparse

from bot.commands.registry import Command, CommandContext, CommandError, Registry, Reply, argument


def help_command(registry: Registry) -> Command:
    async def run(context: CommandContext, args: argparse.Namespace) -> Reply:
        if args.command:
            command = registry.get(args.command.removeprefix("/"))
            if command is None:
                raise CommandError(f"There is no command /{args.command.removeprefix('/')}.")
            return Reply(
                f"/{command.name}: {command.summary}\nUsage: {command.usage}\n"
                f"Example: {command.example}"
            )
        scope = context.conversation.scope
        usable = [c for c in registry if c.allows(context.roles) and scope in c.scopes]
        lines = [f"- {command.usage}: {command.summary}" for command in usable]
        elsewhere = [
            f"/{c.name}" for c in registry if c.allows(context.roles) and scope not in c.scopes
        ]
        more = f"\nIn a team channel you can also use {', '.join(elsewhere)}." if elsewhere else ""
        return Reply("Here is what you can ask me:\n" + "\n".join(lines) + more)

    return Command(
        name="help",
        summary="List the commands you can use, or explain one.",
        example="/help subscribe",
        run=run,
        arguments=(argument("command", nargs="?"),),
    )
