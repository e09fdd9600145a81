"""Who a 1:1 message is for when esmbot has no chat with them, and why they could not be reached."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config.organisation import email_like
from bot.directory.models import Person
from bot.notify.views import Reader

# Why a message did not reach its person; each is a phrase of agents.could_not_reach.reason.
NO_GRAPH = "no_graph"  # no chat with the bot, and no Graph to install the app with
NO_ADDRESS = "no_address"  # no chat, and no e-mail, UPN or object id to look them up by
FORBIDDEN = "forbidden"  # Graph answered 403: a permission is missing
NOT_IN_DIRECTORY = "not_in_directory"  # Graph answered 404 for the user
BLOCKED = "blocked"  # the tenant's app policy does not allow the install
NOT_IN_CATALOG = "not_in_catalog"  # the app is not in the organisation's catalogue
FAILED = "failed"  # Graph kept failing
REASONS = (NO_GRAPH, NO_ADDRESS, FORBIDDEN, NOT_IN_DIRECTORY, BLOCKED, NOT_IN_CATALOG, FAILED)


@dataclass(frozen=True)
class Addressee:
    """Someone a 1:1 message is for who has no conversation with the bot (yet)."""

    person_id: int | None
    address: str | None  # e-mail, UPN or Azure AD object id: what Graph finds them by
    name: str
    reader: Reader

    @property
    def key(self) -> str:
        """The same person in every dedupe key, known or not."""
        return f"p{self.person_id}" if self.person_id is not None else f"a:{self.address}"

    @property
    def email(self) -> str | None:
        return self.address if self.address and email_like(self.address) else None


def addressee_of(person: Person) -> Addressee:
    address = person.email or person.upn or person.aad_object_id
    return Addressee(
        person_id=person.id,
        address=address,
        name=person.name or address or "",
        reader=Reader(name=person.name or None, locale=person.locale, time_zone=person.time_zone),
    )


def addressee_at(address: str) -> Addressee:
    """Someone known only by an address (a Jira reporter, a role holder in esmbot.toml)."""
    return Addressee(person_id=None, address=address, name=address, reader=Reader())


def reason_for(addressee: Addressee) -> str:
    """Why a person with no chat is not reached when esmbot cannot install itself for them."""
    return NO_GRAPH if addressee.address else NO_ADDRESS
