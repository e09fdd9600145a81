"""The dashboard tab: single sign-on checked against Azure AD's keys (a double here), each viewer
shown what their role allows, and the manager's figures equal to the JSON report's."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.app import create_app
from bot.directory.models import Person
from bot.reports.export import as_data
from bot.reports.history import period_report
from bot.tickets.models import Ticket
from tests.doubles.azure_keys import AzureKeys, new_key, token
from tests.integration.report_rows import store_history
from tests.unit.report_history import NOW, at

APP_ID = "00000000-0000-0000-0000-00000000beef"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
KIM, LENA = "11111111-0000-0000-0000-000000000001", "11111111-0000-0000-0000-000000000002"


@pytest.fixture
async def keys(aiohttp_server):
    double = AzureKeys()
    server = await aiohttp_server(double.app())
    double.url = f"http://{server.host}:{server.port}/{{tenant}}/discovery/v2.0/keys"
    return double


@pytest.fixture
async def tab(aiohttp_client, settings, organisation, keys, database):
    secured = dataclasses.replace(
        settings, app_id=APP_ID, app_password="secret", app_tenant_id=TENANT,
        public_url="https://esmbot.example.com",
    )  # fmt: skip
    await store_history(database)
    async with database.transaction() as session:
        kim = Person(name="Kim", email="kim@esmos.example", aad_object_id=KIM, tenant_id=TENANT)
        lena = Person(name="Lena", email="lena@esmos.example", aad_object_id=LENA, tenant_id=TENANT)
        session.add_all([kim, lena])
        await session.flush()
        for number, (who, summary) in enumerate([(kim, "Kim's printer"), (lena, "Lena's login")]):
            session.add(Ticket(key=f"OWN-{number}", summary=summary, reporter_id=who.id,
                               created_at=at(4, 10), status="in_progress", priority="P3"))  # fmt: skip
    return await aiohttp_client(
        create_app(secured, organisation, clock=lambda: NOW, tab_keys_url=keys.url,
                   dispatch=False, schedule=False)
    )  # fmt: skip


def bearer(keys, email: str, oid: str = "", **changes) -> dict[str, str]:
    options = {"tenant": TENANT, "audience": APP_ID, "oid": oid or email, "email": email,
               "key": keys.key, **changes}  # fmt: skip
    return {"Authorization": f"Bearer {token(**options)}"}


DAYS = "?from=2026-11-02&to=2026-11-04"


@pytest.mark.parametrize(
    "case",
    ["missing", "forged", "expired", "wrong audience", "other tenant", "garbage"],
)
async def test_a_token_esmbot_does_not_accept_gets_401_and_no_figures(tab, keys, case):
    headers = {
        "missing": {},
        "forged": bearer(keys, "danielle@esmos.example", key=new_key()),
        "expired": bearer(keys, "danielle@esmos.example", expires_in=-3600),
        "wrong audience": bearer(keys, "danielle@esmos.example", audience="api://other/app"),
        "other tenant": bearer(
            keys, "danielle@esmos.example", tenant="00000000-1111-2222-3333-444444444444"
        ),
        "garbage": {"Authorization": "Bearer not-a-token"},
    }[case]

    response = await tab.get(f"/dashboard/data{DAYS}", headers=headers)

    assert response.status == 401
    body = await response.json()
    assert set(body) == {"error", "words"}  # why, in words the page can show; no data
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_manager_sees_the_json_reports_figures(tab, keys, database, organisation):
    response = await tab.get(f"/dashboard/data{DAYS}",
                             headers=bearer(keys, "danielle@esmos.example"))  # fmt: skip

    assert response.status == 200
    body = await response.json()
    assert body["view"] == "manager"
    start, end = NOW - timedelta(days=3, hours=10), NOW - timedelta(hours=10)  # Berlin's 2–4 Nov
    expected = as_data(await period_report(database, start=start, end=end, now=NOW,
                                           organisation=organisation))  # fmt: skip
    assert body["report"] == expected
    assert body["report"]["current"]["created"]["total"] == 7  # SR-1 … SR-5, OWN-0, OWN-1
    assert {line["key"] for line in body["at_risk"]} >= {"SR-4"}  # unanswered, past its due
    assert body["words"]["report.dashboard.title"] == "Service desk dashboard"


async def test_the_v1_token_of_an_api_audience_is_accepted_too(tab, keys):
    headers = bearer(keys, "alex@esmos.example", version="1.0",
                     audience=f"api://esmbot.example.com/{APP_ID}")  # fmt: skip

    body = await (await tab.get(f"/dashboard/data{DAYS}", headers=headers)).json()

    assert body["view"] == "agent"  # Alex is an agent: the queue and its service levels
    assert "report" not in body
    assert {line["key"] for line in body["queue"]} >= {"SR-4", "OWN-0", "OWN-1"}
    assert [level["percent_on_time"] for level in body["service_levels"]][:2] == [60, 75]


async def test_a_customer_sees_their_own_tickets_and_never_anothers(tab, keys):
    response = await tab.get(f"/dashboard/data{DAYS}&lang=de",
                             headers=bearer(keys, "kim@esmos.example", oid=KIM))  # fmt: skip

    body = await response.json()
    assert body["view"] == "customer"
    assert [line["key"] for line in body["tickets"]] == ["OWN-0"]
    assert "Lena's login" not in str(body) and "at_risk" not in body and "queue" not in body
    assert body["words"]["report.dashboard.your_tickets"] == "Ihre Tickets"


TEAMS_JS = "https://res.cdn.office.net/teams-js/2.58.0/js/MicrosoftTeams.min.js"


async def test_the_pages_are_served_with_teams_js_from_microsofts_cdn(tab):
    page = await tab.get("/dashboard")
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert f'<script src="{TEAMS_JS}"' in await page.text()
    configure = await tab.get("/dashboard/configure")
    text = await configure.text()
    assert f'<script src="{TEAMS_JS}"' in text and "pages.config.setValidityState(true)" in text
    assert (await tab.get("/dashboard/teams.js")).status == 404  # nothing third-party served


async def test_in_local_mode_the_tab_opens_without_sign_in(bot):
    response = await bot.client.get(f"/dashboard/data{DAYS}")

    assert response.status == 200
    assert (await response.json())["view"] == "manager"
