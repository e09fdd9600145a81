"""/help: the list of commands, or one command in detail, from the registry in the asker's words."""

from __future__ import annotations

import argparse

from bot.commands.registry import Command, CommandContext, CommandError, Registry, Reply, argument


def help_command(registry: Registry) -> Command:
    async def run(context: CommandContext, args: argparse.Namespace) -> Reply:
        words = context.phrases()
        if args.command:
            name = args.command.removeprefix("/")
            command = registry.get(name)
            if command is None:
                raise CommandError("commands.help.unknown", name=name)
            return Reply(
                f"/{command.name}: {words.t(command.summary_key)}\n"
                f"{words.t('commands.help.usage', usage=command.usage)}\n"
                f"{words.t('commands.help.example', example=command.example)}"
            )
        scope = context.conversation.scope
        usable = [c for c in registry if c.allows(context.roles) and scope in c.scopes]
        lines = [f"- {command.usage}: {words.t(command.summary_key)}" for command in usable]
        elsewhere = [
            f"/{c.name}" for c in registry if c.allows(context.roles) and scope not in c.scopes
        ]
        if elsewhere:
            lines.append(words.t("commands.help.elsewhere", commands=", ".join(elsewhere)))
        return Reply("\n".join([words.t("commands.help.intro"), *lines]))

    return Command(
        name="help",
        example="/help subscribe",
        run=run,
        arguments=(argument("command", nargs="?"),),
    )
