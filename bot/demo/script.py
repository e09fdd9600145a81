"""The demo's cast and scenes, as data: a new feature adds a scene here and the runner plays it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.demo.activities import (
    TeamsUser,
    card_submit,
    channel_conversation_id,
    channel_message,
    conversation_update,
    installation_update,
    personal_conversation_id,
    personal_message,
)


@dataclass(frozen=True)
class CastMember:
    """Someone from SCENARIOS.md: how the stories call them, what they are, how Teams knows them."""

    label: str
    role: str
    user: TeamsUser


@dataclass(frozen=True)
class Channel:
    """A channel of the service desk's team, and who reads it."""

    name: str
    readers: str  # completes "#name channel, …", e.g. "read by Danielle"

    @property
    def conversation_id(self) -> str:
        return channel_conversation_id(self.name)

    @property
    def label(self) -> str:
        return f"#{self.name} channel, {self.readers}"


class Action(Protocol):
    """Something a person does in Teams; it becomes the activities Teams would send the bot."""

    def describe(self, who: str) -> str: ...

    def activities(self, user: TeamsUser, service_url: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class AddToTeam:
    """Adding the app to a team: Teams reports the new member, then the installation."""

    channel: Channel

    def describe(self, who: str) -> str:
        return f"{who} adds esmbot to the service desk's team (it lands in #{self.channel.name})"

    def activities(self, user: TeamsUser, service_url: str) -> list[dict[str, Any]]:
        return [
            conversation_update(user, service_url, bot_added=True, channel=self.channel.name),
            installation_update(user, service_url, channel=self.channel.name),
        ]


@dataclass(frozen=True)
class Install:
    """Installing the app for oneself, which opens the 1:1 chat with the bot."""

    def describe(self, who: str) -> str:
        return f"{who} installs esmbot as a personal app"

    def activities(self, user: TeamsUser, service_url: str) -> list[dict[str, Any]]:
        return [installation_update(user, service_url)]


@dataclass(frozen=True)
class Say:
    """A message: in the 1:1 chat, or in a channel where the bot is @mentioned."""

    text: str
    channel: Channel | None = None

    def describe(self, who: str) -> str:
        where = f"#{self.channel.name}" if self.channel else "the 1:1 chat"
        return f"{who} in {where}: {self.text}"

    def activities(self, user: TeamsUser, service_url: str) -> list[dict[str, Any]]:
        if self.channel is None:
            return [personal_message(user, self.text, service_url)]
        return [channel_message(user, self.text, service_url, channel=self.channel.name)]


@dataclass(frozen=True)
class Press:
    """A press on a card's button, which submits the card's data."""

    button: str
    value: Mapping[str, Any] = field(default_factory=dict)
    channel: Channel | None = None

    def describe(self, who: str) -> str:
        where = f"#{self.channel.name}" if self.channel else "the 1:1 chat"
        return f'{who} presses "{self.button}" in {where}'

    def activities(self, user: TeamsUser, service_url: str) -> list[dict[str, Any]]:
        channel = self.channel.name if self.channel else None
        return [card_submit(user, dict(self.value), service_url, channel=channel)]


@dataclass(frozen=True)
class Step:
    """Who does what, and how many messages the bot sends because of it (anywhere)."""

    who: TeamsUser
    does: Action
    replies: int = 1


@dataclass(frozen=True)
class Scene:
    title: str
    intro: str
    steps: tuple[Step, ...]


LEARNER = TeamsUser.named("Lena Learner", "lena.learner@esmos.example")
FORGETFUL = TeamsUser.named("Frank Forgetful", "frank.forgetful@esmos.example")
KIM = TeamsUser.named("Kim Becker", "kim@esmos.example", locale="de-DE")
ALEX = TeamsUser.named("Alex Novak", "alex@esmos.example")
SAM = TeamsUser.named("Sam Okafor", "sam@esmos.example")
DANIELLE = TeamsUser.named("Danielle Moreau", "danielle@esmos.example")
VENDOR = TeamsUser.named("OpenCart Support", "support@opencart-vendor.example")

# The e-mails of the staff and the vendor are the ones esmbot.example.toml gives roles to.
CAST = (
    CastMember("Ms. Learner", "customer, new to the shop's back office", LEARNER),
    CastMember("Mr. Forgetful", "customer who forgets to answer questions", FORGETFUL),
    CastMember("Kim", "a customer's key user; her Teams runs in German", KIM),
    CastMember("Alex", "service-desk agent", ALEX),
    CastMember("Sam", "service-desk agent", SAM),
    CastMember("Danielle", "CTO, the manager", DANIELLE),
    CastMember("the vendor", "OpenCart vendor support", VENDOR),
)

GENERAL = Channel("general", "seen by the whole team")
AGENTS = Channel("agents", "read by Alex and Sam")
MANAGEMENT = Channel("management", "read by Danielle")
VENDOR_CHANNEL = Channel("vendor", "shared with the vendor")
CHANNELS = (GENERAL, AGENTS, MANAGEMENT, VENDOR_CHANNEL)

SCENES = (
    Scene(
        title="Setting up",
        intro=(
            "Danielle brings esmbot into the service desk's team and tells it which channel is "
            "for whom. Only a manager may do that: roles come from esmbot.toml, not from Teams."
        ),
        steps=(
            Step(DANIELLE, AddToTeam(GENERAL)),
            Step(DANIELLE, Say("/subscribe agents", AGENTS)),
            Step(DANIELLE, Say("/subscribe management", MANAGEMENT)),
            Step(DANIELLE, Say("/subscribe vendor", VENDOR_CHANNEL)),
            Step(ALEX, Say("/subscribe management", MANAGEMENT)),
        ),
    ),
    Scene(
        title="Customers meet esmbot",
        intro=(
            "Ms. Learner and Kim install esmbot. Opening tickets from the chat is not built yet, "
            "so this shows what esmbot answers today."
        ),
        steps=(
            Step(LEARNER, Install()),
            Step(LEARNER, Say("checkout fails with an error")),
            Step(LEARNER, Say("help")),
            Step(KIM, Install()),
        ),
    ),
)


def conversation_labels(cast: Sequence[CastMember], channels: Sequence[Channel]) -> dict[str, str]:
    """A human name for each conversation: everyone's 1:1 chat, and the channels."""
    labels = {personal_conversation_id(m.user): f"{m.label} (1:1 chat)" for m in cast}
    labels.update({channel.conversation_id: channel.label for channel in channels})
    return labels
