"""The fan-out double's tally: only messages holding the run's tag count as the run's."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCHMARKS))

from processes import free_port, wait_ready  # noqa: E402


@pytest.fixture
def double_url(tmp_path) -> Iterator[str]:
    """The double in its own process, counting messages tagged `run-1234` as the run's."""
    port = free_port()
    double = subprocess.Popen(
        [sys.executable, str(BENCHMARKS / "connector_server.py"), "--port", str(port),
         "--tag", "run-1234"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(BENCHMARKS.parent)},
    )  # fmt: skip
    yield f"http://127.0.0.1:{port}"
    double.terminate()
    double.wait(timeout=20)


async def test_a_message_without_the_runs_tag_is_counted_apart_not_as_a_duplicate(double_url):
    await wait_ready(f"{double_url}/bench/stats")
    async with aiohttp.ClientSession() as http:
        for conversation, text in [
            ("a:one", "Outage of the shop run-1234"),
            ("a:two", "Outage of the shop run-1234"),
            ("19:management", "Outage of the shop run-1234"),
            ("19:management", "Weekly report"),  # the scheduler's, caught up meanwhile
        ]:
            body = {"type": "message", "text": text}
            activities = f"{double_url}/v3/conversations/{conversation}/activities"
            async with http.post(activities, json=body) as response:
                assert response.status == 200
        async with http.get(f"{double_url}/bench/stats") as response:
            stats = await response.json()
    assert (stats["accepted"], stats["conversations"], stats["others"]) == (3, 3, 1)
