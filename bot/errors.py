"""The typed errors that cross module boundaries and are turned into user-facing answers."""

from __future__ import annotations


class EsmbotError(Exception):
    """Base of esmbot's own errors: the message is safe to show to the person concerned."""


class ConfigError(EsmbotError):
    """The configuration (environment or esmbot.toml) is wrong; the message names the key."""
