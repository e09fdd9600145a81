"""What the dispatcher needs from Teams, said without Teams: send, re-open a chat, and how it failed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


class DeliveryError(Exception):
    """Teams did not take a message; `status` is None when no answer came (timeout, network)."""

    def __init__(
        self, status: int | None, message: str, *, retry_after: float | None = None, code: str = ""
    ) -> None:
        super().__init__(message)
        self.status, self.retry_after, self.code = status, retry_after, code

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in (412, 429) or self.status >= 500


@dataclass(frozen=True)
class Sent:
    activity_id: str | None


# Sends an activity to a stored conversation reference (or updates `replaces` in place).
Send = Callable[[dict[str, Any], dict[str, Any], str | None], Awaitable[Sent]]
# Opens a fresh 1:1 chat for the user of a stale reference; returns the new reference, or None.
Reopen = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]
