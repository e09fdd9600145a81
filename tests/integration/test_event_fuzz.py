"""Random JSON thrown at both event endpoints never causes a 500 and never a half-written ticket."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.app import create_app
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
        st.one_of(json_values, jira_like, generic_like),
        st.sampled_from(["/api/events/jira", "/api/events"]),
    )
    def collect(body, path):
        collected.append((path, json.dumps(body).encode()))

    collect()
    statuses = _run(scenario(collected))

    assert len(statuses) == len(collected) >= 150
    assert all(status < 500 for status in statuses), sorted(set(statuses))
    assert set(statuses) <= {200, 400, 422}
