"""The one error a message render raises, naming the template and the key at fault."""

from __future__ import annotations

from bot.errors import EsmbotError


class TemplateError(EsmbotError):
    """A message could not be rendered; names the template and, where one is at fault, the key."""

    def __init__(self, message: str, *, template: str, key: str | None = None) -> None:
        self.template = template
        self.key = key
        super().__init__(f"{template}: {message}")
