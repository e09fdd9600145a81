"""The chat's dialogs on their own, with botbuilder-testing's DialogTestClient and esmbot's storage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botbuilder.core import ConversationState, Middleware, TurnContext
from botbuilder.dialogs import DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.testing import DialogTestClient

from bot.config import Organisation
from bot.db import Database
from bot.dialogs.follow_up import AnswerWhichDialog, ReopenDialog
from bot.dialogs.open_ticket import OpenTicketDialog
from bot.dialogs.storage import SqlStorage
from bot.dialogs.voice import Desk, Voice, remember_turn
from bot.directory.models import Person
from bot.notify.compose import Notifier
from bot.notify.render import Renderer
from bot.tickets.actions import TicketActions
from bot.tickets.lifecycle import Status
from bot.tickets.models import Ticket
from bot.tickets.service import ticket_by_key
from bot.tickets.system import Draft, LocalStore

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "messages"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin


class SpeaksAs(Middleware):
    """Does what the chat does before a dialog runs: says who the customer is."""

    def __init__(self, voice: Voice) -> None:
        self._voice = voice

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        remember_turn(context, self._voice)
        await logic()


@dataclass
class Setting:
    desk: Desk
    voice: Voice
    storage: SqlStorage

    def client(self, dialog: object, options: object = None) -> DialogTestClient:
        return DialogTestClient(
            "msteams",
            dialog,  # type: ignore[arg-type]
            options,
            [SpeaksAs(self.voice)],
            ConversationState(self.storage),
        )


@pytest.fixture
async def setting(database: Database, organisation: Organisation) -> Setting:
    renderer = Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone)
    actions = TicketActions(
        database=database,
        system=LocalStore(),
        organisation=organisation,
        clock=lambda: NOW,
        notifier=Notifier(renderer, organisation),
    )
    async with database.transaction() as session:
        lena = Person(name="Lena Learner", email="lena.learner@esmos.example", locale="en-GB")
        session.add(lena)
    desk = Desk(database, organisation, actions, renderer)
    return Setting(desk, Voice.of(lena, renderer), SqlStorage(database))


def said(reply: Activity | None) -> str:
    assert reply is not None
    if reply.text:
        return reply.text
    content = reply.attachments[0].content
    return content.text if hasattr(content, "text") else str(content)


def submit(value: dict[str, object]) -> Activity:
    return Activity(type=ActivityTypes.message, value=value)


ANSWERS = [
    ("incident", "Which part of OpenCart"),
    ("Checkout", "How does it affect your work"),
    ("No customer can pay", "What did you do just before"),
    ("Paid by card", "When did you first notice it"),
    ("yesterday 14:00", "How urgent"),
]


async def to_review(client: DialogTestClient) -> None:
    assert "What kind of request" in said(await client.send_activity("hi"))
    for answer, next_question in ANSWERS:
        assert next_question in said(await client.send_activity(answer))
    review = await client.send_activity("P3")
    assert review is not None and review.attachments[0].content["type"] == "AdaptiveCard"


async def test_the_happy_path_opens_the_ticket(setting: Setting) -> None:
    client = setting.client(
        OpenTicketDialog(setting.desk), {"draft": {"summary": "Checkout fails"}}
    )
    await to_review(client)

    done = await client.send_activity(submit({"action": "draft", "choice": "confirm"}))

    assert "Done – SR-1 is with the service desk: Checkout fails" in said(done)
    assert client.dialog_turn_result.status == DialogTurnStatus.Complete
    assert client.dialog_turn_result.result == "SR-1"
    async with setting.desk.database.transaction() as session:
        ticket = await ticket_by_key(session, key="SR-1")
    assert ticket is not None
    assert ticket.first_occurred_at == datetime(2026, 11, 22, 13, 0, tzinfo=UTC)


async def test_the_dialog_survives_a_restart_on_the_stored_state(setting: Setting) -> None:
    first = setting.client(OpenTicketDialog(setting.desk), {"draft": {"summary": "Login fails"}})
    await first.send_activity("hi")
    await first.send_activity("incident")
    # A new process: new dialog objects, the same database.
    second = setting.client(OpenTicketDialog(setting.desk), {"draft": {"summary": "ignored"}})

    asked = await second.send_activity("Checkout")

    assert "How does it affect your work" in said(asked)
    assert second.dialog_turn_result.status == DialogTurnStatus.Waiting


async def test_changing_a_field_asks_only_that_field(setting: Setting) -> None:
    client = setting.client(OpenTicketDialog(setting.desk), {"draft": {"summary": "Slow pages"}})
    await to_review(client)

    asked = await client.send_activity("change impact")
    assert "How does it affect your work" in said(asked)
    review = await client.send_activity("Pages take a minute")
    facts = {f["title"]: f["value"] for f in review.attachments[0].content["body"][2]["facts"]}  # type: ignore[union-attr]
    done = await client.send_activity("confirm")

    assert facts["Impact"] == "Pages take a minute"
    assert "SR-1" in said(done)
    async with setting.desk.database.transaction() as session:
        ticket = await ticket_by_key(session, key="SR-1")
    assert ticket is not None and ticket.impact == "Pages take a minute"


async def test_an_invalid_date_is_explained_and_asked_again(setting: Setting) -> None:
    client = setting.client(OpenTicketDialog(setting.desk), {"draft": {"summary": "Slow pages"}})
    await client.send_activity("hi")
    for answer, _ in ANSWERS[:4]:
        await client.send_activity(answer)

    wrong = await client.send_activity("31.02.2026")
    later = await client.send_activity("next week")
    right = await client.send_activity("16.11.2026")

    assert "couldn't read that as a time" in said(wrong)
    assert "in the future" in said(later)
    assert "How urgent" in said(right)


async def test_an_unknown_module_is_refused_until_a_button_or_other(setting: Setting) -> None:
    client = setting.client(OpenTicketDialog(setting.desk), {"draft": {"summary": "Robots"}})
    await client.send_activity("hi")
    await client.send_activity("incident")

    unknown = await client.send_activity("Warehouse robots")
    other = await client.send_activity("Something else")
    named = await client.send_activity("Warehouse robots")

    assert "Please pick one of the answers" in said(unknown)
    assert "Which part is it" in said(other)
    assert "How does it affect your work" in said(named)


async def test_reopen_or_new(setting: Setting) -> None:
    applied = await setting.desk.actions.open(
        Draft(summary="Checkout fails"), reporter=setting.voice.person
    )
    await setting.desk.actions.move(
        applied.ticket_key, Status.RESOLVED, actor=setting.voice.person, reason="Patched"
    )
    options = {"key": applied.ticket_key, "summary": "Checkout fails", "text": "broken again"}

    reopening = setting.client(ReopenDialog(setting.desk), options)
    assert "Is this about SR-1" in said(await reopening.send_activity("hi"))
    assert "reopened SR-1" in said(await reopening.send_activity("Reopen SR-1"))

    choosing_new = setting.client(ReopenDialog(setting.desk), options)
    await choosing_new.send_activity("hi")
    await choosing_new.send_activity("It's a new problem")
    result = choosing_new.dialog_turn_result.result
    assert result["then"] == "open_ticket" and result["draft"]["summary"] == "broken again"


async def test_answer_which_puts_the_answer_on_the_chosen_ticket(setting: Setting) -> None:
    person = setting.voice.person
    keys = []
    for summary in ("Checkout fails", "Login fails"):
        applied = await setting.desk.actions.open(Draft(summary=summary), reporter=person)
        await setting.desk.actions.ask(applied.ticket_key, "Which browser?", actor=person)
        keys.append(applied.ticket_key)
    options = {"tickets": [[key, "x"] for key in keys], "text": "Firefox"}
    client = setting.client(AnswerWhichDialog(setting.desk), options)

    asked = await client.send_activity("hi")
    answered = await client.send_activity(keys[1])

    assert "Which one is this for" in said(asked)
    assert f"added your answer to {keys[1]}" in said(answered)
    async with setting.desk.database.transaction() as session:
        first = await ticket_by_key(session, key=keys[0])
        second = await ticket_by_key(session, key=keys[1])
    assert isinstance(first, Ticket) and first.status == Status.WAITING_FOR_CUSTOMER
    assert isinstance(second, Ticket) and second.status == Status.IN_PROGRESS
