"""Random JSON thrown at the JSON endpoints never causes a 500 and never a half-written ticket."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.web.nesting import MAX_DEPTH
from tests import jira_payloads as jp
from tests.conftest import _run

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
# Mostly-right payloads reach deeper than pure noise: a real event with one part replaced.
REAL = jp.created(
    jp.issue("SR-1", reporter=jp.user("Lena", account_id="acc-1")),
    at=jp.datetime(2026, 11, 23, tzinfo=jp.datetime.now().astimezone().tzinfo),
)
jira_like = st.builds(
    lambda key, value, inner: {**REAL, key: value, "issue": {**REAL["issue"], inner: value}},
    st.sampled_from(["webhookEvent", "timestamp", "user", "changelog", "comment"]),
    json_values,
    st.sampled_from(["key", "id", "fields"]),
)
generic_like = st.fixed_dictionaries(
    {
        "id": st.text(max_size=10),
        "type": st.sampled_from(["created", "updated", "commented", "resolved", "x"]),
        "ticket": json_values,
    },
    optional={"occurred_at": json_values, "comment": json_values, "actor": json_values},
)

ENDPOINTS = ["/api/events/jira", "/api/events", "/api/messages"]


def _nested(depth: int, opener: str, inside: object) -> bytes:
    # Built as text: json.dumps itself recurses and could not write the deepest of these.
    head, tail = ("[", "]") if opener == "[" else ('{"a": ', "}")
    return (head * depth + json.dumps(inside) + tail * depth).encode()


nested = st.builds(
    _nested,
    st.one_of(st.integers(0, 2 * MAX_DEPTH), st.integers(MAX_DEPTH, 100_000)),
    st.sampled_from(["[", "{"]),
    st.one_of(json_values, st.just(REAL)),
)


def test_random_json_never_gets_a_500(aiohttp_client, settings, organisation, database):
    # One server for all examples: hypothesis drives many requests against it on its own loop.
    async def scenario(bodies: list[tuple[str, bytes]]) -> list[int]:
        from aiohttp.test_utils import TestClient, TestServer

        app = create_app(dataclasses.replace(settings, api_token="tok"), organisation)
        async with TestClient(TestServer(app)) as client:
            statuses = []
            for path, raw in bodies:
                response = await client.post(
                    path,
                    data=raw,
                    headers={"Content-Type": "application/json", "Authorization": "Bearer tok"},
                )
                statuses.append(response.status)
            return statuses

    collected: list[tuple[str, bytes]] = []

    @hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.one_of(
            st.one_of(json_values, jira_like, generic_like).map(lambda b: json.dumps(b).encode()),
            nested,
        ),
        st.sampled_from(ENDPOINTS),
    )
    def collect(raw, path):
        collected.append((path, raw))

    collect()
    statuses = _run(scenario(collected))

    assert len(statuses) == len(collected) >= 150
    assert all(status < 500 for status in statuses), sorted(set(statuses))
    assert set(statuses) <= {200, 201, 400, 422}


async def test_json_nested_deeper_than_the_limit_is_a_400_that_says_so(
    aiohttp_client, settings, organisation, database
):
    app = create_app(dataclasses.replace(settings, api_token="tok"), organisation, schedule=False)
    client = await aiohttp_client(app)
    # 100,000 levels fit in 200 KB, well under the body limit; the parser alone would recurse.
    for path in ENDPOINTS:
        response = await client.post(
            path,
            data=_nested(100_000, "[", None),
            headers={"Content-Type": "application/json", "Authorization": "Bearer tok"},
        )

        assert response.status == 400, path
        assert f"deeper than {MAX_DEPTH} levels" in (await response.json())["error"]


async def test_json_at_the_limit_is_read_and_a_bracket_inside_a_string_does_not_count(bot):
    deep = _nested(MAX_DEPTH - 1, "{", "[[[[" * MAX_DEPTH)

    response = await bot.client.post(
        "/api/events/jira", data=deep, headers={"Content-Type": "application/json"}
    )

    assert response.status == 400
    assert "'webhookEvent' is missing" in (await response.json())["error"]
