"""Imports every table so that the metadata (and Alembic) sees the whole schema."""

from bot.db import Base
from bot.dialogs.models import BotStateRow
from bot.directory.models import AudienceBinding, AuditEntry, Conversation, Person
from bot.notify.models import Coordination, OutboxMessage
from bot.problems.models import ProblemAlert, ProblemAlertTicket, ProblemLink
from bot.tickets.due_models import DueAction
from bot.tickets.models import CsatSurvey, KeySequence, Ticket, TicketEvent

metadata = Base.metadata

__all__ = [
    "AudienceBinding",
    "AuditEntry",
    "BotStateRow",
    "Conversation",
    "Coordination",
    "CsatSurvey",
    "DueAction",
    "KeySequence",
    "OutboxMessage",
    "Person",
    "ProblemAlert",
    "ProblemAlertTicket",
    "ProblemLink",
    "Ticket",
    "TicketEvent",
    "metadata",
]
