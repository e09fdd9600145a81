"""/problem: declare a problem from incidents, link one more, show it, post an update on it."""

from __future__ import annotations

import argparse

from bot.commands.common import DESK, is_ticket_key, joined, ticket_key
from bot.commands.errors import told
from bot.commands.registry import (
    Command,
    CommandContext,
    CommandError,
    Registry,
    Reply,
    argument,
)
from bot.commands.runner import refuse
from bot.errors import EsmbotError
from bot.notify.words import Phrases
from bot.problems.records import Declared, ProblemRecords
from bot.tickets.lifecycle import Status

_ACTIONS = ("new", "link", "show", "update")
# The spike alert's buttons: they run under /problem's role check.
ALERT_VERBS = frozenset({"declare_problem", "not_related"})
# The new ticket card's suggestion: link the ticket to the open problem it looks like.
LINK_VERB = "link_problem"


async def problem(context: CommandContext, args: argparse.Namespace) -> Reply:
    records = ProblemRecords(context.actions)
    words = context.phrases()
    rest: list[str] = args.words
    if args.action == "new":
        # The title comes first; the keys are the words at the end that read as keys.
        split = len(rest)
        while split > 0 and is_ticket_key(rest[split - 1]):
            split -= 1
        title, keys = joined(rest[:split]), [ticket_key(word) for word in rest[split:]]
        if not title:
            raise CommandError("commands.problem.title_needed")
        declared = await records.declare(title, keys, actor=context.person)
        return Reply(_declared(words, declared))
    if args.action == "link":
        if len(rest) != 2:
            raise CommandError("commands.problem.link_needs_two")
        ticket, problem_key = ticket_key(rest[0]), ticket_key(rest[1])
        linked = await records.link(ticket, problem_key, actor=context.person)
        said = "commands.problem.linked" if linked else "commands.problem.already_linked"
        return Reply(words.t(said, key=ticket, problem=problem_key))
    if not rest:
        raise CommandError("commands.problem.key_needed", action=args.action)
    key = ticket_key(rest[0])
    if args.action == "show":
        state = await records.state(key)
        lines = [
            words.t(
                "commands.problem.show_title",
                key=state.key,
                summary=state.summary,
                status=words.t(f"status.{state.status}"),
            )
        ]
        lines += [
            words.t(
                "commands.problem.show_ticket",
                key=ticket.key,
                summary=ticket.summary,
                status=words.t(f"status.{ticket.status}"),
            )
            for ticket in state.tickets
        ] or [words.t("commands.problem.show_no_tickets")]
        names = words.listing(list(state.affected))
        lines.append(
            words.plural("commands.problem.show_affected", len(state.affected), names=names)
            if state.affected
            else words.t("commands.problem.show_nobody")
        )
        return Reply("\n\n".join(lines))
    text = joined(rest[1:])
    if not text:
        raise CommandError("commands.problem.update_needs_text")
    state = await records.state(key)  # refuses a ticket that is no problem
    if state.status not in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
        await context.actions.comment(state.key, text, actor=context.person, public=True)
        told = len(state.affected)
        return Reply(words.plural("commands.problem.updated", told, key=state.key))
    raise CommandError("commands.problem.update_closed", key=state.key)


def _declared(words: Phrases, declared: Declared) -> str:
    said = words.plural("commands.problem.declared", len(declared.linked), key=declared.key)
    if not declared.failed:
        return said
    failed = words.listing(list(declared.failed))
    return said + " " + words.t("commands.problem.not_linked", keys=failed, why=declared.why)


async def alert_pressed(
    registry: Registry, context: CommandContext, verb: str, alert: object
) -> Reply:
    """A press on a spike alert's card: declare a problem of its tickets, or dismiss it."""
    words = context.phrases()
    if isinstance(alert, bool) or not isinstance(alert, int):
        return Reply(words.t("commands.button.unknown"))
    command = registry.get("problem")
    assert command is not None, "/problem is not registered"
    refusal = await refuse(command, context, f"button {verb} {alert}")
    if refusal is not None:
        return refusal
    records = ProblemRecords(context.actions)
    try:
        if verb == "declare_problem":
            about = await records.alert_about(alert)
            title = words.t("commands.problem.alert_title", about=about)
            declared = await records.declare_alert(alert, title, actor=context.person)
            said = words.t("commands.problem.alert_declared", key=declared.key)
            return Reply(said if not declared.failed else _declared(words, declared))
        await records.dismiss_alert(alert, actor=context.person)
        return Reply(words.t("commands.problem.alert_dismissed"))
    except EsmbotError as error:
        return Reply(told(error, words))


async def link_pressed(
    registry: Registry, context: CommandContext, ticket: object, problem: object
) -> Reply:
    """The Link button on a new ticket's card: /problem link, with the same role check."""
    words = context.phrases()
    if not (is_ticket_key(ticket) and is_ticket_key(problem)):
        return Reply(words.t("commands.button.unknown"))
    assert isinstance(ticket, str) and isinstance(problem, str)
    ticket, problem = ticket.upper(), problem.upper()
    command = registry.get("problem")
    assert command is not None, "/problem is not registered"
    refusal = await refuse(command, context, f"button {LINK_VERB} {ticket} {problem}")
    if refusal is not None:
        return refusal
    try:
        linked = await ProblemRecords(context.actions).link(ticket, problem, actor=context.person)
    except EsmbotError as error:
        return Reply(told(error, words))
    said = "commands.problem.linked" if linked else "commands.problem.already_linked"
    return Reply(words.t(said, key=ticket, problem=problem))


PROBLEM_COMMANDS = (
    Command(
        name="problem",
        example="/problem new Checkout fails for everyone SR-5 SR-6",
        run=problem,
        roles=DESK,
        arguments=(
            argument("action", type=str.lower, choices=_ACTIONS, metavar="new|link|show|update"),
            argument("words", nargs="*"),
        ),
    ),
)
