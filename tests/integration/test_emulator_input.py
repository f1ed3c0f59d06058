"""Bad input, payload limits and auth on the emulator's job API over loopback.

Each refusal gets RunPod's status code and a message saying what was wrong, and
leaves the emulator's state untouched (no job created, nothing queued).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from runpod_typed.emulator import Emulator, RunningEmulator

from . import job_api

Factory = Callable[..., RunningEmulator]
MB = 1024 * 1024


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[RunningEmulator]:
    with Emulator(rate_limits=False).serve() as server:
        yield server


@pytest.fixture
def server(shared_emulator: RunningEmulator) -> RunningEmulator:
    """One emulator for the module (these tests need no options), reset for each test."""
    shared_emulator.reset()
    return shared_emulator


def assert_untouched(server: RunningEmulator, api: httpx.Client, endpoint: str = "echo") -> None:
    """No job was created and the endpoint still works."""
    assert server.counters()["jobs_created"] == 0
    assert api.get(f"/{endpoint}/health").json()["jobs"]["inQueue"] == 0
    answer = api.post(f"/{endpoint}/runsync", json={"input": "still fine"}).json()
    assert answer["output"] == "still fine"


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (b'{"input": ', {"Content-Type": "application/json"}, "not valid JSON"),
        (b"", {"Content-Type": "application/json"}, "not valid JSON"),
        (b"\xff\xfe", {}, "not valid JSON"),
        (b"input=1", {"Content-Type": "application/x-www-form-urlencoded"}, "not valid JSON"),
        (b"[1, 2]", {}, "must be a JSON object"),
        (b'{"inputs": {}}', {}, 'must have an "input" field'),
        (b'{"input": null}', {}, 'must have an "input" field'),
        (b'{"input": {}, "webhook": "ftp://x"}', {}, "webhook must be an http"),
        (b'{"input": {}, "policy": 5}', {}, "policy must be an object"),
        (b'{"input": {}, "policy": {"ttl": "1h"}}', {}, "policy.ttl must be an integer"),
        (b'{"input": {}, "policy": {"ttl": 1}}', {}, "between 10000 and 604800000"),
        (b'{"input": {}, "policy": {"ttl": true}}', {}, "policy.ttl must be an integer"),
        (
            b'{"input": {}, "policy": {"executionTimeout": 10}}',
            {},
            "policy.executionTimeout must be an integer number of milliseconds between 5000",
        ),
        (b'{"input": {}, "policy": {"lowPriority": "yes"}}', {}, "lowPriority must be true"),
        (b'{"input": {}, "s3Config": "bucket"}', {}, "s3Config must be an object"),
    ],
)
@pytest.mark.parametrize("route", ["run", "runsync"])
def test_bad_bodies_get_400_with_a_message(
    server: RunningEmulator,
    route: str,
    content: bytes,
    headers: dict[str, str],
    message: str,
) -> None:
    with job_api(server) as api:
        response = api.post(f"/echo/{route}", content=content, headers=headers)
        assert response.status_code == 400
        assert message in response.json()["error"]
        assert_untouched(server, api)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/octet-stream"])
def test_json_is_accepted_whatever_the_content_type(
    server: RunningEmulator, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    with job_api(server) as api:
        response = api.post("/echo/runsync", content=b'{"input": "plain"}', headers=headers)
    assert response.json()["output"] == "plain"


@pytest.mark.parametrize("wait", ["abc", "1.5", "0", "999", "300001", "-5", ""])
@pytest.mark.parametrize("route", ["runsync", "status-sync", "stream"])
def test_invalid_wait_gets_400_with_the_accepted_range(
    server: RunningEmulator, route: str, wait: str
) -> None:
    with job_api(server) as api:
        if route == "runsync":
            response = api.post("/echo/runsync", params={"wait": wait}, json={"input": 1})
        else:
            job_id = api.post("/echo/runsync", json={"input": 1}).json()["id"]
            response = api.get(f"/echo/{route}/{job_id}", params={"wait": wait})
        assert response.status_code == 400
        error = response.json()["error"]
        assert "wait must be an integer number of milliseconds between 1000 and 300000" in error
        created = 0 if route == "runsync" else 1
        assert server.counters()["jobs_created"] == created


def test_unknown_jobs_endpoints_and_routes(runpod_emulator_factory: Factory) -> None:
    server = runpod_emulator_factory(handlers={"known": "echo"})
    with job_api(server) as api:
        job_id = api.post("/known/runsync", json={"input": 1}).json()["id"]
        for path in ("/known/status/nope", "/known/stream/nope", f"/other/status/{job_id}"):
            response = api.get(path)
            assert response.status_code == 404
            assert response.json() == {"error": "request does not exist"}
        for method, path in (("POST", "/known/cancel/nope"), ("POST", "/known/retry/nope")):
            response = api.request(method, path)
            assert response.status_code == 404
            assert response.json() == {"error": "request does not exist"}
        for method, path in (("POST", "/other/run"), ("GET", "/other/health")):
            response = api.request(method, path, json={"input": 1})
            assert response.status_code == 404
            assert response.json() == {"error": "endpoint other not found"}
        for path in ("/known/runs", "/known/status", "/known/status/a/b", "/known", "/"):
            response = api.get(path)
            assert response.status_code == 404
            assert response.text == "404 page not found"
        wrong_method = api.get("/known/run")
        assert wrong_method.status_code == 405
        assert wrong_method.headers["allow"] == "POST"
        assert server.counters()["jobs_created"] == 1


def test_payload_limits_are_10_mb_for_run_and_20_mb_for_runsync(
    server: RunningEmulator,
) -> None:
    def body(size: int) -> bytes:
        """A body of exactly `size` bytes whose job (demo handler) outputs "ok"."""
        padding = size - len(json.dumps({"input": {"output": "ok", "pad": ""}}))
        return json.dumps({"input": {"output": "ok", "pad": "x" * padding}}).encode()

    with job_api(server) as api:
        too_big_for_run = body(10 * MB + 1)
        refused = api.post("/demo/run", content=too_big_for_run)
        assert refused.status_code == 413
        assert "over the 10 MB limit of /run" in refused.json()["error"]
        accepted = api.post("/demo/runsync", content=too_big_for_run)
        assert accepted.json()["output"] == "ok"
        refused = api.post("/demo/runsync", content=body(20 * MB + 1))
        assert refused.status_code == 413
        assert "over the 20 MB limit of /runsync" in refused.json()["error"]
        assert api.post("/demo/run", content=body(10 * MB)).status_code == 200
    assert server.counters()["jobs_created"] == 2


# ---------------------------------------------------------------------------- auth


ACCEPTED = ("Bearer secret-key", "bearer secret-key", "secret-key")
REFUSED = ("Bearer wrong-key", "wrong-key", "Bearer", "", None)


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.text == "Unauthorized"
    assert response.headers["content-type"].startswith("text/plain")


def test_only_the_configured_key_is_accepted(runpod_emulator_factory: Factory) -> None:
    server = runpod_emulator_factory(api_key="secret-key")
    job_url = f"{server.endpoint_base_url}/echo/runsync"
    query = {"query": "{ myself { id } }"}
    for header in ACCEPTED:
        headers = {"Authorization": header}
        assert httpx.post(job_url, json={"input": 1}, headers=headers).json()["output"] == 1
        graphql = httpx.post(server.graphql_url, json=query, headers=headers)
        assert graphql.json()["data"]["myself"]["id"]
    for refused in REFUSED:
        headers = {} if refused is None else {"Authorization": refused}
        assert_refused(httpx.post(job_url, json={"input": 1}, headers=headers))
        assert_refused(httpx.post(server.graphql_url, json=query, headers=headers))
    assert server.counters()["jobs_created"] == len(ACCEPTED)


def test_any_non_empty_key_is_accepted_without_a_configured_key(
    server: RunningEmulator,
) -> None:
    answer = httpx.post(
        f"{server.endpoint_base_url}/echo/runsync",
        json={"input": 1},
        headers={"Authorization": "anything"},
    )
    assert answer.json()["output"] == 1
    missing = httpx.get(f"{server.endpoint_base_url}/echo/health")
    assert missing.status_code == 401


def test_graphql_also_takes_the_key_as_a_query_parameter(runpod_emulator_factory: Factory) -> None:
    server = runpod_emulator_factory(api_key="secret-key")
    query: dict[str, Any] = {"query": "{ myself { id } }"}
    accepted = httpx.post(server.graphql_url, params={"api_key": "secret-key"}, json=query)
    assert accepted.json()["data"]["myself"]["id"]
    assert_refused(httpx.post(server.graphql_url, params={"api_key": "wrong"}, json=query))
    job_url = f"{server.endpoint_base_url}/echo/health"
    assert_refused(httpx.get(job_url, params={"api_key": "secret-key"}))


def test_admin_routes_take_the_key_when_one_is_set(runpod_emulator_factory: Factory) -> None:
    server = runpod_emulator_factory(api_key="secret-key")
    assert_refused(httpx.get(f"{server.url}/_emulator/counters"))
    admin = httpx.Client(
        base_url=f"{server.url}/_emulator", headers={"Authorization": "secret-key"}
    )
    with admin:
        assert admin.get("/counters").json()["jobs_created"] == 0
        assert admin.post("/reset").json() == {"status": "reset"}
        assert admin.get("/nothing").status_code == 404
    open_server = runpod_emulator_factory()  # without a key set, they need none
    assert httpx.get(f"{open_server.url}/_emulator/counters").json()["jobs_created"] == 0
