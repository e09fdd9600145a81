"""The Jira REST client against the Jira double over real HTTP: shapes, errors and safe retries."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.errors import ConfigError
from bot.events.jira_client import (
    CreatedIssue,
    JiraClient,
    JiraError,
    JiraUser,
    module_from_labels,
    to_adf,
)
from tests.doubles.jira import JiraDouble

KIM = "712020:kim"
PAT = "712020:pat"


@pytest.fixture
async def jira() -> AsyncIterator[JiraDouble]:
    double = JiraDouble()
    await double.start()
    double.add_user(KIM, "Kim Keyuser", email="kim@esmos.example")
    double.add_user(PAT, "Pat Private")  # hides the e-mail address
    yield double
    await double.close()


@pytest.fixture
def waits() -> list[float]:
    """The pauses the client asked for, instead of taking them."""
    return []


@pytest.fixture
async def connect(jira: JiraDouble, waits: list[float]) -> AsyncIterator[Callable[..., JiraClient]]:
    clients: list[JiraClient] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    def make(**options: Any) -> JiraClient:
        options.setdefault("sleep", record)
        client = JiraClient(
            options.pop("base_url", jira.url),
            options.pop("email", jira.email),
            options.pop("api_token", jira.api_token),
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
def client(connect: Callable[..., JiraClient]) -> JiraClient:
    return connect()


async def create(client: JiraClient, **fields: Any) -> CreatedIssue:
    values: dict[str, Any] = {
        "project_key": "SR",
        "summary": "Checkout fails",
        "description": "The pay button does nothing.",
        "issue_type": "Incident",
    }
    return await client.create_issue(**(values | fields))


async def test_create_issue_sends_jira_shapes(client, jira):
    created = await create(
        client,
        description="First paragraph\nsecond line\n\n\nSecond paragraph",
        priority="High",
        labels=("vip",),
        reporter_account_id=KIM,
        module="Checkout Payment",
    )

    assert created == CreatedIssue(key="SR-1", id=jira.issues["SR-1"]["id"])
    issue = jira.issues["SR-1"]
    assert issue["description"] == {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "First paragraph"},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "second line"},
                ],
            },
            {"type": "paragraph", "content": [{"type": "text", "text": "Second paragraph"}]},
        ],
    }
    assert (issue["priority"], issue["reporter"], issue["issuetype"]) == ("High", KIM, "Incident")
    assert issue["labels"] == ["vip", "module:Checkout_Payment"]
    assert module_from_labels(issue["labels"]) == "Checkout Payment"
    call = jira.calls_to("create_issue")[0]
    assert call.headers["Accept"] == "application/json"
    assert call.body["fields"]["reporter"] == {"id": KIM}


async def test_a_summary_is_made_acceptable_to_jira(client, jira):
    await create(client, summary="Line one\nline two " + "x" * 300)

    summary = jira.issues["SR-1"]["summary"]
    assert summary.startswith("Line one line two x") and len(summary) == 255


async def test_a_bad_field_is_named_in_the_error(client, jira):
    with pytest.raises(JiraError) as raised:
        await create(client, priority="Urgent")

    error = raised.value
    assert (
        str(error)
        == "Jira rejected creating the issue (400): priority: The priority selected is invalid."
    )
    assert (error.status, error.retryable) == (400, False)
    assert jira.issues == {}


async def test_public_and_internal_comments(client, jira):
    key = jira.add_issue()

    public = await client.add_comment(key, "We are on it.", internal=False)
    internal = await client.add_comment(key, "Vendor ticket V-7.\n\nAsk Alex.", internal=True)

    comments = jira.issues[key]["comments"]
    assert [c["id"] for c in comments] == [public, internal]
    assert [c["internal"] for c in comments] == [False, True]
    first, second = jira.calls_to("add_comment")
    assert "properties" not in first.body
    assert second.body["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]
    assert len(second.body["body"]["content"]) == 2


async def test_transition_by_status_or_transition_name_ignoring_case(client, jira):
    key = jira.add_issue()

    await client.transition(key, "in progress")
    assert jira.issues[key]["status"] == "In Progress"
    await client.transition(key, "RESOLVE")
    assert jira.issues[key]["status"] == "Resolved"
    assert [c.body for c in jira.calls_to("transition")] == [
        {"transition": {"id": "21"}},
        {"transition": {"id": "51"}},
    ]


async def test_an_unreachable_status_lists_the_choices(client, jira):
    key = jira.add_issue(status="Resolved")

    with pytest.raises(JiraError) as raised:
        await client.transition(key, "Waiting for vendor")

    assert str(raised.value) == (
        "SR-1 cannot move to 'Waiting for vendor' in Jira; from its current status it can move "
        "to: Closed, In Progress"
    )
    assert jira.calls_to("transition") == []


async def test_assign_and_unassign(client, jira):
    key = jira.add_issue()

    await client.assign(key, KIM)
    assert jira.issues[key]["assignee"] == KIM
    await client.assign(key, None)
    assert jira.issues[key]["assignee"] is None
    assert jira.calls_to("assign")[-1].body == {"accountId": None}


async def test_assigning_an_unknown_account_says_why(client, jira):
    key = jira.add_issue()

    with pytest.raises(JiraError, match="cannot be assigned issues") as raised:
        await client.assign(key, "712020:ghost")
    assert raised.value.status == 400


async def test_set_priority(client, jira):
    key = jira.add_issue()

    await client.set_priority(key, "Highest")

    assert jira.issues[key]["priority"] == "Highest"
    assert jira.calls_to("edit_issue")[0].body == {"fields": {"priority": {"name": "Highest"}}}


async def test_get_user_with_and_without_an_email(client):
    assert await client.get_user(KIM) == JiraUser(KIM, "Kim Keyuser", "kim@esmos.example", True)
    assert await client.get_user(PAT) == JiraUser(PAT, "Pat Private", None, True)


async def test_bad_credentials_get_a_clear_message(connect, jira):
    client = connect(api_token="expired")

    with pytest.raises(JiraError) as raised:
        await create(client)

    assert str(raised.value) == (
        "Jira refused the credentials (401): check JIRA_USER_EMAIL and JIRA_API_TOKEN"
    )
    assert (raised.value.status, raised.value.retryable) == (401, False)
    assert len(jira.calls) == 1


async def test_unknown_issue_and_user_get_a_clear_message(client):
    with pytest.raises(JiraError) as raised:
        await client.add_comment("SR-9", "Hello", internal=False)
    assert str(raised.value) == "SR-9 does not exist in Jira (404)"
    with pytest.raises(JiraError, match=r"^SR-9 does not exist in Jira \(404\)$"):
        await client.transition("SR-9", "Resolved")
    with pytest.raises(JiraError, match=r"^the Jira user 712020:ghost does not exist \(404\)$"):
        await client.get_user("712020:ghost")


async def test_a_wrong_base_url_is_not_mistaken_for_a_missing_issue(connect, jira):
    client = connect(base_url=jira.url + "/wiki")

    with pytest.raises(JiraError, match="check JIRA_BASE_URL"):
        await client.assign("SR-1", KIM)


async def test_429_on_create_waits_as_told_then_creates_once(client, jira, waits):
    jira.fail(429, retry_after=7, operation="create_issue")

    created = await create(client)

    assert created.key == "SR-1"
    assert list(jira.issues) == ["SR-1"]
    assert [c.status for c in jira.calls_to("create_issue")] == [429, 201]
    assert waits == [7.0]


async def test_retry_after_is_capped(client, jira, waits):
    jira.fail(429, retry_after=3600, operation="get_user")

    await client.get_user(KIM)

    assert waits == [30.0]


async def test_an_idempotent_call_outlasts_five_503s_within_its_attempts(connect, jira, waits):
    client = connect(max_attempts=6, backoff=0.5, max_backoff=4.0)
    jira.fail(503, times=5, operation="get_user")

    user = await client.get_user(KIM)

    assert user.display_name == "Kim Keyuser"
    assert len(jira.calls_to("get_user")) == 6
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))


async def test_an_idempotent_call_gives_up_after_its_attempts(client, jira, waits):
    jira.fail(503, times=5, operation="get_user")

    with pytest.raises(JiraError) as raised:
        await client.get_user(KIM)

    error = raised.value
    assert str(error) == (
        f"Jira is overloaded (503 while looking up the Jira user {KIM}); tried 4 times"
    )
    assert (error.status, error.retryable, error.attempts) == (503, True, 4)
    assert len(jira.calls_to("get_user")) == 4
    assert len(waits) == 3


async def test_a_put_is_repeated_after_a_500(client, jira):
    key = jira.add_issue()
    jira.fail(500, operation="assign")

    await client.assign(key, KIM)

    assert jira.issues[key]["assignee"] == KIM
    assert [c.status for c in jira.calls_to("assign")] == [500, 204]


async def test_500_on_create_is_not_repeated(client, jira, waits):
    jira.fail(500, operation="create_issue")

    with pytest.raises(JiraError) as raised:
        await create(client)

    assert str(raised.value) == (
        "Jira answered 500 while creating the issue; it may or may not exist — nothing was stored"
    )
    assert (raised.value.status, raised.value.retryable) == (500, False)
    assert len(jira.calls_to("create_issue")) == 1
    assert waits == []


async def test_a_create_that_went_through_despite_a_500_is_not_duplicated(client, jira):
    jira.fail(500, operation="create_issue", apply_first=True)

    with pytest.raises(JiraError, match="may or may not exist"):
        await create(client)

    assert list(jira.issues) == ["SR-1"]
    assert len(jira.calls_to("create_issue")) == 1


async def test_503_on_a_comment_is_not_repeated(client, jira):
    key = jira.add_issue()
    jira.fail(503, operation="add_comment", apply_first=True)

    with pytest.raises(JiraError, match="the comment may or may not have been added") as raised:
        await client.add_comment(key, "Hello", internal=False)

    assert raised.value.retryable is False
    assert len(jira.issues[key]["comments"]) == 1
    assert len(jira.calls_to("add_comment")) == 1


async def test_a_transition_whose_answer_was_lost_is_recognised_as_done(client, jira):
    key = jira.add_issue()
    jira.fail(504, operation="transition", apply_first=True)

    await client.transition(key, "Resolved")

    assert jira.issues[key]["status"] == "Resolved"
    assert [c.status for c in jira.calls_to("transition")] == [504, 400]
    assert jira.calls_to("get_issue")[0].query == {"fields": "status"}


async def test_a_create_that_outlasts_the_timeout_is_not_repeated(connect, jira, waits):
    client = connect(timeout=0.2)
    jira.stall(0.5, operation="create_issue")

    with pytest.raises(JiraError) as raised:
        await create(client)

    assert str(raised.value) == (
        "Jira did not answer within 0.2 s while creating the issue; it may or may not exist "
        "— nothing was stored"
    )
    assert raised.value.retryable is False
    assert waits == []
    # Jira did create it in the end: a repeat would have made a second one.
    await jira.wait_until(lambda: len(jira.calls_to("create_issue")) == 1)
    assert list(jira.issues) == ["SR-1"]


async def test_a_read_that_outlasts_the_timeout_is_repeated(connect, jira, waits):
    client = connect(timeout=0.2)
    jira.stall(5, operation="get_user")

    assert (await client.get_user(PAT)).email is None
    assert len(waits) == 1


async def test_an_unreachable_jira_is_retried_even_for_a_create(connect, waits):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = connect(base_url=f"http://127.0.0.1:{port}")

    with pytest.raises(JiraError) as raised:
        await create(client)

    assert str(raised.value) == (
        f"Jira at 127.0.0.1:{port} could not be reached while creating the issue; tried 4 times"
    )
    assert raised.value.retryable is True
    assert len(waits) == 3


async def test_a_session_passed_in_stays_open(jira):
    async with aiohttp.ClientSession() as session:
        async with JiraClient(jira.url, jira.email, jira.api_token, session=session) as client:
            await client.get_user(KIM)
        assert not session.closed
        await asyncio.sleep(0)


def test_plain_text_becomes_adf_without_empty_text_nodes():
    assert to_adf("  \n\n ") == {"type": "doc", "version": 1, "content": []}
    assert to_adf("a\r\n\r\nb")["content"] == [
        {"type": "paragraph", "content": [{"type": "text", "text": "a"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "b"}]},
    ]


async def test_from_settings_needs_the_jira_settings(jira):
    with pytest.raises(ConfigError, match="JIRA_API_TOKEN"):
        JiraClient.from_settings(Settings(jira_base_url=jira.url))
    settings = Settings(
        jira_base_url=jira.url, jira_user_email=jira.email, jira_api_token=jira.api_token
    )
    async with JiraClient.from_settings(settings) as client:
        assert (await client.get_user(KIM)).email == "kim@esmos.example"
