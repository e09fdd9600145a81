"""The "open a ticket" waterfall: one question at a time, a summary to confirm, then the ticket."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext, TextPrompt
from botbuilder.schema import Activity

from bot.dialogs.choices import ask, worded
from bot.dialogs.first_seen import NotADate, read_first_seen
from bot.dialogs.prompts import CardChoicePrompt, ReviewPrompt
from bot.dialogs.voice import Desk, Voice, voice_of
from bot.directory.models import Person
from bot.directory.service import record_audit
from bot.errors import EsmbotError
from bot.notify.labels import MODULE, TYPE
from bot.problems.known import known_problem
from bot.problems.records import ProblemRecords
from bot.tickets.events import PersonRef, day_or_moment
from bot.tickets.people import match_person
from bot.tickets.service import ticket_by_key
from bot.tickets.system import Draft

log = logging.getLogger(__name__)

OPEN_TICKET = "open_ticket"
STEPS = "open_ticket_steps"
TEXT, CHOICE, SUMMARY, FOR_WHOM, FIRST_SEEN, REVIEW = (
    "text", "choice", "summary", "for_whom", "first_seen", "review",
)  # fmt: skip
# The questions in the order they are asked; "review" in `only` skips straight to the summary.
FIELDS = ("for_whom", "summary", "known_problem", "type", "module", "module_other", "impact",
          "steps", "first_seen", "priority")  # fmt: skip
CHANGEABLE = ("summary", "type", "module", "impact", "steps", "first_seen", "priority")
PRIORITIES = ("P1", "P2", "P3", "P4")
DEFAULT_PRIORITY = "P3"
OTHER, NOT_SURE, ME = "other", "not_sure", "me"
# The answers when the customer's words match an open problem: add them to it, or go on.
AFFECTED, OWN_TICKET, NO_PROBLEM = "affected", "own_ticket", "none"
SUMMARY_LIMIT = 200
TEXT_LIMIT = 4000
MIN_SUMMARY_LETTERS = 5
_PRIORITY_WORDS = {
    "P1": ("critical", "kritisch", "urgent", "dringend"),
    "P2": ("high", "hoch"),
    "P3": ("normal", "medium", "mittel"),
    "P4": ("low", "niedrig", "gering"),
}
_NOT_SURE = (
    "not sure",
    "don't know",
    "dont know",
    "unsure",
    "weiß nicht",
    "weiss nicht",
    "egal",
    "?",
)
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[a-z]{2,}$", re.IGNORECASE)
_MAILTO = re.compile(r"<mailto:([^|>]+)\|[^>]*>|\[([^\]]+)\]\(mailto:[^)]+\)")


def may_open(voice: Voice, desk: Desk) -> bool:
    """Without key users everyone may open tickets; with them, key users and the desk only."""
    listed = desk.organisation.roles.get("key_users")
    if listed is None or not (listed.emails or listed.object_ids):
        return True
    return bool(set(voice.person.roles) & {"key_users", "agents"})


def may_open_for_others(voice: Voice) -> bool:
    return bool(set(voice.person.roles) & {"key_users", "agents"})


def refusal(voice: Voice, desk: Desk) -> str:
    """What someone who may not open tickets is told: whom to ask instead."""
    members = desk.organisation.roles.get("key_users")
    names = sorted(members.emails) if members else []
    if names:
        return voice.t("chat.open.not_allowed", names=", ".join(names[:5]))
    return voice.t("chat.open.not_allowed_nobody")


def draft_from_text(text: str) -> dict[str, Any]:
    """A first message that describes the problem fills the summary and the description."""
    text = text.strip()[:TEXT_LIMIT]
    first_line = text.split("\n", 1)[0].strip()
    summary = (
        first_line if len(first_line) <= SUMMARY_LIMIT else first_line[: SUMMARY_LIMIT - 1] + "…"
    )
    # A one-line message is all summary; a description only repeats what says more.
    return {"summary": summary, "description": text if text != summary else ""}


class OpenTicketDialog(ComponentDialog):
    """Options: {"draft": {...}} to start (fields already known are not asked again), plus
    {"only": field} to ask one field again, or {"only": "review"} to show the summary again."""

    def __init__(self, desk: Desk) -> None:
        super().__init__(OPEN_TICKET)
        self._desk = desk
        self.add_dialog(TextPrompt(TEXT, self._not_empty))
        self.add_dialog(TextPrompt(SUMMARY, self._summary_ok))
        self.add_dialog(TextPrompt(FOR_WHOM, self._for_whom_ok))
        self.add_dialog(TextPrompt(FIRST_SEEN, self._first_seen_ok))
        self.add_dialog(CardChoicePrompt(CHOICE))
        self.add_dialog(ReviewPrompt(REVIEW))
        steps: list[Callable[[WaterfallStepContext], Awaitable[DialogTurnResult]]]
        steps = [self._first_step]
        steps += [
            self._make_step(previous, field) for previous, field in itertools.pairwise(FIELDS)
        ]
        steps += [self._review_step, self._decide_step]
        self.add_dialog(WaterfallDialog(STEPS, steps))
        self.initial_dialog_id = STEPS

    # The waterfall: each step stores the answer to the previous question and asks the next.

    async def _first_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options if isinstance(step.options, dict) else {}
        step.values["draft"] = dict(options.get("draft") or {})
        step.values["only"] = options.get("only")
        return await self._ask(step, FIELDS[0])

    def _make_step(
        self, previous: str, field: str
    ) -> Callable[[WaterfallStepContext], Awaitable[DialogTurnResult]]:
        async def step_(step: WaterfallStepContext) -> DialogTurnResult:
            self._store(step, previous)
            if previous == "known_problem" and step.values["asked"] == previous:
                await self._record_choice(step)
                if step.values["draft"].get("known_choice") == AFFECTED:
                    return await self._join_problem(step)
            return await self._ask(step, field)

        step_.__name__ = f"ask_{field}"
        return step_

    async def _review_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        self._store(step, FIELDS[-1])
        voice = voice_of(step.context)
        draft = step.values["draft"]
        fields = {
            name: [normalise_label(voice.t(f"chat.field.{name}")), name] for name in CHANGEABLE
        }
        return await step.prompt(
            REVIEW,
            PromptOptions(
                prompt=voice.card("ticket_draft", extras=_card_extras(draft, voice)),
                retry_prompt=voice.text("chat.open.review_retry"),
                validations=fields,
            ),
        )

    async def _decide_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        choice = step.result or {}
        draft = step.values["draft"]
        if choice.get("choice") == "edit":
            return await step.replace_dialog(STEPS, {"draft": draft, "only": choice["field"]})
        return await self._create(step, draft)

    # Asking and storing.

    async def _ask(self, step: WaterfallStepContext, field: str) -> DialogTurnResult:
        voice, draft, only = voice_of(step.context), step.values["draft"], step.values["only"]
        step.values["asked"] = None
        if not self._wanted(field, draft, only, voice):
            return await step.next(None)
        step.values["asked"] = field
        organisation = self._desk.organisation
        if field == "for_whom":
            return await step.prompt(FOR_WHOM, _text(voice, "chat.open.for_whom"))
        if field == "summary":
            return await step.prompt(SUMMARY, _text(voice, "chat.open.summary"))
        if field == "known_problem":
            return await self._ask_known_problem(step, voice, draft)
        if field == "type":
            choices = [worded(voice, kind, kind=TYPE) for kind in organisation.ticket_types]
            return await step.prompt(CHOICE, ask(voice, field, voice.t("chat.open.type"), choices))
        if field == "module":
            choices = [worded(voice, module, kind=MODULE) for module in organisation.modules]
            choices.append(worded(voice, OTHER, key="chat.open.module_other", words=("andere",)))
            question = voice.t("chat.open.module", service=organisation.service)
            return await step.prompt(CHOICE, ask(voice, field, question, choices))
        if field == "module_other":
            return await step.prompt(TEXT, _text(voice, "chat.open.module_other_ask"))
        if field == "impact":
            return await step.prompt(TEXT, _text(voice, "chat.open.impact"))
        if field == "steps":
            return await step.prompt(TEXT, _text(voice, "chat.open.steps"))
        if field == "first_seen":
            return await step.prompt(FIRST_SEEN, _text(voice, "chat.open.first_seen"))
        choices = [
            worded(voice, name, key=f"chat.open.priority_{name}", words=_PRIORITY_WORDS[name])
            for name in PRIORITIES
        ]
        choices.append(worded(voice, NOT_SURE, key="chat.open.priority_not_sure", words=_NOT_SURE))
        return await step.prompt(CHOICE, ask(voice, field, voice.t("chat.open.priority"), choices))

    def _wanted(self, field: str, draft: dict[str, Any], only: str | None, voice: Voice) -> bool:
        if field == "module_other":
            return draft.get("module") == OTHER and only in (None, "module")
        if only is not None:
            return field == only
        if field == "for_whom":
            return may_open_for_others(voice) and "for_email" not in draft
        if field == "known_problem":
            # Only for their own trouble: a key user opening for a colleague opens the ticket.
            return "known_problem" not in draft and not draft.get("for_email")
        if field == "module" and not self._desk.organisation.modules:
            return False
        return field not in draft

    def _store(self, step: WaterfallStepContext, field: str) -> None:
        if step.values.get("asked") != field:
            return
        draft, result = step.values["draft"], step.result
        if field == "for_whom":
            draft["for_email"] = None if result == ME else result
        elif field == "summary":
            given = draft_from_text(result)
            draft["summary"] = given["summary"]
            draft.setdefault("description", given["description"])
        elif field == "known_problem":
            draft["known_choice"] = result.value
        elif field in ("type", "module"):
            draft[field] = result.value
        elif field == "module_other":
            draft["module"] = result.strip()[:100]
        elif field == "priority":
            draft["priority"] = result.value if result.value in PRIORITIES else None
        elif field == "first_seen":
            draft["first_seen"] = result
        else:
            draft[field] = result.strip()[:TEXT_LIMIT]

    # A problem the desk knows about already: the customer may join it instead.

    async def _ask_known_problem(
        self, step: WaterfallStepContext, voice: Voice, draft: dict[str, Any]
    ) -> DialogTurnResult:
        text = f"{draft.get('summary') or ''} {draft.get('description') or ''}"
        async with self._desk.database.transaction() as session:
            known = await known_problem(
                session, text=text, threshold=self._desk.organisation.problems.similarity
            )
        draft["known_problem"] = known.key if known else NO_PROBLEM
        if known is None:
            step.values["asked"] = None
            return await step.next(None)
        question = voice.t(
            "chat.open.known_problem",
            summary=known.summary,
            since=voice.when(known.since),
            key=known.key,
        )
        choices = [
            worded(voice, AFFECTED, key="chat.open.known_affected"),
            worded(voice, OWN_TICKET, key="chat.open.known_own"),
        ]
        return await step.prompt(CHOICE, ask(voice, "known_problem", question, choices))

    async def _record_choice(self, step: WaterfallStepContext) -> None:
        """What the customer chose is kept, so that the report can count the deflections."""
        draft, voice = step.values["draft"], voice_of(step.context)
        async with self._desk.database.transaction() as session:
            await record_audit(
                session,
                actor=voice.person,
                action="problem.intake",
                outcome="done",
                target=draft["known_problem"],
                detail={"choice": draft.get("known_choice")},
            )

    async def _join_problem(self, step: WaterfallStepContext) -> DialogTurnResult:
        voice, key = voice_of(step.context), step.values["draft"]["known_problem"]
        try:
            added = await ProblemRecords(self._desk.actions).add_affected(key, voice.person)
        except EsmbotError as error:
            # Solved or gone meanwhile: the customer opens a ticket after all.
            log.info("could not join the problem", extra={"problem": key, "error": str(error)})
            await step.context.send_activity(voice.text("chat.open.known_gone", key=key))
            step.values["draft"]["known_choice"] = OWN_TICKET
            return await self._ask(step, "type")
        said = "chat.open.known_added" if added else "chat.open.known_already"
        await step.context.send_activity(voice.text(said, key=key))
        return await step.end_dialog(key)

    # Validators: each says what is wrong, so the customer is never just asked again.

    async def _not_empty(self, prompt: PromptValidatorContext) -> bool:
        if prompt.recognized.succeeded and (prompt.recognized.value or "").strip():
            return True
        await prompt.context.send_activity(voice_of(prompt.context).text("chat.open.empty"))
        return False

    async def _summary_ok(self, prompt: PromptValidatorContext) -> bool:
        text = (prompt.recognized.value or "") if prompt.recognized.succeeded else ""
        if len(re.findall(r"[^\W\d_]", text)) >= MIN_SUMMARY_LETTERS:
            return True
        await prompt.context.send_activity(voice_of(prompt.context).text("chat.open.summary_short"))
        return False

    async def _for_whom_ok(self, prompt: PromptValidatorContext) -> bool:
        voice = voice_of(prompt.context)
        text = (prompt.recognized.value or "").strip() if prompt.recognized.succeeded else ""
        words = normalise_label(text)
        if words in {
            ME,
            "myself",
            "mich",
            "mir",
            "ich",
            normalise_label(voice.t("chat.open.for_me")),
        }:
            prompt.recognized.value = ME
            return True
        mailto = _MAILTO.search(text)
        address = (mailto[1] or mailto[2]) if mailto else text
        address = address.strip().lower()
        if not _EMAIL.match(address):
            await prompt.context.send_activity(voice.text("chat.open.for_whom_invalid"))
            return False
        async with self._desk.database.transaction() as session:
            colleague = await match_person(session, ref=PersonRef(email=address), remember=False)
        if colleague is None:
            await prompt.context.send_activity(
                voice.text("chat.open.for_whom_unknown", email=address)
            )
            return False
        prompt.recognized.value = address
        return True

    async def _first_seen_ok(self, prompt: PromptValidatorContext) -> bool:
        voice = voice_of(prompt.context)
        text = (prompt.recognized.value or "") if prompt.recognized.succeeded else ""
        try:
            seen = read_first_seen(
                text,
                now=self._desk.now(),
                zone=voice.phrases.zone,
                month_first=(voice.person.locale or "").lower() == "en-us",
            )
        except NotADate as problem:
            await prompt.context.send_activity(voice.text(f"chat.open.first_seen_{problem.reason}"))
            return False
        prompt.recognized.value = seen.stored()
        return True

    # The end: the ticket, in the system of record first.

    async def _create(self, step: WaterfallStepContext, draft: dict[str, Any]) -> DialogTurnResult:
        voice = voice_of(step.context)
        reporter: Person = voice.person
        async with self._desk.database.transaction() as session:
            if draft.get("for_email"):
                found = await match_person(session, ref=PersonRef(email=draft["for_email"]))
                reporter = found or reporter
        try:
            applied = await self._desk.actions.open(
                Draft(
                    summary=draft["summary"],
                    description=draft.get("description") or "",
                    type=draft.get("type") or "incident",
                    module=draft.get("module") if draft.get("module") != OTHER else None,
                    impact=draft.get("impact"),
                    steps=draft.get("steps"),
                    first_occurred_at=day_or_moment(draft.get("first_seen")),
                    priority=draft.get("priority") or DEFAULT_PRIORITY,
                ),
                reporter=reporter,
                opened_by=voice.person,
            )
        except EsmbotError as error:
            log.warning("could not open the ticket", extra={"error": str(error)})
            await step.context.send_activity(
                voice.text("chat.open.create_failed", reason=str(error))
            )
            return await step.replace_dialog(STEPS, {"draft": draft, "only": "review"})
        async with self._desk.database.transaction() as session:
            ticket = await ticket_by_key(session, key=applied.ticket_key)
        due = ticket.first_response_due if ticket else None
        # The customer's own ticket card (from the outbox) says when they will hear from us; a
        # key user who opened it for a colleague gets no such card, so the deadline is here.
        key = "chat.open.created_for" if reporter.id != voice.person.id else "chat.open.created"
        await step.context.send_activity(
            voice.text(
                key,
                key=applied.ticket_key,
                summary=draft["summary"],
                name=reporter.name or reporter.email or "",
                due=voice.when(due),
            )
        )
        await self._close_card(step, voice, draft, applied.ticket_key)
        return await step.end_dialog(applied.ticket_key)

    async def _close_card(
        self, step: WaterfallStepContext, voice: Voice, draft: dict[str, Any], key: str
    ) -> None:
        """The summary card loses its buttons, so it cannot be sent twice."""
        card_id = step.context.activity.reply_to_id
        if not card_id:
            return
        closed: Activity = voice.card(
            "ticket_draft", extras=_card_extras(draft, voice) | {"sent_as": key}
        )
        closed.id = card_id
        try:
            await step.context.update_activity(closed)
        except Exception as error:  # the ticket exists; a card that stays as it was is cosmetic
            log.warning("could not close the draft card", extra={"error": repr(error)})


def normalise_label(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .!?:")


def _text(voice: Voice, key: str, **params: object) -> PromptOptions:
    return PromptOptions(prompt=voice.text(key, **params))


def _card_extras(draft: dict[str, Any], voice: Voice) -> dict[str, Any]:
    module = draft.get("module")
    return {
        "summary": draft.get("summary") or "",
        "type": voice.label(TYPE, draft["type"]) if draft.get("type") else "",
        "module": voice.label(MODULE, module) if module and module != OTHER else None,
        "impact": draft.get("impact"),
        "steps": draft.get("steps"),
        "first_seen": day_or_moment(draft.get("first_seen")),
        "priority": draft.get("priority"),
        "for_email": draft.get("for_email"),
        "sent_as": None,
        "fields": list(CHANGEABLE),
    }
