"""Configuration: deployment settings from the environment, the organisation from esmbot.toml."""

from bot.config.organisation import Organisation, load_organisation, parse_organisation
from bot.config.settings import Settings, load_settings

__all__ = ["Organisation", "Settings", "load_organisation", "load_settings", "parse_organisation"]
