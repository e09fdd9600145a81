"""The connector double, when asked, throttles like Teams: 429 with Retry-After past the limits."""

from __future__ import annotations

import aiohttp

from bot.demo.connector import ConnectorDouble, Limits


def test_a_conversation_gets_seven_calls_in_a_second_then_waits():
    limits = Limits()

    assert all(limits.admit("a:1", 10.0 + i * 0.01) is None for i in range(7))

    wait = limits.admit("a:1", 10.1)
    assert wait is not None and abs(wait - 0.9) < 1e-9
    assert limits.admit("a:2", 10.1) is None  # another conversation is not held back


def test_eight_in_two_seconds_and_sixty_in_thirty_are_enforced_too():
    limits = Limits()
    for i in range(7):
        assert limits.admit("a:1", i * 0.1) is None
    assert limits.admit("a:1", 1.05) is None  # the 1 s window has room again: the 8th call
    assert limits.admit("a:1", 1.5) is not None  # but 8 in 2 s is full until 2.0

    slow = Limits()
    assert all(slow.admit("a:1", i * 0.3) is None for i in range(60))
    wait = slow.admit("a:1", 18.0)  # 60 calls in the last 30 s: the first leaves at 30.0
    assert wait is not None and abs(wait - 12.0) < 1e-9


def test_the_bot_gets_thirty_calls_a_second_over_all_conversations():
    limits = Limits()

    assert all(limits.admit(f"a:{i}", 5.0 + i * 0.001) is None for i in range(30))

    assert limits.admit("a:new", 5.5) is not None
    assert limits.admit("a:new", 6.001) is None  # the first call left the window


async def test_the_double_answers_429_past_the_limits_and_counts_them():
    double = ConnectorDouble(enforce_limits=True)
    url = await double.start()
    try:
        async with aiohttp.ClientSession() as session:
            statuses, retry_after = [], None
            for _ in range(8):
                async with session.post(
                    f"{url}v3/conversations/a:1/activities", json={"type": "message"}
                ) as response:
                    statuses.append(response.status)
                    retry_after = response.headers.get("Retry-After", retry_after)
    finally:
        await double.close()

    assert statuses == [200] * 7 + [429]
    assert retry_after == "1" and double.throttled == 1
    assert len(double.sent("a:1")) == 7


async def test_by_default_the_double_never_throttles():
    double = ConnectorDouble()
    url = await double.start()
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(40):
                async with session.post(
                    f"{url}v3/conversations/a:1/activities", json={"type": "message"}
                ) as response:
                    assert response.status == 200
    finally:
        await double.close()
    assert double.throttled == 0


def test_the_bots_rate_can_be_lowered_for_a_short_test():
    limits = Limits(tenant_rate=20)

    assert all(limits.admit(f"a:{i}", 5.0 + i * 0.001) is None for i in range(20))
    assert limits.admit("a:new", 5.5) is not None
