"""The emulator on hostile input and exposed hosts (issue 13, item 11).

- With an API key set, the ``/_emulator/`` admin routes take it too (the Python helpers,
  which call in-process, need none).
- Serving on an address other machines can reach warns: on the CLI's stderr, and as an
  `ExposedEmulatorWarning` from `Emulator.serve`.
- Bodies RunPod's Go server would not read as JSON -- NaN/Infinity, numbers past a float's
  range, lone surrogates, extreme nesting -- are a 400 with each route's bad-JSON answer,
  never a 500 or a job; no answer carries a non-JSON number, and a handler whose output
  holds one fails its job saying why.
- In-process workers start with an endpoint's first job and end when idle: endpoint ids
  without work hold no tasks, and a job on a reclaimed endpoint still runs.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from runpod_typed.emulator import Emulator, RunningEmulator
from runpod_typed.emulator._emulator import ExposedEmulatorWarning
from runpod_typed.emulator._json import MAX_DEPTH
from runpod_typed.emulator._settings import JobSettings
from runpod_typed.emulator.handlers import progress_update

from . import Gate, eventually, job_api

Factory = Callable[..., RunningEmulator]
KEY = "hardening-key"


# ------------------------------------------------------------------ admin routes


def test_admin_routes_take_the_key_in_either_form_when_one_is_set(
    runpod_emulator_factory: Factory,
) -> None:
    server = runpod_emulator_factory(api_key=KEY)
    calls = [
        ("GET", "/counters", None),
        ("GET", "/faults", None),
        ("POST", "/faults", {"seed": 1, "routes": {}}),
        ("GET", "/jobs/echo/no-such-job", None),
        ("POST", "/reset", None),
    ]
    with httpx.Client(base_url=f"{server.url}/_emulator") as admin:
        for method, path, body in calls:
            for headers in ({}, {"Authorization": "wrong"}, {"Authorization": f"Bearer {KEY}x"}):
                refused = admin.request(method, path, json=body, headers=headers)
                assert (refused.status_code, refused.text) == (401, "Unauthorized"), path
            for key in (KEY, f"Bearer {KEY}", f"bearer  {KEY}"):
                answer = admin.request(method, path, json=body, headers={"Authorization": key})
                assert answer.status_code == (404 if "jobs/" in path else 200), (path, key)
        # The key as a query parameter is GraphQL's alone: not taken here either.
        assert admin.get("/counters", params={"api_key": KEY}).status_code == 401
    # The Python helpers call in-process: no key needed, and they still work.
    with job_api(server, KEY) as api:
        job = api.post("/echo/runsync", json={"input": "x"}).json()
    assert server.job_state("echo", job["id"]) == job
    server.set_faults("health:503=1")
    assert server.counters()["jobs_created"] == 1
    server.reset()
    assert server.job_state("echo", job["id"]) is None


# ------------------------------------------------------------------ exposed hosts


def test_the_cli_warns_on_stderr_when_serving_beyond_loopback() -> None:
    def start(*options: str) -> str:
        command = [sys.executable, "-m", "runpod_typed.emulator", "--port", "0", *options]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None
            assert process.stdout.readline().startswith("READY http://")
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=30)
        return stderr

    exposed = start("--host", "0.0.0.0")
    assert "warning: the RunPod emulator serves on 0.0.0.0" in exposed
    assert "without --api-key, any non-empty key is accepted" in exposed
    assert "warning" not in start("--host", "127.0.0.1").lower()


def test_serve_warns_when_serving_beyond_loopback() -> None:
    exposed = pytest.warns(ExposedEmulatorWarning, match="serves on 0.0.0.0")
    with exposed as caught, Emulator(workers=0).serve(host="0.0.0.0"):
        pass
    assert "any non-empty key is accepted" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Emulator(workers=0).serve(host="127.0.0.1"):
            pass


# ------------------------------------------------------------------ bodies that are not JSON


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningEmulator]:
    with Emulator(rate_limits=False).serve() as server:
        yield server


@pytest.fixture
def server(shared: RunningEmulator) -> RunningEmulator:
    shared.reset()
    return shared


DEEP = b"[" * 100_000 + b"]" * 100_000
#: JSON values Python's json reads and RunPod's server does not (or this one cannot keep).
BAD_VALUES = {
    "NaN": b"NaN",
    "Infinity": b"Infinity",
    "-Infinity": b"[-Infinity]",
    "1e400": b"1e400",
    "-1E+0400": b"-1E+0400",
    "long integer part": b"1" + b"0" * 400 + b".5",
    "escaped lone surrogate": b'"a\\ud800b"',
    "escaped low surrogate first": b'"\\udc00\\ud800"',
    "encoded lone surrogate": b'"a\xed\xa0\x80b"',
    "100,000 levels": DEEP,
    f"{MAX_DEPTH + 1} levels": b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
}
bad_values = pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
JSON_HEADERS = {"Authorization": KEY, "Content-Type": "application/json"}


@bad_values
@pytest.mark.parametrize("route", ["run", "runsync"])
def test_the_job_api_refuses_what_runpod_would_not_read(
    server: RunningEmulator, route: str, value: bytes
) -> None:
    body = b'{"input": {"x": ' + value + b"}}"
    answer = httpx.post(
        f"{server.endpoint_base_url}/echo/{route}", content=body, headers=JSON_HEADERS
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"].startswith("request body is not valid JSON: ")
    assert server.counters()["jobs_created"] == 0


@bad_values
def test_graphql_refuses_what_runpod_would_not_read(server: RunningEmulator, value: bytes) -> None:
    body = b'{"query": "{ myself { id } }", "variables": {"x": ' + value + b"}}"
    answer = httpx.post(server.graphql_url, content=body, headers=JSON_HEADERS)
    assert answer.status_code == 400, answer.text
    assert answer.text.startswith("Request body is not a valid JSON: ")


def test_graphql_refuses_non_json_variables_in_a_get(server: RunningEmulator) -> None:
    params = {"query": "{ myself { id } }", "variables": '{"x": NaN}'}
    answer = httpx.get(server.graphql_url, params=params, headers={"Authorization": KEY})
    assert answer.status_code == 400
    assert answer.text.startswith("Variables query arg is not a valid JSON: ")
    params["variables"] = '{"x": 1.5}'
    fine = httpx.get(server.graphql_url, params=params, headers={"Authorization": KEY})
    assert fine.json()["data"]["myself"]["id"]


@bad_values
def test_rest_v2_refuses_what_runpod_would_not_read(server: RunningEmulator, value: bytes) -> None:
    body = b'{"name": "p", "image": "i", "env": {"X": ' + value + b"}}"
    answer = httpx.post(f"{server.url}/v2/pods", content=body, headers=JSON_HEADERS)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"].startswith("the request body is not valid JSON: ")


@pytest.mark.parametrize("value", [b"NaN", b"1e400", b'"\\ud800"', DEEP])
def test_admin_faults_and_the_openai_route_refuse_it_too(
    server: RunningEmulator, value: bytes
) -> None:
    faults = httpx.post(f"{server.url}/_emulator/faults", content=b'{"seed": ' + value + b"}")
    assert faults.status_code == 400
    assert faults.json()["error"].startswith("invalid fault spec: ")
    openai = httpx.post(
        f"{server.endpoint_base_url}/echo/openai/v1/chat/completions",
        content=b'{"model": ' + value + b"}",
        headers=JSON_HEADERS,
    )
    assert openai.status_code == 400
    assert server.counters()["jobs_created"] == 0


def test_numbers_and_strings_json_can_carry_still_pass(server: RunningEmulator) -> None:
    value = {
        "big": 1e308,
        "tiny": 5e-324,
        "under": 0.0,
        "int": 10**300,
        "pair": "\U0001f600",
        "text": "\\ud800 is only text here",
    }
    deep: Any = "bottom"
    for _ in range(MAX_DEPTH - 2):  # within the limit with the input's own two levels
        deep = [deep]
    with job_api(server, KEY) as api:
        for item in (value, deep):
            body = json.dumps({"input": item}, ensure_ascii=True).encode()
            answer = api.post("/echo/runsync", content=body)
            assert answer.status_code == 200, answer.text[:200]
            assert answer.json()["output"] == item
            escaped = api.post("/echo/runsync", json={"input": item})  # and raw UTF-8
            assert escaped.json()["output"] == item


# ------------------------------------------------------------------ outputs JSON cannot carry


def nan_output(job: dict[str, Any]) -> Any:
    return {"score": float("nan")}


def infinite_output(job: dict[str, Any]) -> Any:
    return [1, -math.inf]


def infinite_chunk(job: dict[str, Any]) -> Iterator[Any]:
    yield 1
    yield {"x": math.inf}


def surrogate_output(job: dict[str, Any]) -> Any:
    return {"text": "a\ud800b", "a\udfffb": 1}


PROGRESS_GATE = Gate()


async def nan_progress(job: dict[str, Any]) -> Any:
    progress_update(job, float("nan"))
    progress_update(job, {"step": 1})
    await PROGRESS_GATE.wait()
    return "done"


def test_an_output_json_cannot_carry_fails_the_job_saying_why(
    runpod_emulator_factory: Factory,
) -> None:
    server = runpod_emulator_factory(
        handlers={
            "nan": nan_output,
            "inf": infinite_output,
            "chunk": infinite_chunk,
            "surrogate": surrogate_output,
        }
    )
    with job_api(server, KEY) as api:
        for endpoint in ("nan", "inf"):
            answer = api.post(f"/{endpoint}/runsync", json={"input": 1})
            body = answer.json()
            assert (answer.status_code, body["status"]) == (200, "FAILED"), answer.text
            assert "NaN or Infinity" in body["error"]
            assert "output" not in body
        streamed = api.post("/chunk/runsync", json={"input": 1}).json()
        assert streamed["status"] == "FAILED"
        assert "a stream chunk holds NaN or Infinity" in streamed["error"]
        # A lone surrogate in an output is answered as U+FFFD (what Go's decoder stores).
        answer = api.post("/surrogate/runsync", json={"input": 1})
        assert answer.status_code == 200
        assert answer.json()["output"] == {"text": "a\ufffdb", "a\ufffdb": 1}
        answer.content.decode("utf-8")  # strict: valid UTF-8


def test_a_progress_update_json_cannot_carry_is_dropped(runpod_emulator_factory: Factory) -> None:
    server = runpod_emulator_factory(handlers={"progress": nan_progress})
    with job_api(server, KEY) as api:
        job_id = api.post("/progress/run", json={"input": 1}).json()["id"]
        PROGRESS_GATE.wait_reached()

        def progressed() -> str | None:
            answer = api.get(f"/progress/status/{job_id}")
            return answer.text if "output" in answer.json() else None

        text = eventually(progressed, "the progress update")
        PROGRESS_GATE.open()
        assert json.loads(text)["output"] == {"step": 1} and "NaN" not in text
        final = api.post(f"/progress/status-sync/{job_id}").json()
        assert (final["status"], final["output"]) == ("COMPLETED", "done")


# ------------------------------------------------------------------ idle workers


def echo(job: dict[str, Any]) -> Any:
    return job["input"]


def slots(server: RunningEmulator, endpoint_id: str) -> int | None:
    """How many in-process worker tasks the endpoint holds now (None: no endpoint)."""
    emulator = server.emulator

    def count() -> int | None:
        endpoint = emulator._store.endpoints.get(endpoint_id)
        return None if endpoint is None else len(endpoint.workers)

    return emulator._on_loop(count)


def test_idle_in_process_workers_end_and_start_again_with_the_next_job(
    runpod_emulator_factory: Factory,
) -> None:
    settings = JobSettings(idle_worker_seconds=0.2)
    server = runpod_emulator_factory(default_handler=echo, workers=3, settings=settings)
    with job_api(server, KEY) as api:
        assert api.get("/never-ran/health").json()["workers"]["idle"] == 3
        assert slots(server, "never-ran") == 0  # an endpoint id without jobs holds no task
        for round_ in range(2):
            jobs = [api.post("/busy/run", json={"input": [round_, n]}).json() for n in range(5)]
            assert 1 <= (slots(server, "busy") or 0) <= 3
            for n, job in enumerate(jobs):
                done = api.post(f"/busy/status-sync/{job['id']}").json()
                assert (done["status"], done["output"]) == ("COMPLETED", [round_, n])
            # Idle for the period: every worker task ends (health still counts the workers).
            eventually(lambda: True if slots(server, "busy") == 0 else None, "idle workers to end")
            assert api.get("/busy/health").json()["workers"]["idle"] == 3
        assert api.get("/busy/health").json()["jobs"]["completed"] == 10
