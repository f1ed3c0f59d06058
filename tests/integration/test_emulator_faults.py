"""Fault injection, counters and rate limits of the emulator, over loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from runpod_typed.emulator import Emulator, FaultSpec, RunningEmulator, fingerprint
from runpod_typed.emulator._faults import ConnectionDropped

from . import job_api

Factory = Callable[..., RunningEmulator]


#: How a client sees a connection closed with no answer: a clean close (FIN) or, when the
#: close races the request still being read, a reset (RST). Both mean "no response".
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)


def test_drop_closes_the_connection_before_any_job_is_created(
    runpod_emulator: RunningEmulator,
) -> None:
    runpod_emulator.set_faults("run:drop=1")
    with job_api(runpod_emulator) as api:
        with pytest.raises(DROPPED):
            api.post("/echo/run", json={"input": 1})
        counters = runpod_emulator.counters()
        assert counters["jobs_created"] == 0
        assert counters["responses"]["run"] == {"dropped": 1}
        assert counters["faults"]["run"] == {"drop": 1}
        runpod_emulator.set_faults(None)
        assert api.post("/echo/run", json={"input": 1}).status_code == 200


def test_drop_after_creates_the_job_and_loses_the_answer(
    runpod_emulator: RunningEmulator,
) -> None:
    job_input = {"prompt": "only once"}
    runpod_emulator.set_faults(FaultSpec.parse("run:drop_after=1"))
    with job_api(runpod_emulator) as api:
        with pytest.raises(DROPPED):
            api.post("/echo/run", json={"input": job_input})
        assert runpod_emulator.counters()["duplicate_inputs"] == []
        runpod_emulator.set_faults(None)
        api.post("/echo/run", json={"input": job_input})  # a naive client resubmits
    counters = runpod_emulator.counters()
    assert counters["jobs_created"] == 2
    assert counters["jobs_by_input"] == {fingerprint(job_input): 2}
    assert counters["duplicate_inputs"] == [fingerprint(job_input)]


@pytest.mark.parametrize("code", [500, 502, 503])
def test_server_errors_are_answered_before_processing(
    runpod_emulator: RunningEmulator, code: int
) -> None:
    runpod_emulator.set_faults(f"runsync:{code}=1")
    with job_api(runpod_emulator) as api:
        response = api.post("/echo/runsync", json={"input": 1})
    assert response.status_code == code
    assert "emulated fault" in response.text
    assert runpod_emulator.counters()["jobs_created"] == 0


def test_429_carries_retry_after(runpod_emulator: RunningEmulator) -> None:
    runpod_emulator.set_faults("health:429=1,retry_after=2")
    with job_api(runpod_emulator) as api:
        response = api.get("/echo/health")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"


def test_malformed_answers_200_with_broken_json_after_processing(
    runpod_emulator: RunningEmulator,
) -> None:
    runpod_emulator.set_faults("runsync:malformed=1")
    with job_api(runpod_emulator) as api:
        response = api.post("/echo/runsync", json={"input": {"key": "value"}})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert runpod_emulator.counters()["jobs_created"] == 1


def test_latency_delays_every_matching_request(runpod_emulator: RunningEmulator) -> None:
    runpod_emulator.set_faults("health:latency=0.05")
    with job_api(runpod_emulator) as api:
        started = time.monotonic()
        assert api.get("/echo/health").status_code == 200
        assert time.monotonic() - started >= 0.05


def test_later_sections_override_earlier_ones_for_the_routes_they_match(
    runpod_emulator: RunningEmulator,
) -> None:
    runpod_emulator.set_faults("*:503=1;health:503=0")
    with job_api(runpod_emulator) as api:
        assert api.get("/echo/health").status_code == 200
        assert api.get("/echo/status/x").status_code == 503
    graphql = httpx.post(
        runpod_emulator.graphql_url,
        json={"query": "{ myself { id } }"},
        headers={"Authorization": "k"},
    )
    assert graphql.status_code == 503


def test_a_seed_makes_the_faults_repeatable(runpod_emulator_factory: Factory) -> None:
    def outcomes(server: RunningEmulator) -> list[int]:
        with job_api(server) as api:
            return [api.get("/echo/status/missing").status_code for _ in range(30)]

    spec = "seed=7;status:503=0.5"
    first = outcomes(runpod_emulator_factory(faults=spec))
    second = outcomes(runpod_emulator_factory(faults=FaultSpec.parse(spec)))
    other_seed = outcomes(runpod_emulator_factory(faults="seed=8;status:503=0.5"))
    assert first == second
    assert set(first) == {404, 503}
    assert other_seed != first


def test_faults_can_be_set_through_the_admin_route(runpod_emulator: RunningEmulator) -> None:
    admin = f"{runpod_emulator.url}/_emulator/faults"
    spec = {"seed": 3, "routes": {"health": {"503": 1.0}}}
    assert httpx.post(admin, json=spec).json() == spec
    assert httpx.get(admin).json() == spec
    with job_api(runpod_emulator) as api:
        assert api.get("/echo/health").status_code == 503
        assert httpx.post(admin, json={"spec": "health:502=1"}).status_code == 200
        assert api.get("/echo/health").status_code == 502
        refused = httpx.post(admin, json={"routes": {"helth": {"503": 1}}})
        assert refused.status_code == 400
        assert "matches no route" in refused.json()["error"]
        assert api.get("/echo/health").status_code == 502
        assert httpx.post(admin, content=b"null").json() == {"seed": None, "routes": {}}
        assert api.get("/echo/health").status_code == 200


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("run:dorp=0.1", "unknown fault key"),
        ("run:503=1.5", "not between 0 and 1"),
        ("run:503=0.6,502=0.6", "add up to more than 1"),
        ("runn:503=0.1", "matches no route"),
        ("seed=x", "seed must be an integer"),
        ("run:503", "is not KEY=VALUE"),
        ("run:503=lots", "is not a number"),
        ("503=0.1", "is not ROUTES:KEY=VALUE"),
    ],
)
def test_invalid_specs_are_refused_with_a_reason(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultSpec.parse(spec)


def test_spec_string_and_dict_forms_agree() -> None:
    spec = FaultSpec.parse("seed=7;run:drop=0.05,503=0.05;status:429=0.1,latency=0.02")
    assert spec.to_dict() == {
        "seed": 7,
        "routes": {"run": {"503": 0.05, "drop": 0.05}, "status": {"429": 0.1, "latency": 0.02}},
    }
    assert FaultSpec.from_dict(spec.to_dict()) == spec


async def test_drop_under_a_server_without_uvicorn_raises_instead() -> None:
    emulator = Emulator(faults="health:drop=1")
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        with pytest.raises(ConnectionDropped):
            await client.get("/v2/echo/health", headers={"Authorization": "k"})
        emulator.set_faults(None)
        answer = await client.get("/v2/echo/health", headers={"Authorization": "k"})
    assert answer.json()["jobs"]["completed"] == 0


# ---------------------------------------------------------------------------- counters


def test_counters_count_requests_statuses_jobs_and_final_states(
    runpod_emulator: RunningEmulator,
) -> None:
    with job_api(runpod_emulator) as api:
        done = api.post("/echo/runsync", json={"input": "a"}).json()
        failed = api.post("/fail/runsync", json={"input": {"message": "no"}}).json()
        api.get("/echo/status/unknown")
        api.get("/echo/status/unknown")
        api.get("/nowhere")
    counters: dict[str, Any] = runpod_emulator.counters()
    assert counters["requests"] == {"runsync": 2, "status": 2, "unknown": 1}
    assert counters["responses"] == {
        "runsync": {"200": 2},
        "status": {"404": 2},
        "unknown": {"404": 1},
    }
    assert counters["requests_by_endpoint"] == {
        "echo": {"runsync": 1, "status": 2},
        "fail": {"runsync": 1},
    }
    assert counters["jobs_created"] == 2
    assert counters["jobs_by_input"] == {fingerprint("a"): 1, fingerprint({"message": "no"}): 1}
    assert counters["final_states"] == {done["id"]: "COMPLETED", failed["id"]: "FAILED"}
    assert counters["final_state_totals"] == {"COMPLETED": 1, "FAILED": 1}
    assert httpx.get(f"{runpod_emulator.url}/_emulator/counters").json() == counters


def test_fingerprints_ignore_key_order() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


# ---------------------------------------------------------------------------- rate limits


def test_runpod_rate_limits_answer_429_with_retry_after(runpod_emulator_factory: Factory) -> None:
    server = runpod_emulator_factory(rate_limits=True)
    with job_api(server) as api:
        answers = [api.post("/echo/purge-queue") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert 1 <= int(answers[2].headers["retry-after"]) <= 10
        assert "rate limit" in answers[2].json()["error"]
        assert api.post("/other/purge-queue").status_code == 200
        assert api.get("/echo/health").status_code == 200
