"""The demo's cast and scenes, as data: a new feature adds a scene here and the runner plays it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
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
from bot.demo.connector import Recorded


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


class NotOnScreen(LookupError):
    """The step presses a button that no card in the conversation shows."""


@dataclass(frozen=True)
class Button:
    """A button as a client shows it: on which message, and what pressing it sends.

    An Adaptive Card's Action.Submit sends `data` (with the card's `inputs` filled in).
    """

    card: str | None
    data: Mapping[str, Any] | None = None
    inputs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Teams:
    """What a person's client knows: where the connector is, and the bot's messages as shown."""

    service_url: str
    shown: Sequence[Recorded] = ()

    def button(self, conversation_id: str, title: str, ticket: str | None = None) -> Button | None:
        """The button of that title on the newest message here that shows one.

        `ticket` only looks at Action.Submit buttons whose data names that ticket.
        """
        for message in reversed(self.shown):
            if message.conversation_id.split(";")[0] != conversation_id:
                continue
            for attachment in message.body.get("attachments") or []:
                content = attachment.get("content") or {}
                for action in content.get("actions") or []:
                    data = action.get("data")
                    if (
                        action.get("type") == "Action.Submit"
                        and action.get("title") == title
                        and isinstance(data, dict)
                        and (ticket is None or data.get("ticket") == ticket)
                    ):
                        inputs = frozenset(_input_ids(content.get("body") or []))
                        return Button(message.posted_id, data=data, inputs=inputs)
                if ticket is not None:
                    continue  # an answer picked in a choice set names no ticket
                answer = picked(content, title)
                if answer is not None:
                    return Button(message.posted_id, data=answer)
        return None


def picked(card: Mapping[str, Any], title: str) -> dict[str, Any] | None:
    """What a card sends when the answer of that title is picked in its choice set and its one
    Action.Submit ("Next") is pressed, or None if it offers no such answer."""
    submits = [a for a in card.get("actions") or [] if a.get("type") == "Action.Submit"]
    for item in card.get("body") or []:
        if not (isinstance(item, Mapping) and item.get("type") == "Input.ChoiceSet"):
            continue
        for choice in item.get("choices") or []:
            if choice.get("title") == title and len(submits) == 1:
                return dict(submits[0].get("data") or {}) | {item["id"]: choice.get("value")}
    return None


def _input_ids(items: Sequence[Any]) -> list[str]:
    """The ids of a card's input fields, however deep in containers and columns they sit."""
    found: list[str] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if str(item.get("type", "")).startswith("Input.") and item.get("id"):
            found.append(str(item["id"]))
        found += _input_ids(item.get("items") or [])
        for column in item.get("columns") or []:
            found += _input_ids(column.get("items") or [])
    return found


class Action(Protocol):
    """Something a person does in Teams; it becomes the activities Teams would send the bot."""

    def describe(self, who: str) -> str: ...

    def activities(self, user: TeamsUser, teams: Teams) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class AddToTeam:
    """Adding the app to a team: Teams reports the new member, then the installation."""

    channel: Channel

    def describe(self, who: str) -> str:
        return f"{who} adds esmbot to the service desk's team (it lands in #{self.channel.name})"

    def activities(self, user: TeamsUser, teams: Teams) -> list[dict[str, Any]]:
        return [
            conversation_update(user, teams.service_url, bot_added=True, channel=self.channel.name),
            installation_update(user, teams.service_url, channel=self.channel.name),
        ]


@dataclass(frozen=True)
class Install:
    """Installing the app for oneself, which opens the 1:1 chat with the bot."""

    def describe(self, who: str) -> str:
        return f"{who} installs esmbot as a personal app"

    def activities(self, user: TeamsUser, teams: Teams) -> list[dict[str, Any]]:
        return [installation_update(user, teams.service_url)]


@dataclass(frozen=True)
class Say:
    """A message: in the 1:1 chat, or in a channel where the bot is @mentioned."""

    text: str
    channel: Channel | None = None

    def describe(self, who: str) -> str:
        where = f"#{self.channel.name}" if self.channel else "the 1:1 chat"
        return f"{who} in {where}: {self.text}"

    def activities(self, user: TeamsUser, teams: Teams) -> list[dict[str, Any]]:
        if self.channel is None:
            return [personal_message(user, self.text, teams.service_url)]
        return [channel_message(user, self.text, teams.service_url, channel=self.channel.name)]


