"""Jira webhooks over real HTTP: each drives the right ticket change and audit line, exactly once."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import create_app
from bot.directory.models import Person
from bot.tickets.service import ticket_by_key
from tests import jira_payloads as jp
from tests.conftest import SHARED

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LENA = jp.user("Lena Learner", account_id="5f1a0000000000000000aaaa")
LENA_LEGACY = jp.user(
    "Lena Learner",
    account_id="5f1a0000000000000000aaaa",
    email="lena.learner@esmos.example",
    legacy=True,
)
ALEX = jp.user("Alex Agent", account_id="5f1a0000000000000000bbbb")


async def remember(bot, **fields) -> int:
    async with bot.database.transaction() as session:
        person = Person(**fields)
        session.add(person)
        await session.flush()
        return person.id


async def post(bot, payload, **headers):
    response = await bot.client.post("/api/events/jira", json=payload, headers=headers)
    return response.status, await response.json()


async def ticket(bot, key, column):
    return await bot.scalar(f"SELECT {column} FROM tickets WHERE key = :k", k=key)


async def test_issue_created_opens_the_ticket_and_writes_one_audit_line(bot):
    await remember(
        bot,
        name="Lena Learner",
        email="lena.learner@esmos.example",
        jira_account_id=LENA["accountId"],
    )

    status, body = await post(
        bot, jp.created(jp.issue("SR-2", reporter=LENA, priority="Medium"), at=T0)
    )

    assert (status, body["outcome"], body["ticket"]) == (200, "applied", "SR-2")
    assert body["changes"] == ["created"]
    assert await ticket(bot, "SR-2", "status") == "new"
    assert await ticket(bot, "SR-2", "priority") == "P3"
    assert await ticket(bot, "SR-2", "module") == "Checkout"
    assert await ticket(bot, "SR-2", "description") == "The payment step shows error 500."
    assert (
        await bot.scalar("SELECT p.email FROM tickets t JOIN people p ON p.id = t.reporter_id")
        == "lena.learner@esmos.example"
    )
    assert (
        await bot.scalar(
            "SELECT count(*) FROM ticket_events WHERE ticket_key = 'SR-2' AND kind = 'created'"
        )
        == 1
    )
    # Created in Jira at 09:00 Berlin (08:00 UTC); P3 promises a first response within 48 h.
    async with bot.database.transaction() as session:
        stored = await ticket_by_key(session, key="SR-2")
    assert stored.first_response_due == T0 + timedelta(hours=48)
    assert stored.created_at == T0


async def test_an_older_payload_is_matched_by_email_and_teaches_the_account_id(bot):
    await remember(bot, name="Lena Learner", email="lena.learner@esmos.example")

    await post(bot, jp.created(jp.issue("SR-3", reporter=LENA_LEGACY), at=T0))

    assert await bot.scalar("SELECT jira_account_id FROM people") == LENA["accountId"]
    assert await ticket(bot, "SR-3", "reporter_unmatched") is None


async def test_an_unmatched_reporter_is_recorded_not_dropped(bot):
    status, _ = await post(bot, jp.created(jp.issue("SR-4", reporter=LENA), at=T0))

    assert status == 200
    assert await ticket(bot, "SR-4", "reporter_id") is None
    assert await ticket(bot, "SR-4", "reporter_unmatched") == LENA["accountId"]
    assert (
        await bot.scalar("SELECT count(*) FROM tickets WHERE reporter_unmatched IS NOT NULL") == 1
    )


async def test_the_account_table_in_esmbot_toml_fills_a_hidden_email(
    aiohttp_client, settings, organisation, database, connector
):
    mapping = dataclasses.replace(
        organisation.jira, accounts={LENA["accountId"]: "lena.learner@esmos.example"}
    )
    client = await aiohttp_client(
        create_app(settings, dataclasses.replace(organisation, jira=mapping))
    )
    async with database.transaction() as session:
        session.add(Person(name="Lena", email="lena.learner@esmos.example"))

    await client.post("/api/events/jira", json=jp.created(jp.issue("SR-5", reporter=LENA), at=T0))

    async with database.transaction() as session:
        from sqlalchemy import text

        assert (
            await session.execute(text("SELECT reporter_unmatched FROM tickets"))
        ).scalar() is None
        assert (await session.execute(text("SELECT jira_account_id FROM people"))).scalar() == LENA[
            "accountId"
        ]


async def test_a_replayed_delivery_changes_nothing(bot):
    payload = jp.created(jp.issue("SR-6", reporter=LENA), at=T0)
    await post(bot, payload)
    moved = jp.moved(
        jp.issue("SR-6", reporter=LENA), "To Do", "In Progress", at=T0 + timedelta(hours=1)
    )
    first = await post(bot, moved, **{"X-Atlassian-Webhook-Identifier": "delivery-1"})

    again = await post(
        bot,
        moved,
        **{"X-Atlassian-Webhook-Identifier": "delivery-1", "X-Atlassian-Webhook-Retry": "1"},
    )

    assert first[1]["outcome"] == "applied" and first[1]["changes"] == ["acknowledged"]
    assert again == (200, {"outcome": "duplicate", "ticket": "SR-6", "changes": []})
    assert await bot.scalar("SELECT count(*) FROM ticket_events WHERE ticket_key = 'SR-6'") == 2
    assert await ticket(bot, "SR-6", "status") == "in_progress"
    assert await ticket(bot, "SR-6", "first_response_at") is not None


async def test_a_reordered_pair_ends_in_the_newer_state(bot):
    base = jp.issue("SR-7", reporter=LENA)
    await post(bot, jp.created(base, at=T0))
    in_progress = jp.moved(base, "To Do", "In Progress", at=T0 + timedelta(hours=1))
    resolved = jp.moved(base, "In Progress", "Resolved", at=T0 + timedelta(hours=2))

    newer = await post(bot, resolved)
    older = await post(bot, in_progress)

    assert newer[1]["outcome"] == "applied"
    assert older[1]["outcome"] == "stale"
    assert await ticket(bot, "SR-7", "status") == "resolved"
    assert await bot.scalar("SELECT count(*) FROM ticket_events WHERE ticket_key = 'SR-7'") == 3


async def test_a_jump_the_table_takes_in_two_steps_is_followed_and_counted(bot):
    base = jp.issue("SR-8", reporter=LENA)
    await post(bot, jp.created(base, at=T0))
    await post(bot, jp.moved(base, "To Do", "Closed", at=T0 + timedelta(hours=1)))

    _, body = await post(bot, jp.moved(base, "Closed", "In Progress", at=T0 + timedelta(hours=2)))

    assert body["changes"] == ["status_changed"]
    assert await ticket(bot, "SR-8", "status") == "in_progress"
    assert await ticket(bot, "SR-8", "reopen_count") == 1


async def test_an_internal_comment_is_marked_internal_and_meant_for_agents_only(bot):
    base = jp.issue("SR-9", reporter=LENA)
    await post(bot, jp.created(base, at=T0))

    _, body = await post(
        bot,
        jp.comment(
            base,
            "Customer is on the old plugin",
            at=T0 + timedelta(minutes=5),
            author=ALEX,
            public=False,
        ),
    )

    assert body["changes"] == ["internal_comment"]
    payload = await bot.scalar("SELECT payload FROM ticket_events WHERE kind = 'commented'")
    payload = payload if isinstance(payload, dict) else json.loads(payload)
    assert payload["comment"]["public"] is False
    assert payload["notify"] == [{"audience": "agents", "template": "agents/internal_note"}]


async def test_a_public_comment_is_meant_for_the_customer(bot):
    base = jp.issue("SR-10", reporter=LENA)
    await post(bot, jp.created(base, at=T0))

    _, body = await post(
        bot,
        jp.comment(base, "Could you send a screenshot?", at=T0 + timedelta(minutes=5), author=ALEX),
    )

    assert body["changes"] == ["public_comment"]
    payload = await bot.scalar("SELECT payload FROM ticket_events WHERE kind = 'commented'")
    payload = payload if isinstance(payload, dict) else json.loads(payload)
    assert payload["notify"] == [{"audience": "customer", "template": "customer/agent_reply"}]


async def comment_rows(bot, key):
    return await bot.scalar(
        "SELECT count(*) FROM ticket_events WHERE ticket_key = :k AND kind = 'commented'", k=key
    )


async def test_a_comment_in_a_server_issue_event_is_a_comment_public_or_internal(bot):
    base = jp.issue("SR-20", reporter=LENA)
    await post(bot, jp.created(base, at=T0))

    _, public = await post(
        bot, jp.commented_on_server(base, "Please restart", at=T0 + timedelta(minutes=5),
                                    author=ALEX, comment_id="30001"),
    )  # fmt: skip
    _, internal = await post(
        bot, jp.commented_on_server(base, "Old plugin", at=T0 + timedelta(minutes=6),
                                    author=ALEX, public=False, comment_id="30002"),
    )  # fmt: skip

    assert (public["outcome"], public["changes"]) == ("applied", ["public_comment"])
    assert (internal["outcome"], internal["changes"]) == ("applied", ["internal_comment"])
    assert await comment_rows(bot, "SR-20") == 2
    async with bot.database.transaction() as session:
        from sqlalchemy import text

        told = (
            await session.execute(
                text("SELECT payload FROM ticket_events WHERE kind = 'commented' ORDER BY id")
            )
        ).scalars()
        told = [p if isinstance(p, dict) else json.loads(p) for p in told]
    assert [p["notify"] for p in told] == [
        [{"audience": "customer", "template": "customer/agent_reply"}],
        [{"audience": "agents", "template": "agents/internal_note"}],
    ]


@pytest.mark.parametrize("server_first", [False, True], ids=["cloud-first", "server-first"])
async def test_one_comment_reported_both_ways_counts_once(bot, server_first):
    base = jp.issue("SR-21", reporter=LENA)
    await post(bot, jp.created(base, at=T0))
    at = T0 + timedelta(minutes=5)
    both = [
        jp.comment(base, "Please restart", at=at, author=ALEX, comment_id="30003"),
        jp.commented_on_server(base, "Please restart", at=at, author=ALEX, comment_id="30003"),
    ]

    first = await post(bot, both[server_first])
    second = await post(bot, both[not server_first])

    assert first[1]["changes"] == ["public_comment"]
    assert (second[1]["outcome"], second[1]["changes"]) == ("duplicate", [])
    assert await comment_rows(bot, "SR-21") == 1


async def test_a_transition_made_with_a_comment_is_both_and_each_once(bot):
    base = jp.issue("SR-22", reporter=LENA, status="In Progress")
    await post(bot, jp.created(base, at=T0))
    resolved = jp.moved(base, "In Progress", "Resolved", at=T0 + timedelta(hours=1))
    payload = jp.commented_on_server(
        resolved["issue"], "Fixed in 4.0.2", at=T0 + timedelta(hours=1), author=ALEX,
        comment_id="30004", what="issue_resolved", items=resolved["changelog"]["items"],
    )  # fmt: skip

    _, body = await post(bot, payload)
    replay = await post(bot, payload)
    cloud = await post(
        bot, jp.comment(base, "Fixed in 4.0.2", at=T0 + timedelta(hours=1), author=ALEX,
                        comment_id="30004"),
    )  # fmt: skip

    assert (body["outcome"], body["changes"]) == ("applied", ["resolved", "public_comment"])
    assert replay[1]["outcome"] == cloud[1]["outcome"] == "duplicate"
    assert await ticket(bot, "SR-22", "status") == "resolved"
    assert await comment_rows(bot, "SR-22") == 1


async def test_an_edited_comment_in_a_server_issue_event_tells_nobody_again(bot):
    base = jp.issue("SR-23", reporter=LENA)
    await post(bot, jp.created(base, at=T0))
    await post(
        bot, jp.commented_on_server(base, "Please restart", at=T0 + timedelta(minutes=5),
                                    author=ALEX, comment_id="30005"),
    )  # fmt: skip

    _, body = await post(
        bot, jp.commented_on_server(base, "Please restart it", at=T0 + timedelta(minutes=7),
                                    author=ALEX, comment_id="30005", what="issue_comment_edited"),
    )  # fmt: skip

    assert (body["outcome"], body["changes"]) == ("applied", [])
    assert await comment_rows(bot, "SR-23") == 1


async def test_deleting_an_issue_cancels_the_ticket(bot):
    base = jp.issue("SR-11", reporter=LENA)
    await post(bot, jp.created(base, at=T0))
    deleted = {**jp.created(base, at=T0 + timedelta(hours=1)), "webhookEvent": "jira:issue_deleted"}

    _, body = await post(bot, deleted)

    assert body["changes"] == ["deleted"]
    assert await ticket(bot, "SR-11", "status") == "cancelled"


@pytest.mark.parametrize(
    ("payload", "status", "says"),
    [
        (b"{nope", 400, "not valid JSON"),
        (b"[]", 400, "JSON object is expected"),
        (b'{"hello": "world"}', 400, "'webhookEvent' is missing"),
        (b'{"webhookEvent": "jira:issue_created"}', 400, "without an 'issue' object"),
        (
            b'{"webhookEvent": "jira:issue_created", "issue": {"id": "1"}}',
            400,
            "without an issue key",
        ),
        (
            b'{"webhookEvent": "comment_created", "issue": {"key": "SR-1"}}',
            400,
            "without a 'comment' object",
        ),
    ],
    ids=[
        "invalid-json",
        "not-an-object",
        "not-jira",
        "no-issue",
        "no-key",
        "comment-without-comment",
    ],
)
async def test_bad_input_is_a_4xx_that_says_why_and_stores_nothing(bot, payload, status, says):
    response = await bot.client.post(
        "/api/events/jira", data=payload, headers={"Content-Type": "application/json"}
    )

    assert response.status == status
    assert says in (await response.json())["error"]
    assert await bot.scalar("SELECT count(*) FROM ticket_events") == 0


async def test_an_unknown_event_type_is_ignored_with_200(bot):
    status, body = await post(
        bot, {"webhookEvent": "jira:version_released", "version": {"id": "1"}}
    )

    assert (status, body["outcome"]) == (200, "ignored")
    assert await bot.scalar("SELECT count(*) FROM ticket_events") == 0


async def test_an_oversized_body_is_413(bot):
    payload = jp.created(jp.issue("SR-12", reporter=LENA, description="x" * (1024 * 1024)), at=T0)

    response = await bot.client.post(
        "/api/events/jira",
        data=io.BytesIO(json.dumps(payload).encode()),
        headers={"Content-Type": "application/json"},
    )

    assert response.status == 413
    assert await bot.scalar("SELECT count(*) FROM tickets") == 0


@pytest.fixture
async def signed(aiohttp_client, settings, organisation, database, connector):
    secured = dataclasses.replace(settings, jira_webhook_secret="s3cret")
    return await aiohttp_client(create_app(secured, organisation))


def _sign(raw: bytes, secret: str = "s3cret") -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=00", "sha1=abc", "WRONG"],
    ids=["missing", "wrong", "other-algorithm", "garbage"],
)
async def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(signed, database, signature):
    raw = json.dumps(jp.created(jp.issue("SR-13", reporter=LENA), at=T0)).encode()
    headers = {
        "Content-Type": "application/json",
        **({"X-Hub-Signature": signature} if signature else {}),
    }

    response = await signed.post("/api/events/jira", data=raw, headers=headers)

    assert response.status == 401
    async with database.transaction() as session:
        from sqlalchemy import text

        assert (await session.execute(text("SELECT count(*) FROM tickets"))).scalar() == 0


async def test_a_correct_signature_is_accepted(signed):
    raw = json.dumps(jp.created(jp.issue("SR-14", reporter=LENA), at=T0)).encode()

    response = await signed.post(
        "/api/events/jira",
        data=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature": _sign(raw)},
    )

    assert response.status == 200
    assert (await response.json())["outcome"] == "applied"


SHARED_JIRA = SHARED / "jira"
EXPECTED = {
    "comment_created__cloud.json": ("TES-41", "new", ["created", "public_comment"]),
    "jira_issue_created__cloud_many_custom_fields.json": ("KT-22", "new", ["created"]),
    "jira_issue_updated__assigned.json": ("TES-41", "new", ["created"]),
    "jira_issue_updated__resolved_status_inprogress_to_done.json": (
        "TES-41",
        "resolved",
        ["created", "resolved"],
    ),
    "jira_issue_updated__status_todo_to_inprogress.json": (
        "TES-41",
        "in_progress",
        ["created", "acknowledged"],
    ),
}


@pytest.mark.skipif(
    not SHARED_JIRA.is_dir(), reason="the captured Jira payloads (../shared/jira) are not here"
)
@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_each_captured_jira_payload_drives_the_expected_change(bot, name):
    payload = json.loads((SHARED_JIRA / name).read_text())
    key, status_after, changes = EXPECTED[name]

    status, body = await post(bot, payload)
    replay = await post(bot, payload)

    assert (status, body["ticket"], body["changes"]) == (200, key, changes)
    assert await ticket(bot, key, "status") == status_after
    assert await bot.scalar("SELECT count(*) FROM ticket_events WHERE ticket_key = :k", k=key) == 1
    assert replay[1]["outcome"] == "duplicate"


@pytest.mark.skipif(
    not SHARED_JIRA.is_dir(), reason="the captured Jira payloads (../shared/jira) are not here"
)
def test_every_captured_payload_has_an_expectation():
    assert sorted(p.name for p in SHARED_JIRA.glob("*.json")) == sorted(EXPECTED)
