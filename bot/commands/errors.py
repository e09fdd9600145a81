"""Errors that reach a command turned into an answer in the asker's words."""

from __future__ import annotations

from bot.commands.registry import CommandError
from bot.errors import EsmbotError
from bot.notify.words import Phrases
from bot.problems.records import ProblemRefused
from bot.tickets.actions import AlreadyTaken, UnknownTicket
from bot.tickets.lifecycle import IllegalTransition


def told(error: EsmbotError, words: Phrases) -> str:
    """What to answer for an error a command met; every EsmbotError is safe to show."""
    if isinstance(error, CommandError):
        return error.said(words)
    if isinstance(error, UnknownTicket):
        return words.t("commands.error.unknown_ticket", key=error.key.upper())
    if isinstance(error, ProblemRefused):
        return words.t(f"commands.problem.refused.{error.reason}", **error.params)
    if isinstance(error, AlreadyTaken):
        return _taken(error, words)
    if isinstance(error, IllegalTransition):
        return _illegal(error, words)
    # Jira's refusal and the like: the ticket system's own words, which esmbot cannot translate.
    return words.t("commands.error.other", detail=str(error))


def _taken(error: AlreadyTaken, words: Phrases) -> str:
    holder = error.holder
    name = (holder.name or holder.email) if holder else None
    if error.acknowledged:
        if error.yours:
            return words.t("commands.error.already_acknowledged_yours", key=error.key)
        if name:
            return words.t("commands.error.already_acknowledged_by", key=error.key, name=name)
        return words.t("commands.error.already_acknowledged", key=error.key)
    if error.yours:
        return words.t("commands.assign.already_yours", key=error.key)
    if name:
        return words.t("commands.error.taken_by", key=error.key, name=name)
    return words.t("commands.error.taken", key=error.key)


def _illegal(error: IllegalTransition, words: Phrases) -> str:
    key = "commands.error.illegal" if error.allowed else "commands.error.illegal_nowhere"
    return words.t(
        key,
        key=error.ticket_key,
        from_status=error.from_status,
        to_status=error.to_status,
        allowed=", ".join(error.allowed),
    )
