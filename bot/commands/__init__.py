"""Slash-style commands for agents and managers: a registry, its runner and the commands."""

from bot.commands.help import help_command
from bot.commands.registry import Registry
from bot.commands.subscribe import SUBSCRIPTION_COMMANDS


def build_registry() -> Registry:
    """Every command esmbot understands, in one registry that /help and the manifest read."""
    registry = Registry(SUBSCRIPTION_COMMANDS)
    registry.register(help_command(registry))
    return registry


__all__ = ["Registry", "build_registry"]
