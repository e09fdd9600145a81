"""The generic event API: bearer token, schema, keys of esmbot's own store, exactly once."""

from __future__ import annotations

import dataclasses

import pytest

from bot.app import create_app

TOKEN = "t0ken-for-tests"


@pytest.fixture
async def api(aiohttp_client, settings, organisation, database, connector):
    client = await aiohttp_client(
        create_app(dataclasses.replace(settings, api_token=TOKEN), organisation)
    )

    async def post(body, token=TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.post("/api/events", json=body, headers=headers)
        return response.status, await response.json()

    return post


async def count(database, sql):
    from sqlalchemy import text

    async with database.transaction() as session:
        return (await session.execute(text(sql))).scalar()


MONITORING_ALERT = {
    "id": "nagios-4711",
    "type": "created",
    "source": "nagios",
    "occurred_at": "2026-11-23T03:12:00Z",
    "ticket": {
        "summary": "Payment gateway answers 503",
        "type": "incident",
        "module": "Payment",
        "priority": "P1",
        "description": "check_http on pay.esmos.example failed 3 times",
    },
}


async def test_a_monitoring_alert_opens_a_ticket_with_a_key_of_our_own(api, database):
    status, body = await api(MONITORING_ALERT)

    assert (status, body["outcome"], body["ticket"], body["changes"]) == (
        200,
        "applied",
        "SR-1",
        ["created"],
    )
    assert await count(database, "SELECT priority FROM tickets WHERE key = 'SR-1'") == "P1"
    assert await count(database, "SELECT source FROM tickets") == "nagios"


async def test_the_same_event_twice_is_applied_once(api, database):
    await api(MONITORING_ALERT)

    status, body = await api(MONITORING_ALERT)

    assert (status, body["outcome"]) == (200, "duplicate")
    assert await count(database, "SELECT count(*) FROM tickets") == 1


async def test_events_on_a_known_ticket_move_it(api, database):
    await api(
        {
            "id": "e1",
            "type": "created",
            "occurred_at": "2026-11-23T09:30:00+01:00",  # before e2, whatever the day of the run
            "ticket": {"key": "OPS-1", "summary": "Printer on fire"},
        }
    )

    _, body = await api(
        {
            "id": "e2",
            "type": "resolved",
            "occurred_at": "2026-11-23T10:00:00+01:00",
            "ticket": {"key": "OPS-1", "resolution": "Extinguished"},
        }
    )

    assert body["changes"] == ["resolved"]
    assert await count(database, "SELECT status FROM tickets WHERE key = 'OPS-1'") == "resolved"
    assert (
        await count(database, "SELECT resolution FROM tickets WHERE key = 'OPS-1'")
        == "Extinguished"
    )


async def test_an_internal_comment_stays_internal(api, database):
    await api({"id": "e1", "type": "created", "ticket": {"key": "OPS-2", "summary": "VPN slow"}})

    _, body = await api(
        {
            "id": "e2",
            "type": "commented",
            "ticket": {"key": "OPS-2"},
            "comment": {"body": "ISP ticket 123", "public": False},
        }
    )

    assert body["changes"] == ["internal_comment"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"type": "created", "ticket": {}}, "'id' is a required property"),
        ({"id": "x", "type": "exploded", "ticket": {}}, "type: 'exploded' is not one of"),
        (
            {"id": "x", "type": "updated", "ticket": {"summary": "no key"}},
            "ticket: 'key' is a required property",
        ),
        (
            {"id": "x", "type": "created", "ticket": {"key": "not a key"}},
            "ticket/key: 'not a key' does not match",
        ),
        (
            {"id": "x", "type": "created", "ticket": {"priority": "urgent"}},
            "ticket/priority: 'urgent' is not one of",
        ),
        (
            {"id": "x", "type": "commented", "ticket": {"key": "A-1"}},
            "'comment' is a required property",
        ),
        (
            {"id": "x", "type": "created", "ticket": {}, "colour": "red"},
            "Additional properties are not allowed ('colour'",
        ),
        (
            {"id": "x", "type": "created", "occurred_at": "yesterday", "ticket": {}},
            "is not an RFC 3339 date-time",
        ),
        (
            {"id": "x", "type": "created", "occurred_at": "2026-11-23T10:00:00", "ticket": {}},
            "has no time zone",
        ),
    ],
    ids=[
        "no-id",
        "bad-type",
        "no-key",
        "bad-key",
        "bad-priority",
        "comment-missing",
        "extra-field",
        "bad-time",
        "naive-time",
    ],
)
async def test_an_event_off_the_schema_is_400_naming_the_problem(api, database, body, says):
    status, answer = await api(body)

    assert status == 400
    assert says in answer["error"]
    assert await count(database, "SELECT count(*) FROM tickets") == 0
    assert await count(database, "SELECT count(*) FROM ticket_events") == 0


async def test_the_reporting_system_is_followed_even_out_of_a_final_status(api, database):
    status, _ = await api({"id": "e1", "type": "resolved", "ticket": {"key": "OPS-9"}})

    assert status == 200  # an unknown ticket is created from what the source says
    await api(
        {"id": "e2", "type": "status_changed", "ticket": {"key": "OPS-9", "status": "cancelled"}}
    )

    status, _ = await api(
        {"id": "e3", "type": "status_changed", "ticket": {"key": "OPS-9", "status": "in_progress"}}
    )

    assert status == 200
    assert await count(database, "SELECT status FROM tickets WHERE key = 'OPS-9'") == "in_progress"


@pytest.mark.parametrize("token", [None, "wrong"], ids=["missing", "wrong"])
async def test_without_the_token_the_answer_is_401(api, database, token):
    status, answer = await api(MONITORING_ALERT, token=token)

    assert (status, answer["error"]) == (401, "missing or wrong bearer token")
    assert await count(database, "SELECT count(*) FROM tickets") == 0


async def test_without_a_configured_token_the_api_is_off(bot):
    response = await bot.client.post(
        "/api/events", json=MONITORING_ALERT, headers={"Authorization": "Bearer "}
    )

    assert response.status == 503
    assert "ESMBOT_API_TOKEN" in (await response.json())["error"]


async def test_texts_longer_than_their_columns_are_cut_to_the_columns_sizes(database, organisation):
    # The API's schema keeps such texts out; the flow cuts whatever another source brings.
    from datetime import UTC, datetime

    from bot.tickets.events import EventKind, PersonRef, TicketEvent
    from bot.tickets.flows import apply_event
    from bot.tickets.models import Ticket
    from bot.tickets.models import TicketEvent as EventRow

    summary = Ticket.__table__.c.summary.type.length
    label = EventRow.__table__.c.actor_label.type.length
    unmatched = Ticket.__table__.c.reporter_unmatched.type.length
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    event = TicketEvent(
        kind=EventKind.CREATED, source="api", ticket_key="SR-1", dedupe_key="long-1",
        occurred_at=now, actor=PersonRef(name="a" * 3 * label),
        reporter=PersonRef(name="r" * 3 * unmatched), fields={"summary": "s" * 3 * summary},
    )  # fmt: skip

    async with database.transaction() as session:
        applied = await apply_event(session, event, organisation=organisation, now=now)

    assert applied.outcome == "applied"
    assert await count(database, "SELECT length(summary) FROM tickets") == summary
    assert await count(database, "SELECT length(reporter_unmatched) FROM tickets") == unmatched
    assert await count(database, "SELECT length(actor_label) FROM ticket_events") == label
