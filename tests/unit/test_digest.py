"""The daily digest's figures on a handful of tickets at a fixed moment, and the job's once-a-day rule."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import TEMPLATES
from bot.directory.models import AudienceBinding, Conversation, Person
from bot.notify.compose import Notifier
from bot.notify.models import OutboxMessage
from bot.notify.render import Renderer
from bot.reports.digest import TEMPLATE, DailyDigest, DigestTicket, compose_digest
from bot.tickets.due import MISSED_BEFORE_SEEN
from bot.tickets.due_models import DueAction
from bot.tickets.models import CsatSurvey, Ticket

# Tuesday 24 November 2026, 08:00 in Berlin: the digest's moment. Its "new and resolved" window
# is Monday in Berlin, [Sun 22 Nov 23:00 UTC, Mon 23 Nov 23:00 UTC).
NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def ticket(key: str, **fields: Any) -> Ticket:
    defaults: dict[str, Any] = {"summary": f"Summary of {key}", "priority": "P3", "status": "new"}
    return Ticket(key=key, **{**defaults, **fields})


async def seed(session: Any) -> None:
    alex, sam = Person(name="Alex Agent"), Person(name="Sam Agent")
    session.add_all([alex, sam])
    await session.flush()
    session.add_all(
        [
            # 48 h first response from Sun 06:00 UTC, unanswered: missed Tue 06:00, 1 h ago.
            ticket("SR-1", created_at=utc(22, 6), first_response_due=utc(24, 6),
                   resolution_due=utc(27, 16)),
            # P2: answered 2 h late (due Tue 17 08:00), and its 3 working days from Mon 16
            # 09:00 Berlin ran out Thu 19 09:00 Berlin; the older miss names the breach.
            ticket("SR-2", priority="P2", status="in_progress", assignee_id=alex.id,
                   created_at=utc(16, 8), first_response_due=utc(17, 8),
                   first_response_at=utc(17, 10), resolution_due=utc(19, 8)),
            # 5 working days from Wed 18 08:00 Berlin close Tue 24 17:00 Berlin (45 open
            # hours); Wed, Thu, Fri and Mon are used: 36 of 45 hours, 80 %.
            ticket("SR-3", status="acknowledged", assignee_id=sam.id, created_at=utc(18, 7),
                   first_response_due=utc(20, 7), first_response_at=utc(18, 9),
                   resolution_due=utc(24, 16)),
            # Waiting for the customer: the resolution clock is paused, so its stale due time
            # is neither a breach nor a risk.
            ticket("SR-4", status="waiting_for_customer", created_at=utc(18, 7),
                   first_response_due=utc(20, 7), first_response_at=utc(18, 8),
                   resolution_due=utc(23, 16), paused_since=utc(19, 9)),
            # P1 opened today 06:00 Berlin: 2 of its 4 hours used (50 %), its working day not
            # begun. Not at risk, and not in Monday's figures.
            ticket("SR-5", priority="P1", created_at=utc(24, 5), first_response_due=utc(24, 9),
                   resolution_due=utc(24, 16)),
            # The vendor was needed Mon 09:00 UTC and 24 h are allowed: 22 h used, 91 %.
            # Its resolution (Mon 09:00 Berlin + 5 working days) is only 8 of 45 h in.
            ticket("SR-6", status="in_progress", assignee_id=sam.id, created_at=utc(23, 8),
                   first_response_due=utc(25, 8), first_response_at=utc(23, 9),
                   resolution_due=utc(30, 8), vendor_needed_at=utc(23, 9),
                   vendor_escalation_due=utc(24, 9)),
            # Sun 23:30 UTC is Mon 00:30 in Berlin: Monday's, though not Monday's in UTC.
            ticket("SR-9", priority="P4", created_at=utc(22, 23, 30),
                   first_response_due=utc(24, 23, 30), resolution_due=utc(27, 16)),
            # Mon 23:30 UTC is already Tuesday in Berlin: not Monday's.
            ticket("SR-10", created_at=utc(23, 23, 30), first_response_due=utc(25, 23, 30),
                   resolution_due=utc(30, 16)),
            # Resolved on Monday (counted) and on Friday (not); neither is open.
            ticket("SR-7", status="resolved", created_at=utc(20, 9), first_response_at=utc(20, 10),
                   resolved_at=utc(23, 14)),
            ticket("SR-8", status="closed", created_at=utc(19, 9), first_response_at=utc(19, 10),
                   resolved_at=utc(20, 10)),
        ]
    )  # fmt: skip
    await session.flush()
    keys = {t.key: t.id for t in (await session.scalars(select(Ticket))).all()}
    # Two answers in the last 30 days (4 and 2: 3.0, on target), one older that does not count.
    for key, score, answered in (("SR-7", 4, utc(23, 15)), ("SR-8", 2, utc(21, 9)),
                                 ("SR-2", 1, NOW - timedelta(days=40))):  # fmt: skip
        session.add(
            CsatSurvey(ticket_id=keys[key], round=1, status="answered", due_at=answered,
                       answered_at=answered, score=score)
        )  # fmt: skip


async def test_the_digest_counts_lists_and_scores_as_worked_out_by_hand(database, organisation):
    async with database.transaction() as session:
        await seed(session)
    async with database.transaction() as session:
        digest = await compose_digest(session, organisation=organisation, now=NOW)

    assert digest.open_total == 8
    assert digest.by_priority == (("P1", 1), ("P2", 1), ("P3", 5), ("P4", 1))
    assert digest.by_status == (
        ("new", 4), ("acknowledged", 1), ("in_progress", 2), ("waiting_for_customer", 1)
    )  # fmt: skip
    assert digest.breached == (
        DigestTicket("SR-2", "Summary of SR-2", "P2", "Alex Agent", "first_response", utc(17, 8)),
        DigestTicket("SR-1", "Summary of SR-1", "P3", None, "first_response", utc(24, 6)),
    )
    assert digest.at_risk == (
        DigestTicket("SR-6", "Summary of SR-6", "P3", "Sam Agent", "vendor_escalation",
                     utc(24, 9), percent=91),
        DigestTicket("SR-3", "Summary of SR-3", "P3", "Sam Agent", "resolution",
                     utc(24, 16), percent=80),
    )  # fmt: skip
    assert (digest.breached_total, digest.at_risk_total, digest.at_risk_from) == (2, 2, 75)
    assert digest.since == utc(22, 23)  # Monday 00:00 in Berlin
    assert (digest.new, digest.resolved) == (2, 1)  # SR-6 and SR-9; SR-7
    assert (digest.csat_average, digest.csat_answers, digest.csat_target) == (3.0, 2, 3.0)
    assert digest.csat_days == 30


async def test_a_ticket_just_under_the_threshold_is_not_at_risk(database, organisation):
    async with database.transaction() as session:
        # 24 h wall clock from Mon 08:00 UTC; at Tue 01:59 UTC 17 h 59 min are used (74.9 %),
        # at 02:00 exactly 75 %.
        session.add(ticket("SR-1", created_at=utc(23, 8), first_response_due=utc(24, 8)))
    async with database.transaction() as session:
        before = await compose_digest(session, organisation=organisation, now=utc(24, 1, 59))
        at = await compose_digest(session, organisation=organisation, now=utc(24, 2))

    assert before.at_risk == () and before.breached == ()
    assert [(t.key, t.percent) for t in at.at_risk] == [("SR-1", 75)]


async def test_the_card_names_ten_tickets_per_list_the_longest_overdue_first(
    database, organisation
):
    async with database.transaction() as session:
        for n in range(12):  # first responses missed 1 to 12 hours ago
            session.add(
                ticket(
                    f"SR-{n}",
                    created_at=utc(21, 8),
                    first_response_due=utc(24, 6) - timedelta(hours=n),
                )
            )
    async with database.transaction() as session:
        digest = await compose_digest(session, organisation=organisation, now=NOW)

    assert digest.breached_total == 12
    assert [t.key for t in digest.breached] == [f"SR-{n}" for n in range(11, 1, -1)]


@pytest.mark.parametrize(
    ("now", "since"),
    [
        # A Monday covers Friday and the weekend.
        (datetime(2026, 11, 30, 7, 0, tzinfo=UTC), utc(26, 23)),
        # After Christmas Eve (a closed date) and Christmas Day (a holiday): since Wednesday.
        (datetime(2026, 12, 28, 7, 0, tzinfo=UTC), datetime(2026, 12, 22, 23, 0, tzinfo=UTC)),
    ],
)
async def test_the_window_reaches_back_to_the_previous_working_day(
    database, organisation, now, since
):
    async with database.transaction() as session:
        session.add(ticket("SR-1", created_at=since + timedelta(minutes=1)))
        session.add(ticket("SR-2", created_at=since - timedelta(minutes=1)))
    async with database.transaction() as session:
        digest = await compose_digest(session, organisation=organisation, now=now)

    assert digest.since == since
    assert digest.new == 1
    assert digest.open_total == 2 and digest.breached == () and digest.at_risk == ()
    assert digest.csat_average is None and digest.csat_answers == 0


async def test_deadlines_missed_before_the_ticket_was_seen_are_one_line_of_the_next_digest(
    database, organisation
):
    await bind_management(database)
    async with database.transaction() as session:
        old, older = ticket("SR-1", created_at=utc(1, 8)), ticket("SR-2", created_at=utc(2, 8))
        session.add_all([old, older])
        await session.flush()
        for number, (owner, done_at) in enumerate(
            [(old, utc(23, 10)), (old, utc(23, 10)), (older, utc(23, 12)), (older, utc(24, 6))]
        ):
            session.add(
                DueAction(ticket_id=owner.id, dedupe_key=f"k{number}", kind="breach",
                          due_at=utc(3, 8), status="done", outcome=MISSED_BEFORE_SEEN,
                          done_at=done_at)
            )  # fmt: skip
    digest, _ = job(database, organisation, Clock(NOW))

    assert await digest() is True

    async with database.transaction() as session:
        figures = await compose_digest(session, organisation=organisation, now=NOW)
    # Monday's window: SR-2's second deadline was recorded on Tuesday, for tomorrow's digest.
    assert (figures.seen_late, figures.seen_late_total, figures.seen_late_deadlines) == (
        ("SR-1", "SR-2"), 2, 3
    )  # fmt: skip
    fallback = (await outbox_rows(database))[0].activity["attachments"][0]["content"]
    lines = [line for line in fallback["fallbackText"].split("\n") if "without alerts" in line]
    assert lines == [
        "Missed before esmbot first saw the ticket, recorded without alerts: 3 · SR-1, SR-2"
    ]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def bind_management(database: Any) -> int:
    async with database.transaction() as session:
        channel = Conversation(
            conversation_id="19:management@thread.tacv2", scope="channel",
            service_url="http://connector.invalid/", reference={},
        )  # fmt: skip
        session.add(channel)
        await session.flush()
        session.add(AudienceBinding(audience="management", conversation_id=channel.id))
        return channel.id


def job(database: Any, organisation: Any, clock: Clock) -> tuple[DailyDigest, list[int]]:
    woken: list[int] = []
    notifier = Notifier(
        Renderer(TEMPLATES, organisation.default_locale, organisation.time_zone), organisation
    )
    digest = DailyDigest(
        database, organisation, notifier, clock, on_commit=lambda: woken.append(1)
    )  # fmt: skip
    return digest, woken


async def outbox_rows(database: Any) -> list[OutboxMessage]:
    async with database.transaction() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def test_the_job_writes_one_digest_a_day_to_the_management_channel(database, organisation):
    channel = await bind_management(database)
    async with database.transaction() as session:
        await seed(session)
    clock = Clock(NOW)
    digest, woken = job(database, organisation, clock)

    assert await digest() is True
    assert await digest() is False  # a restart, or a second leader, the same day
    clock.now = NOW + timedelta(days=1)
    assert await digest() is True

    rows = await outbox_rows(database)
    assert [row.dedupe_key for row in rows] == ["digest:2026-11-24", "digest:2026-11-25"]
    assert {(r.conversation_id, r.audience, r.template, r.ticket_id) for r in rows} == {
        (channel, "management", "management/digest", None)
    }
    first = rows[0].activity
    assert first["summary"] == "Digest: 8 open, 2 overdue, 2 at risk"
    fallback = first["attachments"][0]["content"]["fallbackText"]
    assert "SR-2" in fallback and "SR-6" in fallback and "3.0 of 4 from 2 answers" in fallback
    assert woken == [1, 1]


async def test_no_digest_on_a_holiday_or_when_nobody_of_management_can_be_reached(
    database, organisation, caplog
):
    clock = Clock(datetime(2026, 12, 25, 7, 0, tzinfo=UTC))  # Christmas Day, a Friday
    digest, woken = job(database, organisation, clock)
    caplog.set_level(logging.INFO, logger="bot.reports")

    await bind_management(database)
    assert await digest() is False
    async with database.transaction() as session:
        await session.execute(AudienceBinding.__table__.delete())
    clock.now = NOW
    assert await digest() is False

    assert await outbox_rows(database) == [] and woken == []
    messages = [record.getMessage() for record in caplog.records]
    assert "no digest on a day off" in messages
    # No channel, and Danielle (the manager) has no chat with esmbot: nobody to write to.
    assert "no report: nobody of management can be reached" in messages


async def test_a_job_that_loses_the_race_for_the_day_inserts_nothing(database, organisation):
    """Two leaders both passed the "written already?" check: the second insert is a no-op."""
    await bind_management(database)
    digest, _ = job(database, organisation, Clock(NOW))
    assert await digest() is True

    async with database.transaction() as session:
        late = await compose_digest(session, organisation=organisation, now=NOW)
        channels = await digest.notifier.channel(session, "management")
        row = digest.notifier.render_row(
            template=TEMPLATE, audience="management", recipient=channels[0],
            dedupe_key="digest:2026-11-24", view=None, extras={"digest": late},
        )  # fmt: skip
        assert await digest.notifier.add_once(session, row) is False
    assert len(await outbox_rows(database)) == 1


async def test_without_a_management_channel_the_digest_goes_to_each_manager_1_1(
    database, organisation
):
    async with database.transaction() as session:
        danielle = Person(name="Danielle CTO", email="danielle@esmos.example", locale="de-DE")
        session.add(danielle)
        await session.flush()
        chat = Conversation(
            conversation_id="a:personal-danielle", scope="personal",
            service_url="http://connector.invalid/", reference={}, person_id=danielle.id,
        )  # fmt: skip
        session.add(chat)
        await session.flush()
        chat_id = chat.id
    digest, woken = job(database, organisation, Clock(NOW))

    assert await digest() is True

    (row,) = await outbox_rows(database)
    assert row.conversation_id == chat_id and row.audience == "management"
    assert woken == [1]
    # Written in her language.
    assert row.activity is not None
    assert (
        "Tägliche Übersicht des Service Desks"
        in row.activity["attachments"][0]["content"]["fallbackText"]
    )