@dataclass(frozen=True)
class Press:
    """A press on a button: the newest message here that shows one of that title (or an
    answer of that title, picked in a card's choice set before its Next is pressed).

    `ticket` picks the card of that ticket; `fill` is what the person enters in the card's fields
    first (Teams sends it along with the button's data); `value` submits that instead of the
    button's data (a card that is not on screen, or data a client could forge).
    """

    button: str
    channel: Channel | None = None
    ticket: str | None = None
    fill: Mapping[str, str] = field(default_factory=dict)
    value: Mapping[str, Any] = field(default_factory=dict)

    def describe(self, who: str) -> str:
        where = f"#{self.channel.name}" if self.channel else "the 1:1 chat"
        card = f" on {self.ticket}'s card" if self.ticket else ""
        filled = "; ".join(f'{name}: "{text}"' for name, text in self.fill.items())
        first = f"fills in the card ({filled}) and " if filled else ""
        return f'{who} {first}presses "{self.button}"{card} in {where}'

    def activities(self, user: TeamsUser, teams: Teams) -> list[dict[str, Any]]:
        conversation = (
            self.channel.conversation_id if self.channel else personal_conversation_id(user)
        )
        found = teams.button(conversation, self.button, self.ticket)
        if found is None and not self.value:
            raise NotOnScreen(f'no card in {conversation} has a button "{self.button}"')
        missing = set(self.fill) - (found.inputs if found else frozenset())
        if missing:
            raise NotOnScreen(f'the card with "{self.button}" has no field {sorted(missing)}')
        channel = self.channel.name if self.channel else None
        card = found.card if found else None
        data = dict(self.value or (found.data if found else None) or {})
        return [
            card_submit(
                user, data | dict(self.fill), teams.service_url, reply_to=card, channel=channel
            )
        ]


@dataclass(frozen=True)
class TimePasses:
    """The bot's clock jumps ahead, and its scheduler sweeps once for what has fallen due then."""

    amount: timedelta

    def describe(self, who: str) -> str:
        return f"{_spelled(self.amount)} later esmbot's scheduler sweeps for what has fallen due"


