"""A ticket from a Teams message: the guided fields filled in from it in one form, and read back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config.organisation import LOCALES
from bot.dialogs.open_ticket import (
    DEFAULT_PRIORITY,
    MIN_SUMMARY_LETTERS,
    PRIORITIES,
    SUMMARY_LIMIT,
    TEXT_LIMIT,
    draft_from_text,
    may_open_for_others,
)
from bot.dialogs.voice import Desk, Voice
from bot.directory.models import Person
from bot.errors import EsmbotError
from bot.notify.labels import MODULE, TYPE, label
from bot.notify.views import Reader
from bot.tickets.events import PersonRef
from bot.tickets.people import match_person
from bot.tickets.system import Draft

FORM = "ticket_form"
AUTHOR, ME = "author", "me"
DEFAULT_TYPE = "incident"
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[a-z]{2,}$", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """The message a ticket is made from: its words, and its author when esmbot knows them."""

    text: str
    author: Person | None


@dataclass(frozen=True)
class Filled:
    """The form read back: the ticket to open and whose it is."""

    draft: Draft
    reporter: Person


class FormProblem(EsmbotError):
    """The form cannot become a ticket as it stands; the message says why, in the reader's words."""


def guess_module(text: str, desk: Desk) -> str | None:
    """The catalogue's area the words name, in any language esmbot speaks; the first one named."""
    lowered = text.lower()
    readers = [desk.renderer.phrases(Reader(locale=language)) for language in LOCALES]
    for module in desk.organisation.modules:
        names = {module.lower(), *(label(phrases, MODULE, module).lower() for phrases in readers)}
        if any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lowered) for name in names):
            return module
    return None


def first_answers(source: Source, desk: Desk) -> dict[str, str]:
    """What the form holds when it opens: the message as summary and description, its area."""
    given = draft_from_text(source.text)
    types = desk.organisation.ticket_types
    return {
        "summary": given["summary"],
        "description": source.text.strip()[:TEXT_LIMIT],
        "type": DEFAULT_TYPE if DEFAULT_TYPE in types else types[0],
        "module": guess_module(source.text, desk) or "",
        "priority": "",
        "reporter": AUTHOR,
        "for_email": "",
    }


def form_card(
    voice: Voice,
    desk: Desk,
    source: Source,
    answers: Mapping[str, object],
    *,
    problem: str | None = None,
) -> dict[str, Any]:
    """The dialog's Adaptive Card holding `answers`, and what was wrong with them, if anything."""
    organisation = desk.organisation
    author = _other_author(voice, source)
    extras = {
        "summary": _text(answers.get("summary")),
        "description": _text(answers.get("description")),
        "type": _text(answers.get("type")),
        "module": _text(answers.get("module")) or None,
        "priority": _text(answers.get("priority")) or None,
        "types": [(kind, voice.label(TYPE, kind)) for kind in organisation.ticket_types],
        "modules": [(module, voice.label(MODULE, module)) for module in organisation.modules],
        "priorities": [(name, voice.t(f"chat.open.priority_{name}")) for name in PRIORITIES],
        "author": (author.name or author.email or None) if author else None,
        "reporter": AUTHOR if author and answers.get("reporter") != ME else ME,
        "for_others": may_open_for_others(voice),
        "for_email": _text(answers.get("for_email")) or None,
        "problem": problem,
    }
    rendered = voice.renderer.render(
        "customer", FORM, ticket=None, reader=voice.reader, extras=extras
    )
    return rendered.card


async def read_form(
    voice: Voice, desk: Desk, source: Source, answers: Mapping[str, object]
) -> Filled:
    """The ticket the submitted form describes; FormProblem says what is not right with it.

    The form's values are what the sender controls: each is checked against the catalogue and
    the role rules here, as the chat checks what is typed.
    """
    organisation = desk.organisation
    wrong: list[str] = []
    summary = _text(answers.get("summary"))[:SUMMARY_LIMIT]
    if len(re.findall(r"[^\W\d_]", summary)) < MIN_SUMMARY_LETTERS:
        wrong.append(voice.t("chat.field.summary"))
    kind = _text(answers.get("type"))
    if kind not in organisation.ticket_types:
        wrong.append(voice.t("chat.field.type"))
    module = _text(answers.get("module")) or None
    if module is not None and module not in organisation.modules:
        wrong.append(voice.t("chat.field.module"))
    priority = _text(answers.get("priority")) or None
    if priority is not None and priority not in PRIORITIES:
        wrong.append(voice.t("chat.field.priority"))
    email = _text(answers.get("for_email")).lower()
    if email and (not may_open_for_others(voice) or not _EMAIL.match(email)):
        wrong.append(voice.t("chat.form.for_colleague"))
    if wrong:
        raise FormProblem(voice.t("chat.form.unreadable", fields=", ".join(wrong)))
    reporter = await _reporter(voice, desk, source, email, answers.get("reporter"))
    draft = Draft(
        summary=summary,
        description=_text(answers.get("description"))[:TEXT_LIMIT],
        type=kind,
        module=module,
        priority=priority or DEFAULT_PRIORITY,
    )
    return Filled(draft, reporter)


async def _reporter(voice: Voice, desk: Desk, source: Source, email: str, chosen: object) -> Person:
    """A colleague named by e-mail, else the message's author unless "mine" was picked."""
    if email:
        async with desk.database.transaction() as session:
            colleague = await match_person(session, ref=PersonRef(email=email), remember=False)
        if colleague is None:
            raise FormProblem(voice.t("chat.open.for_whom_unknown", email=email))
        return colleague
    author = _other_author(voice, source)
    return author if author is not None and chosen != ME else voice.person


def _other_author(voice: Voice, source: Source) -> Person | None:
    """The message's author when that is someone else than the reader."""
    if source.author is None or source.author.id == voice.person.id:
        return None
    return source.author


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
