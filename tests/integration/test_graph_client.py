"""The Graph client, driven through msal itself against the sign-in and Graph doubles."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.graph.client import BatchItem, GraphClient, RetryPolicy
from bot.graph.tokens import MsalTokens, SignInError
from tests.doubles.graph import AUTHORITY_HOST, TENANT, GraphDouble, Route


@pytest.fixture
async def graph():
    double = GraphDouble()
    await double.start()
    for n in range(45):
        double.add_user(f"Person {n}", f"p{n}@esmos.example", object_id=f"id-{n}")
    yield double
    await double.close()


def graph_settings(double: GraphDouble, **changes) -> Settings:
    values = {
        "app_id": double.client_id,
        "app_password": double.client_secret,
        "app_tenant_id": TENANT,
        "graph": True,
        "graph_base_url": double.base_url,
        "authority_host": AUTHORITY_HOST,
        **changes,
    }
    return Settings(**values)


class Sleeps:
    """The waits the client asked for, taken at once: no test sleeps real seconds."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def client_of(double: GraphDouble, sleeps: Sleeps | None = None, **settings) -> GraphClient:
    tokens = MsalTokens(graph_settings(double, **settings), http_client=Route(double))
    return GraphClient(double.base_url, tokens, sleep=sleeps or Sleeps(), policy=RetryPolicy())


async def test_one_token_serves_many_calls(graph):
    client = client_of(graph)
    try:
        for n in range(10):
            answer = await client.call("GET", f"/users/p{n}@esmos.example")
            assert answer.status == 200 and answer.body["id"] == f"id-{n}"
    finally:
        await client.close()

    assert graph.tokens_issued == 1


async def test_a_refused_sign_in_says_why(graph):
    client = client_of(graph, app_password="wrong")
    try:
        with pytest.raises(SignInError, match=r"invalid_client.*AADSTS7000215"):
            await client.call("GET", "/users/id-1")
    finally:
        await client.close()
    assert graph.count("get_user") == 0


async def test_429_with_retry_after_2_is_waited_out(graph):
    sleeps = Sleeps()
    graph.fail("get_user", 429, retry_after=2)
    client = client_of(graph, sleeps)
    try:
        answer = await client.call("GET", "/users/id-3")
    finally:
        await client.close()

    assert answer.status == 200
    assert sleeps.seconds == [2.0]
    assert [call.status for call in graph.calls] == [429, 200]
    assert client.throttled == 1


async def test_503_without_retry_after_backs_off_and_gives_the_last_answer(graph):
    sleeps = Sleeps()
    graph.fail("get_user", 503, times=10)
    client = client_of(graph, sleeps)
    try:
        answer = await client.call("GET", "/users/id-3")
    finally:
        await client.close()

    assert answer.status == 503 and answer.error_code == "ServiceUnavailable"
    assert sleeps.seconds == [1.0, 2.0, 4.0, 8.0]  # five tries, doubling waits


async def test_403_and_404_are_answers_not_retried(graph):
    graph.granted.discard("User.Read.All")
    client = client_of(graph)
    try:
        refused = await client.call("GET", "/users/id-3")
        graph.granted.add("User.Read.All")
        missing = await client.call("GET", "/users/nobody@esmos.example")
    finally:
        await client.close()

    assert (refused.status, refused.error_code) == (403, "Forbidden")
    assert "User.Read.All" in refused.error_message
    assert (missing.status, missing.error_code) == (404, "Request_ResourceNotFound")
    assert len(graph.calls) == 2


async def test_a_batch_of_45_goes_in_three_requests_and_retries_a_throttled_item(graph):
    sleeps = Sleeps()
    graph.fail("get_user", 429, retry_after=3, user="p7@esmos.example")
    client = client_of(graph, sleeps)
    items = [BatchItem("GET", f"/users/p{n}@esmos.example") for n in range(45)]
    try:
        answers = await client.batch(items)
    finally:
        await client.close()

    assert [answer.body["id"] for answer in answers] == [f"id-{n}" for n in range(45)]
    assert sleeps.seconds == [3.0]
    batched = [call for call in graph.calls if call.batched]
    assert len(batched) == 46  # every item once, the throttled one twice
    assert client.throttled == 1
    assert graph.tokens_issued == 1


def test_a_sovereign_cloud_asks_for_its_own_graph_scope(graph):
    sovereign = graph_settings(graph, graph_base_url="https://graph.microsoft.us/v1.0")

    assert MsalTokens(sovereign).resource == "https://graph.microsoft.us"
