"""`python -m bot graph check` against the sign-in and Graph doubles, through msal."""

from __future__ import annotations

import dataclasses

import pytest

from bot.config import Settings
from bot.graph.check import run_check
from bot.graph.wiring import GraphParts
from tests.doubles.graph import AUTHORITY_HOST, TENANT, GraphDouble, Route


@pytest.fixture
async def graph():
    double = GraphDouble()
    await double.start()
    double.add_user(
        "Alex Agent", "alex@esmos.example", object_id="a1ex0000-0000-4000-8000-000000000001"
    )
    yield double
    await double.close()


def settings_for(double: GraphDouble) -> Settings:
    return Settings(
        graph=True,
        graph_client_id=double.client_id,
        graph_client_secret=double.client_secret,
        graph_tenant_id=TENANT,
        graph_base_url=double.base_url,
        authority_host=AUTHORITY_HOST,
    )


async def check(double: GraphDouble, settings: Settings | None = None) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = await run_check(
        settings or settings_for(double), parts=GraphParts(http_client=Route(double)),
        say=lines.append,
    )  # fmt: skip
    return code, lines


def state_of(lines: list[str], permission: str) -> str:
    (line,) = [line for line in lines if line.startswith(permission + " ")]
    return line[len(permission) :].strip().split("  ")[0]


async def test_every_permission_granted(graph):
    code, lines = await check(graph)

    assert code == 0
    for permission in (
        "User.Read.All", "TeamsAppInstallation.ReadWriteSelfForUser.All",
        "AppCatalog.Read.All", "MailboxSettings.Read",
    ):  # fmt: skip
        assert state_of(lines, permission) == "granted"
    assert not any("adminconsent" in line for line in lines)


async def test_a_missing_permission_is_named_with_the_consent_link(graph):
    graph.granted -= {"TeamsAppInstallation.ReadWriteSelfForUser.All", "MailboxSettings.Read"}

    code, lines = await check(graph)

    assert code == 1
    assert state_of(lines, "TeamsAppInstallation.ReadWriteSelfForUser.All") == "missing"
    assert state_of(lines, "MailboxSettings.Read") == "missing"
    assert state_of(lines, "User.Read.All") == "granted"
    link = f"{AUTHORITY_HOST}/{TENANT}/adminconsent?client_id={graph.client_id}"
    assert any(line.endswith(link) for line in lines)


async def test_only_the_optional_permission_missing_still_passes(graph):
    graph.granted.discard("MailboxSettings.Read")

    code, lines = await check(graph)

    assert code == 0
    assert state_of(lines, "MailboxSettings.Read") == "missing"


async def test_a_refused_sign_in_is_said_plainly(graph):
    wrong = dataclasses.replace(settings_for(graph), graph_client_secret="wrong")

    code, lines = await check(graph, wrong)

    assert code == 2
    assert lines[0].startswith("sign-in failed:") and "AADSTS7000215" in lines[0]
