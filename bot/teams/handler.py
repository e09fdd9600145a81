"""esmbot's Teams activity handler: learns who is where, then routes each turn to what answers it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import (
    Activity,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
)
from botbuilder.schema.teams import (
    AppBasedLinkQuery,
    MessagingExtensionAction,
    MessagingExtensionActionResponse,
    MessagingExtensionQuery,
    MessagingExtensionResponse,
)
from sqlalchemy.engine import Connection

from bot.commands import Registry
from bot.commands.buttons import press

# The report links' type as the commands see it: teams reaches reports only through them.
from bot.commands.registry import CommandContext, Reply, ReportLinks
from bot.commands.runner import run_command
from bot.config import Organisation
from bot.db import Database
from bot.dialogs.chat import CustomerChat
from bot.dialogs.voice import Desk
from bot.directory.models import Conversation, Person
from bot.directory.service import (
    ConversationSighting,
    PersonSighting,
    conversation_seen,
    conversation_unchanged,
    person_seen,
    remember_conversation,
    remember_person,
    teaches_nothing,
)
from bot.notify.render import Renderer
from bot.notify.views import Reader
from bot.teams.cards import reply_activity
from bot.teams.mentions import command_text
from bot.teams.message_action import MessageAction
from bot.teams.roster import roster_entry
from bot.teams.sightings import conversation_sighting, locale_of, person_sighting, tenant_id
from bot.teams.tenants import TenantGate
from bot.teams.ticket_cards import TicketCards
from bot.teams.ticket_search import TicketSearch
from bot.teams.universal import UniversalActions
from bot.tickets.actions import TicketActions

log = logging.getLogger(__name__)

DESK_ROLES = frozenset({"agents", "managers"})


class EsmbotHandler(TeamsActivityHandler):
    """Every activity teaches esmbot who sent it and from where; messages then get an answer."""

    def __init__(
        self,
        *,
        database: Database,
        organisation: Organisation,
        registry: Registry,
        actions: TicketActions,
        renderer: Renderer,
        gate: TenantGate,
        chat: CustomerChat | None = None,
        links: ReportLinks | None = None,
        jira_base_url: str = "",
    ) -> None:
        super().__init__()
        self._links = links
        self._chat = chat
        self._gate = gate
        self._database = database
        self._actions = actions
        self._organisation = organisation
        self._registry = registry
        self._renderer = renderer
        notifier = actions.notifier
        if notifier is None:
            raise ValueError("the handler needs ticket actions that write their messages")
        cards = TicketCards(organisation, notifier)
        desk = Desk(database, organisation, actions, renderer)
        self._message_action = MessageAction(desk, cards)
        self._search = TicketSearch(database, cards, jira_base_url=jira_base_url)
        self._universal = UniversalActions(registry, cards, desk)

    async def on_turn(self, turn_context: TurnContext) -> None:
        # Before anything is learned: a stranger's turn must not store a person or a chat.
        if not self._gate.admits(turn_context):
            await self._gate.refuse(turn_context)
            return
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        text, mentioned = command_text(activity)

        def for_chat(person: Person, conversation: Conversation) -> bool:
            return self._chat_answers(text, person, conversation, activity.value)

        person, conversation = await self._learn(
            turn_context, activity.from_property, preload_for=for_chat
        )
        if conversation is None or person is None:
            return
        pressed = activity.value is not None and not text
        if self._chat is not None and for_chat(person, conversation):
            if pressed:
                await self._chat.on_press(turn_context, person)
            else:
                await self._chat.on_message(turn_context, person)
            return
        if pressed:
            await self._press(turn_context, self._context(person, conversation))
            return
        if self._registry.looks_like_command(text) or text.lower() == "help":
            mentions = await self._mentioned(turn_context, mentioned)
            context = self._context(person, conversation, mentions)
            reply = await run_command(self._registry, context, text)
        else:
            words = self._context(person, conversation).phrases()
            key = "commands.turn.not_understood" if text else "commands.turn.only_text"
            reply = Reply(words.t(key))
        await turn_context.send_activity(reply_activity(reply))

    async def on_teams_messaging_extension_fetch_task(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        person = await self._actor(turn_context)
        return await self._message_action.fetch(turn_context, action, person)

    async def on_teams_messaging_extension_submit_action(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse | None:
        person = await self._actor(turn_context)
        return await self._message_action.submit(turn_context, action, person)

    async def on_teams_messaging_extension_query(
        self, turn_context: TurnContext, query: MessagingExtensionQuery
    ) -> MessagingExtensionResponse:
        return await self._search.query(await self._actor(turn_context), query)

    async def on_teams_messaging_extension_select_item(
        self, turn_context: TurnContext, query: Any
    ) -> MessagingExtensionResponse:
        return await self._search.select(await self._actor(turn_context), query)

    async def on_teams_app_based_link_query(
        self, turn_context: TurnContext, query: AppBasedLinkQuery
    ) -> MessagingExtensionResponse:
        return await self._search.unfold(await self._actor(turn_context), query)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """An Action.Execute press or a refresh of a ticket card, in the conversation it is in."""
        person, conversation = await self._learn(turn_context, turn_context.activity.from_property)
        if person is None or conversation is None:
            raise ValueError("an adaptiveCard/action invoke names nobody or no conversation")
        action = invoke_value.action if isinstance(invoke_value.action, dict) else {}
        context = self._context(person, conversation)
        return await self._universal.execute(turn_context, context, action)

    async def _actor(self, turn_context: TurnContext) -> Person:
        """Who used a message extension. The conversation is not learned: esmbot need not be a
        member of the chat where its extension is used, and could not write there."""
        person, _ = await self._learn(
            turn_context, turn_context.activity.from_property, with_conversation=False
        )
        if person is None:
            raise ValueError("a message extension's invoke names nobody in 'from'")
        return person

    def _chat_answers(
        self, text: str, person: Person, conversation: Conversation, value: object
    ) -> bool:
        """Whether the customer's 1:1 chat takes this message, rather than the commands or
        the desk's card buttons."""
        if self._chat is None or conversation.scope != "personal":
            return False
        if value is not None and not text:
            return CustomerChat.handles_press(value)
        return not self._is_command(text, person)

    def _is_command(self, text: str, person: Person) -> bool:
        """In the 1:1 chat a customer's words go to the conversation; a slash, or a desk
        member's first word naming a command ("status SR-1"), goes to the commands."""
        if text.startswith("/"):
            return True
        return bool(set(person.roles) & DESK_ROLES) and self._registry.looks_like_command(text)

    async def _press(self, turn_context: TurnContext, context: CommandContext) -> None:
        """A card button (Action.Submit): answered briefly, and the card redrawn in place."""
        activity = turn_context.activity
        if self._universal.answers_customer(activity.value):
            # The Action.Submit fallback of a shared ticket card's customer button.
            await turn_context.send_activity(
                await self._universal.customer_press(context.person, activity.value)
            )
            return
        pressed = await press(self._registry, context, activity.value)
        await turn_context.send_activity(reply_activity(pressed.reply))
        if pressed.card is None or not activity.reply_to_id:
            return
        redrawn = Activity().deserialize(pressed.card)
        redrawn.id = activity.reply_to_id
        try:
            await turn_context.update_activity(redrawn)
        except Exception as error:
            # The answer has gone out; a card that cannot be redrawn only stays as it was.
            log.warning(
                "could not update the pressed card",
                extra={"activity": activity.reply_to_id, "error": repr(error)},
            )

    def _context(
        self,
        person: Person,
        conversation: Conversation,
        mentions: dict[str, Person] | None = None,
    ) -> CommandContext:
        return CommandContext(
            database=self._database,
            actions=self._actions,
            person=person,
            conversation=conversation,
            roles=self._organisation.person_roles(person),
            organisation=self._organisation,
            mentions=mentions or {},
            links=self._links,
        )

    async def _mentioned(
        self, turn_context: TurnContext, accounts: dict[str, ChannelAccount]
    ) -> dict[str, Person]:
        """The people mentioned in a command, found by Teams user id; someone esmbot has not
        met yet is looked up in the roster (outside any transaction: a network call)."""
        people: dict[str, Person] = {}
        for word, account in accounts.items():
            sighting = PersonSighting(
                teams_user_id=account.id,
                aad_object_id=(account.aad_object_id or "").lower() or None,
                name=account.name or "",
                tenant_id=tenant_id(turn_context.activity),
            )
            known = await self._database.read(partial(person_seen, sighting=sighting))
            if known is not None and not _needs_roster(known):
                people[word] = known
                continue
            entry = await roster_entry(turn_context, account.id)
            # Only what identifies them: the sender's language and zone are not theirs.
            sighting = PersonSighting(
                teams_user_id=account.id,
                aad_object_id=sighting.aad_object_id or entry.aad_object_id,
                name=account.name or entry.name or "",
                email=entry.email,
                upn=entry.upn,
                tenant_id=sighting.tenant_id,
            )
            async with self._database.transaction() as session:
                person = await remember_person(session, sighting=sighting)
                person.roles = sorted(self._organisation.person_roles(person))
            people[word] = person
        return people

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        person, conversation = await self._learn(turn_context, activity.from_property)
        if self._chat and person and conversation and conversation.scope == "personal":
            await self._chat.welcome(turn_context, person, activity.recipient.name or "esmbot")
            return
        locale = person.locale if person and person.locale else locale_of(activity)
        words = self._renderer.phrases(Reader(locale=locale))
        name = person.name if person else ""
        if conversation and conversation.scope == "personal":
            said = "commands.welcome.personal" if name else "commands.welcome.personal_unnamed"
        else:
            said = "commands.welcome.team"
        welcome = words.t(
            said,
            name=name,
            bot=activity.recipient.name or "esmbot",
            service=self._organisation.service,
        )
        await turn_context.send_activity(MessageFactory.text(welcome))

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        _person, conversation = await self._learn(turn_context, turn_context.activity.from_property)
        if conversation is not None:
            # Removed from here: the dispatcher must not keep trying this conversation.
            async with self._database.transaction() as session:
                stored = await session.get(Conversation, conversation.id)
                if stored is not None:
                    stored.reachable, stored.unreachable_reason = False, "app uninstalled"

    async def on_teams_members_added(
        self,
        teams_members_added: list[ChannelAccount],
        team_info: object,
        turn_context: TurnContext,
    ) -> None:
        bot_id = turn_context.activity.recipient.id
        await self._learn(turn_context, turn_context.activity.from_property)
        for member in teams_members_added:
            if member.id != bot_id:
                await self._learn(turn_context, member, with_conversation=False)

    async def _learn(
        self,
        turn_context: TurnContext,
        account: ChannelAccount | None,
        *,
        with_conversation: bool = True,
        preload_for: Callable[[Person, Conversation], bool] | None = None,
    ) -> tuple[Person | None, Conversation | None]:
        """Remembers who wrote and from where; the roster is asked (outside any transaction,
        it is a network call) only for someone whose e-mail esmbot does not know yet.

        Most turns come from someone esmbot knows, in a chat it knows, and teach it nothing
        new: those are settled by the one read that finds them, with no second transaction.
        When `preload_for` says the chat will answer such a turn, the chat's dialog state is
        read in that same transaction too.
        """
        activity = turn_context.activity
        sighting = None
        seen = None
        if with_conversation and activity.conversation and activity.conversation.id:
            seen = conversation_sighting(activity)
        if account is not None and account.id and account.id != activity.recipient.id:
            sighting = person_sighting(activity, account)
            read = partial(self._settle, turn_context, sighting, seen, preload_for)
            known, stored, settled = await self._database.read(read)
            if settled:
                return known, stored
            if known is None or _needs_roster(known):
                entry = await roster_entry(turn_context, account.id)
                sighting = person_sighting(
                    activity, account, email=entry.email, upn=entry.upn, name=entry.name
                )
        async with self._database.transaction() as session:
            person = None
            if sighting is not None:
                person = await remember_person(session, sighting=sighting)
                roles = sorted(self._organisation.person_roles(person))
                if roles != person.roles:
                    person.roles = roles
            conversation = None
            if seen is not None:
                conversation = await remember_conversation(session, sighting=seen, person=person)
        return person, conversation

    def _settle(
        self,
        turn_context: TurnContext,
        sighting: PersonSighting,
        seen: ConversationSighting | None,
        preload_for: Callable[[Person, Conversation], bool] | None,
        connection: Connection,
    ) -> tuple[Person | None, Conversation | None, bool]:
        """The sender and the conversation as stored, and whether they are settled: known, with
        an e-mail, and unchanged by this activity (`_learn`). When `preload_for` says the chat
        will answer, it reads its dialog state here too, not in a transaction of its own."""
        known = person_seen(connection, sighting=sighting)
        if known is None or _needs_roster(known):
            return known, None, False
        stored = None
        if seen is not None:
            stored = conversation_seen(connection, conversation_id=seen.conversation_id)
        settled = (
            teaches_nothing(known, sighting)
            and sorted(self._organisation.person_roles(known)) == known.roles
            and (
                seen is None or (stored is not None and conversation_unchanged(stored, seen, known))
            )
        )
        if (
            settled
            and self._chat
            and stored is not None
            and preload_for
            and preload_for(known, stored)
        ):
            self._chat.preload(connection, turn_context)
        return known, stored, settled


def _needs_roster(person: Person) -> bool:
    """Whether only the roster can tell esmbot this person's e-mail."""
    return not (person.email or person.upn)
