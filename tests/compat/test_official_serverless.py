"""The official `runpod` package's serverless clients, unchanged, against the emulator.

`runpod.Endpoint` and `runpod.AsyncioEndpoint` run in the official package's own
virtualenv (.official-venv), in a subprocess pointed at the emulator through its
RUNPOD_ENDPOINT_BASE_URL variable. The script prints every result (or the error it
raised) as JSON; it runs once per module and each test checks one area.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runpod_typed.emulator import Emulator

pytestmark = pytest.mark.compat

OFFICIAL_PYTHON = Path(__file__).resolve().parents[2] / ".official-venv" / "bin" / "python"
API_KEY = "compat-serverless-key-42"

SCRIPT = r"""
import asyncio, json, os

import runpod
from runpod.http_client import AsyncClientSession

runpod.api_key = os.environ["RUNPOD_API_KEY"]
results = {}


def record(name, function, *args, **kwargs):
    try:
        results[name] = {"ok": function(*args, **kwargs)}
    except Exception as exc:
        results[name] = {"error": type(exc).__name__, "message": str(exc)}


echo = runpod.Endpoint("echo")
record("run_sync", echo.run_sync, {"prompt": "hello"})
job = echo.run({"prompt": "queued"})
results["job_id"] = job.job_id
record("status", job.status)
record("output", job.output, timeout=30)
record("status_after_output", job.status)
record("run_sync_failed", runpod.Endpoint("fail").run_sync, {"message": "boom"})
record("unauthorized", runpod.Endpoint("echo", api_key="wrong-key").run_sync, {"x": 1})

streamed = runpod.Endpoint("tokens").run({"prompt": "one two three"})
record("stream", lambda: list(streamed.stream()))

sleeper = runpod.Endpoint("sleep")
long_job = sleeper.run({"seconds": 600})
record("cancel", long_job.cancel)
record("status_after_cancel", long_job.status)
record("health", sleeper.health)

crowded = runpod.Endpoint("crowded")
for _ in range(6):
    crowded.run({"sleep": 600})
record("health_before_purge", crowded.health)
record("purge_queue", crowded.purge_queue)


async def asyncio_endpoint():
    async with AsyncClientSession() as session:
        echo = runpod.AsyncioEndpoint("echo", session)
        job = await echo.run({"prompt": "async"})
        results["async_status"] = {"ok": await job.status()}
        results["async_output"] = {"ok": await job.output(timeout=30)}
        tokens = await runpod.AsyncioEndpoint("tokens", session).run({"prompt": "a b"})
        results["async_stream"] = {"ok": [chunk async for chunk in tokens.stream()]}
        sleeper = runpod.AsyncioEndpoint("sleep", session)
        long_job = await sleeper.run({"seconds": 600})
        results["async_cancel"] = {"ok": await long_job.cancel()}
        results["async_health"] = {"ok": await sleeper.health()}
        crowded = runpod.AsyncioEndpoint("crowded-async", session)
        for _ in range(6):
            await crowded.run({"sleep": 600})
        results["async_health_before_purge"] = {"ok": await crowded.health()}
        results["async_purge_queue"] = {"ok": await crowded.purge_queue()}


asyncio.run(asyncio_endpoint())
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run the script once for the module against an emulator that requires API_KEY."""
    if not OFFICIAL_PYTHON.exists():
        pytest.fail(f"{OFFICIAL_PYTHON} is missing: run make setup")
    with Emulator(api_key=API_KEY, rate_limits=False).serve() as server:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path_factory.mktemp("home")),  # no developer ~/.runpod/config.toml
            "NO_PROXY": "127.0.0.1",
            "RUNPOD_ENDPOINT_BASE_URL": server.endpoint_base_url,
            "RUNPOD_API_KEY": API_KEY,
        }
        done = subprocess.run(
            [str(OFFICIAL_PYTHON), "-c", SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        results: dict[str, Any] = json.loads(done.stdout)
        results["server_state"] = server.job_state("echo", results["job_id"])
    yield results


def _ok(results: dict[str, Any], name: str) -> Any:
    assert "ok" in results[name], (name, results[name])
    return results[name]["ok"]


def test_run_sync_status_and_output(official: dict[str, Any]) -> None:
    assert _ok(official, "run_sync") == {"prompt": "hello"}
    assert _ok(official, "status") in {"IN_QUEUE", "IN_PROGRESS", "COMPLETED"}
    assert _ok(official, "output") == {"prompt": "queued"}
    assert _ok(official, "status_after_output") == "COMPLETED"
    assert official["server_state"]["output"] == {"prompt": "queued"}


def test_failures_and_auth_reach_the_official_client(official: dict[str, Any]) -> None:
    assert _ok(official, "run_sync_failed") is None  # a FAILED job has no output
    assert official["unauthorized"]["error"] == "RuntimeError"
    assert "401 Unauthorized" in official["unauthorized"]["message"]


def test_stream_yields_each_chunk_and_terminates(official: dict[str, Any]) -> None:
    assert _ok(official, "stream") == ["one", "two", "three"]
    assert _ok(official, "async_stream") == ["a", "b"]


def test_cancel_and_health(official: dict[str, Any]) -> None:
    cancelled = _ok(official, "cancel")
    assert cancelled["status"] == "CANCELLED"
    assert _ok(official, "status_after_cancel") == "CANCELLED"
    assert _ok(official, "async_cancel")["status"] == "CANCELLED"
    for health in (_ok(official, "health"), _ok(official, "async_health")):
        assert set(health) == {"jobs", "workers"}
        assert health["jobs"]["inProgress"] == 0
        assert health["workers"]["idle"] + health["workers"]["running"] == 4


def test_purge_queue_removes_what_was_queued(official: dict[str, Any]) -> None:
    for prefix in ("", "async_"):
        assert _ok(official, f"{prefix}health_before_purge")["jobs"]["inQueue"] == 2
        assert _ok(official, f"{prefix}purge_queue") == {"removed": 2, "status": "completed"}


def test_asyncio_endpoint_run_status_output(official: dict[str, Any]) -> None:
    assert _ok(official, "async_status") in {"IN_QUEUE", "IN_PROGRESS", "COMPLETED"}
    assert _ok(official, "async_output") == {"prompt": "async"}
