"""Slash-style commands for agents and managers: a registry, its runner and the commands."""

from bot.commands.help import help_command
from bot.commands.managers import MANAGER_COMMANDS
from bot.commands.problems import PROBLEM_COMMANDS
from bot.commands.queue import QUEUE_COMMANDS
from bot.commands.registry import Registry
from bot.commands.subscribe import SUBSCRIPTION_COMMANDS
from bot.commands.talk import TALK_COMMANDS
from bot.commands.tickets import TICKET_COMMANDS


def build_registry() -> Registry:
    """Every command esmbot understands, in one registry that /help and the manifest read."""
    registry = Registry(
        [
            *SUBSCRIPTION_COMMANDS,
            *TICKET_COMMANDS,
            *TALK_COMMANDS,
            *QUEUE_COMMANDS,
            *MANAGER_COMMANDS,
            *PROBLEM_COMMANDS,
        ]
    )
    registry.register(help_command(registry))
    return registry


__all__ = ["Registry", "build_registry"]
