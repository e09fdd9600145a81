"""Signed report links: open for 15 minutes, refused when changed or when another key signed them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.reports.links import LinkExpired, LinkForged, ReportLink, ReportLinks, link_key

T0 = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
LINK = ReportLink(date(2026, 11, 2), date(2026, 11, 4), "de")


def links_at(moment: datetime, secret: str = "s3cret") -> ReportLinks:
    key = link_key(secret=secret, app_password="", database_url="")
    return ReportLinks(key, "https://esmbot.example.com/", lambda: moment)


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_a_link_opens_its_report_until_fifteen_minutes_have_passed():
    url = links_at(T0).pdf(LINK)
    assert url.startswith("https://esmbot.example.com/reports/pdf?from=2026-11-02&to=2026-11-04")

    assert links_at(T0 + timedelta(minutes=14, seconds=59)).check(query(url)) == LINK
    with pytest.raises(LinkExpired):
        links_at(T0 + timedelta(minutes=15)).check(query(url))


@pytest.mark.parametrize(
    "change",
    [
        {"to": "2026-11-30"},
        {"lang": "en"},
        {"expires": str(int((T0 + timedelta(days=1)).timestamp()))},
        {"sig": "0" * 64},
        {"from": "2026-11-2"},  # the same day, not written as esmbot writes it
    ],
)
def test_a_changed_link_is_refused(change):
    signed = query(links_at(T0).pdf(LINK))
    with pytest.raises(LinkForged):
        links_at(T0).check({**signed, **change})


def test_a_link_signed_with_another_key_or_missing_a_part_is_refused():
    signed = query(links_at(T0, secret="other").pdf(LINK))
    with pytest.raises(LinkForged):
        links_at(T0).check(signed)
    del signed["sig"]
    with pytest.raises(LinkForged):
        links_at(T0, secret="other").check(signed)


def test_the_key_falls_back_to_the_app_password_then_the_database():
    with_secret = link_key(secret="x", app_password="p", database_url="d")
    with_password = link_key(secret="", app_password="p", database_url="d")
    assert with_secret != with_password
    assert with_password == link_key(secret="", app_password="p", database_url="other")
    assert link_key(secret="", app_password="", database_url="d") != with_password
