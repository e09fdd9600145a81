"""esmbot's Teams activity handler: learns who is where, then routes each turn to what answers it."""

from __future__ import annotations

import logging

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import Activity, ChannelAccount
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import Registry
from bot.commands.registry import CommandContext, Reply
from bot.commands.runner import run_command
from bot.config import Organisation
from bot.db import Database
from bot.directory.models import Conversation, Person
from bot.directory.service import find_person, remember_conversation, remember_person
from bot.teams.cards import reply_activity
from bot.teams.sightings import conversation_sighting, person_sighting

log = logging.getLogger(__name__)

WELCOME_PERSONAL = (
    "Hello {name}, I'm {bot}, the {service} service desk's assistant. Tell me about a problem "
    "and I'll help you describe it well and keep you posted on it. Type help to see what I can do."
)
WELCOME_TEAM = (
    "Hello, I'm {bot}, the {service} service desk's assistant. A manager can make a channel "
    "receive my messages with /subscribe agents, /subscribe vendor or /subscribe management."
)
NOT_UNDERSTOOD = (
    "I'm not sure what you mean. You can tell me about a problem, or type help to see what "
    "I can do."
)


class EsmbotHandler(TeamsActivityHandler):
    """Every activity teaches esmbot who sent it and from where; messages then get an answer."""

    def __init__(
        self, *, database: Database, organisation: Organisation, registry: Registry
    ) -> None:
        super().__init__()
        self._database = database
        self._organisation = organisation
        self._registry = registry

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        text = _plain_text(turn_context)
        async with self._database.transaction() as session:
            person, conversation = await self._learn(session, turn_context, activity.from_property)
            if conversation is None or person is None:
                return
            roles = self._roles(person)
            if self._registry.looks_like_command(text) or text.lower() == "help":
                context = CommandContext(
                    session=session,
                    person=person,
                    conversation=conversation,
                    roles=roles,
                    organisation=self._organisation,
                )
                reply = await run_command(self._registry, context, text)
            elif not text:
                reply = Reply("I can only read text for now. " + NOT_UNDERSTOOD)
            else:
                reply = Reply(NOT_UNDERSTOOD)
        await turn_context.send_activity(reply_activity(reply))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        async with self._database.transaction() as session:
            person, conversation = await self._learn(session, turn_context, activity.from_property)
        template = (
            WELCOME_PERSONAL if conversation and conversation.scope == "personal" else WELCOME_TEAM
        )
        await turn_context.send_activity(
            MessageFactory.text(
                template.format(
                    name=(person.name if person else "") or "there",
                    bot=activity.recipient.name or "esmbot",
                    service=self._organisation.service,
                )
            )
        )

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        async with self._database.transaction() as session:
            _person, conversation = await self._learn(
                session, turn_context, turn_context.activity.from_property
            )
            if conversation is not None:
                # Removed from here: the dispatcher must not keep trying this conversation.
                conversation.reachable = False
                conversation.unreachable_reason = "app uninstalled"

    async def on_teams_members_added(  # type: ignore[override]
        self,
        teams_members_added: list[ChannelAccount],
        team_info: object,
        turn_context: TurnContext,
    ) -> None:
        bot_id = turn_context.activity.recipient.id
        async with self._database.transaction() as session:
            await self._learn(session, turn_context, turn_context.activity.from_property)
            for member in teams_members_added:
                if member.id != bot_id:
                    await self._learn(session, turn_context, member, with_conversation=False)

    async def _learn(
        self,
        session: AsyncSession,
        turn_context: TurnContext,
        account: ChannelAccount | None,
        *,
        with_conversation: bool = True,
    ) -> tuple[Person | None, Conversation | None]:
        activity = turn_context.activity
        if account is None or not account.id or account.id == activity.recipient.id:
            person = None
        else:
            sighting = person_sighting(activity, account)
            known = await find_person(session, sighting=sighting)
            if known is None or not (known.email or known.upn):
                email, upn = await _member_email(turn_context, account.id)
                sighting = person_sighting(activity, account, email=email, upn=upn)
            person = await remember_person(session, sighting=sighting)
            roles = sorted(self._roles(person))
            if roles != person.roles:
                person.roles = roles
        conversation = None
        if with_conversation and activity.conversation and activity.conversation.id:
            conversation = await remember_conversation(
                session, sighting=conversation_sighting(activity), person=person
            )
        return person, conversation

    def _roles(self, person: Person) -> frozenset[str]:
        # esmbot.toml may name someone by object id, e-mail or UPN: any of them counts.
        return self._organisation.roles_of(
            aad_object_id=person.aad_object_id, email=person.email
        ) | self._organisation.roles_of(aad_object_id=None, email=person.upn)


async def _member_email(turn_context: TurnContext, member_id: str) -> tuple[str | None, str | None]:
    """Teams activities carry no e-mail; the roster has it. A failed lookup only costs the e-mail."""
    if turn_context.activity.channel_id != "msteams":
        return None, None
    try:
        member = await TeamsInfo.get_member(turn_context, member_id)
    except Exception as error:
        log.warning(
            "could not read the member's e-mail", extra={"member": member_id, "error": repr(error)}
        )
        return None, None
    return getattr(member, "email", None), getattr(member, "user_principal_name", None)


def _plain_text(turn_context: TurnContext) -> str:
    activity: Activity = turn_context.activity
    TurnContext.remove_recipient_mention(activity)
    return " ".join((activity.text or "").split())