def _spelled(amount: timedelta) -> str:
    hours, rest = divmod(int(amount.total_seconds()) // 60, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "day"), (hours, "hour"), (rest, "minute")]
    words = [f"{count} {unit}{'s' if count > 1 else ''}" for count, unit in parts if count]
    if not words:
        return "A moment"
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


@dataclass(frozen=True)
class Step:
    """Who does what, and how many messages the bot at least sends or redraws because of it.

    The runner waits for those (anywhere), then for whatever else the step set off.
    """

    who: TeamsUser | None  # None when nobody acts: time passes
    does: Action | TimePasses
    replies: int = 1


@dataclass(frozen=True)
class Scene:
    title: str
    intro: str
    steps: tuple[Step, ...]
    # The numbered stories of SCENARIOS.md this scene plays; the demo's header names them.
    stories: tuple[int, ...] = ()


# The stories of SCENARIOS.md's first part, each of which a scene may play.
STORIES = tuple(range(1, 12))


LEARNER = TeamsUser.named("Lena Learner", "lena.learner@esmos.example")
KIM = TeamsUser.named("Kim Becker", "kim@esmos.example", locale="de-DE")
ALEX = TeamsUser.named("Alex Novak", "alex@esmos.example")
SAM = TeamsUser.named("Sam Okafor", "sam@esmos.example")
DANIELLE = TeamsUser.named("Danielle Moreau", "danielle@esmos.example")
VENDOR = TeamsUser.named("OpenCart Support", "support@opencart-vendor.example")

# The e-mails of the staff and the vendor are the ones esmbot.example.toml gives roles to.
CAST = (
    CastMember("Ms. Learner", "customer, new to the shop's back office", LEARNER),
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
            "Ms. Learner and Kim install esmbot. Each is welcomed in the language of her Teams, "
            "with what she can say and buttons to start; Ms. Learner asks what esmbot can do."
        ),
        steps=(
            Step(LEARNER, Install()),
            Step(LEARNER, Say("help")),
            Step(KIM, Install()),
        ),
    ),
    Scene(
        title="Ms. Learner opens a ticket",
        intro=(
            "Ms. Learner writes what is wrong in her own words. esmbot recognises a new "
            "problem and asks for what the desk needs, one question at a time, with the answers "
            "to pick from where there is a fixed set. A summary card lets her check it all before it is sent. "
            "On confirm her ticket becomes SR-1: she is told by when she will hear from the desk, "
            "gets a card that follows the ticket, and the agents' channel gets a card to act on."
        ),
        steps=(
            Step(LEARNER, Say("checkout fails with an error")),
            Step(LEARNER, Press("Incident")),
            Step(LEARNER, Press("Checkout")),
            Step(LEARNER, Say("Customers cannot pay by card, so their orders are lost.")),
            Step(
                LEARNER,
                Say(
                    "Put a product in the cart, went to checkout, chose card payment and pressed "
                    "Confirm order: an error page came up instead of the confirmation."
                ),
            ),
            Step(LEARNER, Say("today 9:30")),
            Step(LEARNER, Press("P2 – High: important work is blocked, no workaround")),
            # Her confirmation, the summary card closed, her ticket card, the agents' card.
            Step(LEARNER, Press("Send to the service desk"), replies=4),
        ),
        stories=(1,),
    ),
    Scene(
        title="An agent responds",
        intro=(
            "Alex acknowledges SR-1 in the agents' channel. That is the first response: the "
            "response clock stops, and Ms. Learner hears who is on it and by when to expect a "
            "solution. Sam then presses a button on SR-1's card, which still offers it to "
            "anyone: esmbot says who has it and redraws the card with its owner."
        ),
        steps=(
            Step(ALEX, Say("/ack SR-1", AGENTS), replies=2),
            Step(SAM, Press("Assign to me", AGENTS, ticket="SR-1"), replies=2),
        ),
        stories=(2,),
    ),
    Scene(
        title="Checking",
        intro=(
            "Ms. Learner wants to know how SR-1 stands: she asks for its status, then for her "
            "tickets. She sees its state, its owner and its deadlines, and only her own tickets."
        ),
        steps=(
            Step(LEARNER, Say("status SR-1")),
            Step(LEARNER, Say("my tickets")),
        ),
        stories=(8,),
    ),
    Scene(
        title="Vendor escalation",
        intro=(
            "The fault is in OpenCart itself. Alex hands SR-1 to the vendor: their channel gets "
            "everything they need to start (and nothing personal about Ms. Learner), and she is "
            "told that the vendor is involved."
        ),
        steps=(
            Step(
                ALEX,
                Say("/escalate SR-1 vendor Payment module throws 500 on 4.0.2.3", AGENTS),
                replies=3,
            ),
        ),
        stories=(4,),
    ),
    Scene(
        title="Resolution and satisfaction",
        intro=(
            "The vendor's fix is in. Alex resolves SR-1 and says what was done; Ms. "
            "Learner gets the resolution and confirms with one press that it works, which closes "
            "the ticket. An hour later (the survey delay of esmbot.example.toml) esmbot asks her "
            "to rate the help. She gives a 2 with a comment: the survey turns into a thank-you in "
            "place, and a score that low alerts Danielle in the management channel."
        ),
        steps=(
            Step(ALEX, Say("/resolve SR-1 Patched the payment module", AGENTS), replies=2),
            Step(LEARNER, Press("Solved", ticket="SR-1"), replies=2),
            Step(None, TimePasses(timedelta(hours=1, minutes=1))),
            Step(
                LEARNER,
                Press(
                    "Send rating",
                    ticket="SR-1",
                    fill={"score": "2", "comment": "It works again, but nobody told me why."},
                ),
                replies=3,
            ),
        ),
        stories=(6,),
    ),
)


def played_stories(scenes: Sequence[Scene]) -> tuple[int, ...]:
    return tuple(sorted({story for scene in scenes for story in scene.stories}))


def conversation_labels(cast: Sequence[CastMember], channels: Sequence[Channel]) -> dict[str, str]:
    """A human name for each conversation: everyone's 1:1 chat, and the channels."""
    labels = {personal_conversation_id(m.user): f"{m.label} (1:1 chat)" for m in cast}
    labels.update({channel.conversation_id: channel.label for channel in channels})
    return labels
