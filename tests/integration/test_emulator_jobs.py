"""The emulator's job API over loopback: routes, states, long polls, handlers, lifecycle.

Handlers that must hold a job in a known state wait at a `Gate` the test opens, so
every assertion is about order and state, never about how long something took.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from runpod_typed.emulator import JobSettings, RateLimit, RunningEmulator, progress_update

from . import Gate, eventually, job_api

EP = "ep"
Factory = Callable[..., RunningEmulator]


@pytest.fixture
def gates() -> Iterator[Callable[[], Gate]]:
    """Make gates; all are opened at teardown so no handler outlives its test."""
    made: list[Gate] = []

    def make() -> Gate:
        made.append(Gate())
        return made[-1]

    yield make
    for gate in made:
        gate.open()


def run(api: httpx.Client, job_input: Any, endpoint: str = EP, **extra: Any) -> str:
    response = api.post(f"/{endpoint}/run", json={"input": job_input, **extra})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "IN_QUEUE"
    job_id: str = body["id"]
    return job_id


def status(api: httpx.Client, job_id: str, endpoint: str = EP) -> dict[str, Any]:
    response = api.get(f"/{endpoint}/status/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def final(api: httpx.Client, job_id: str, endpoint: str = EP) -> dict[str, Any]:
    """Long-poll the job until it is final."""
    response = api.get(f"/{endpoint}/status-sync/{job_id}", params={"wait": 300_000})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] in {"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"}, body
    return body


def health(api: httpx.Client, endpoint: str = EP) -> dict[str, Any]:
    body: dict[str, Any] = api.get(f"/{endpoint}/health").json()
    return body


def in_thread(call: Callable[[], httpx.Response]) -> Callable[[], httpx.Response]:
    """Start `call` in a thread; the returned function joins it and gives its response."""
    result: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.start()

    def join() -> httpx.Response:
        thread.join()
        return result[0]

    return join


# ---------------------------------------------------------------------------- basic routes


def test_run_status_and_status_sync_by_get_and_post(runpod_emulator: RunningEmulator) -> None:
    with job_api(runpod_emulator) as api:
        response = api.post("/echo/run", json={"input": {"prompt": "hi"}})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        queued = response.json()
        assert set(queued) == {"id", "status"}
        assert queued["status"] == "IN_QUEUE"
        done = final(api, queued["id"], "echo")
        assert done["output"] == {"prompt": "hi"}
        assert {"delayTime", "executionTime", "workerId"} <= set(done)
        assert api.get(f"/echo/status/{queued['id']}").json() == done
        assert api.post(f"/echo/status/{queued['id']}").json() == done
        synced = api.post(f"/echo/status-sync/{queued['id']}", params={"wait": 1000})
        assert synced.json() == done


def test_runsync_answers_the_finished_job(runpod_emulator: RunningEmulator) -> None:
    with job_api(runpod_emulator) as api:
        body = api.post("/echo/runsync", json={"input": [1, 2, 3]}).json()
    assert body["status"] == "COMPLETED"
    assert body["output"] == [1, 2, 3]
    assert body["id"]


def test_runsync_answers_id_and_status_when_the_wait_ends_first(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()

    async def held(job: dict[str, Any]) -> str:
        await gate.wait()
        return "done"

    server = runpod_emulator_factory(handlers={EP: held}, settings=JobSettings(min_wait_ms=1))
    with job_api(server) as api:
        body = api.post(f"/{EP}/runsync", params={"wait": 20}, json={"input": {}}).json()
        assert set(body) == {"id", "status"}
        assert body["status"] in {"IN_QUEUE", "IN_PROGRESS"}
        gate.open()
        assert final(api, body["id"])["output"] == "done"


def test_job_moves_through_queue_progress_and_completion(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()

    def held(job: dict[str, Any]) -> Any:
        gate.wait_sync()
        return job["input"]

    server = runpod_emulator_factory(handlers={EP: held}, workers=1)
    with job_api(server) as api:
        first, second = run(api, 1), run(api, 2)
        gate.wait_reached()
        assert status(api, first)["status"] == "IN_PROGRESS"
        assert status(api, second) == {"id": second, "status": "IN_QUEUE"}
        assert health(api) == {
            "jobs": {"completed": 0, "failed": 0, "inProgress": 1, "inQueue": 1, "retried": 0},
            "workers": {
                "idle": 0,
                "running": 1,
                "initializing": 0,
                "ready": 0,
                "throttled": 0,
                "unhealthy": 0,
            },
        }
        gate.open()
        assert final(api, first)["output"] == 1
        assert final(api, second)["output"] == 2
        jobs = health(api)["jobs"]
        assert jobs["completed"] == 2
        assert jobs["inQueue"] == jobs["inProgress"] == 0


def test_status_sync_holds_until_the_job_is_final(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()

    async def held(job: dict[str, Any]) -> str:
        await gate.wait()
        return "finished"

    server = runpod_emulator_factory(handlers={EP: held})
    with job_api(server) as api, job_api(server) as poller:
        job_id = run(api, {})
        gate.wait_reached()
        pending = in_thread(
            lambda: poller.get(f"/{EP}/status-sync/{job_id}", params={"wait": 300_000})
        )
        eventually(lambda: server.counters()["requests"].get("status-sync"), "the long poll")
        assert status(api, job_id)["status"] == "IN_PROGRESS"
        gate.open()
        answer = pending().json()
    assert answer["status"] == "COMPLETED"
    assert answer["output"] == "finished"


def test_stream_returns_chunks_since_the_previous_call(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()

    def chunks(job: dict[str, Any]) -> Iterator[str]:
        yield "a"
        gate.wait_sync()
        yield "b"

    server = runpod_emulator_factory(handlers={EP: chunks})
    with job_api(server) as api:
        job_id = run(api, {})
        first = api.get(f"/{EP}/stream/{job_id}", params={"wait": 300_000}).json()
        assert first == {"id": job_id, "status": "IN_PROGRESS", "stream": [{"output": "a"}]}
        gate.wait_reached()
        assert api.post(f"/{EP}/stream/{job_id}").json()["stream"] == []
        gate.open()
        second = api.get(f"/{EP}/stream/{job_id}", params={"wait": 300_000}).json()
        assert second["stream"] == [{"output": "b"}]
        assert final(api, job_id)["output"] == []  # RunPod's default: no aggregation
        last = api.get(f"/{EP}/stream/{job_id}", params={"wait": 300_000}).json()
        assert last == {"id": job_id, "status": "COMPLETED", "stream": []}


# ---------------------------------------------------------------------------- handler kinds


def sync_handler(job: dict[str, Any]) -> Any:
    return {"got": job["input"]}


async def async_handler(job: dict[str, Any]) -> Any:
    await asyncio.sleep(0)
    return {"got": job["input"]}


def generator_handler(job: dict[str, Any]) -> Iterator[int]:
    yield from range(3)


async def async_generator_handler(job: dict[str, Any]) -> AsyncIterator[int]:
    for number in range(3):
        await asyncio.sleep(0)
        yield number


@pytest.mark.parametrize(
    ("handler", "output", "streamed"),
    [
        (sync_handler, {"got": "x"}, []),
        (async_handler, {"got": "x"}, []),
        # Generator functions stream; the final output is [] without return_aggregate_stream.
        (generator_handler, [], [0, 1, 2]),
        (async_generator_handler, [], [0, 1, 2]),
        ({"handler": generator_handler, "return_aggregate_stream": True}, [0, 1, 2], [0, 1, 2]),
    ],
)
def test_every_kind_of_handler(
    runpod_emulator_factory: Factory, handler: Any, output: Any, streamed: list[int]
) -> None:
    server = runpod_emulator_factory(handlers={EP: handler})
    with job_api(server) as api:
        job_id = run(api, "x")
        assert final(api, job_id)["output"] == output
        chunks = api.get(f"/{EP}/stream/{job_id}").json()["stream"]
    assert chunks == [{"output": n} for n in streamed]


def raises(job: dict[str, Any]) -> Any:
    raise ValueError("bad thing happened")


def returns_error(job: dict[str, Any]) -> Any:
    return {"error": "model refused"}


def returns_object(job: dict[str, Any]) -> Any:
    return object()


def huge_chunk(job: dict[str, Any]) -> Iterator[str]:
    yield "x" * (1024 * 1024 + 1)


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (raises, "bad thing happened"),
        (returns_error, "model refused"),
        (returns_object, "not JSON"),
        (huge_chunk, "exceeds the limit of 1048576 bytes"),
        ("fail", "the fail handler always fails"),
    ],
)
def test_failures_fail_the_job_with_their_message(
    runpod_emulator_factory: Factory, handler: Any, message: str
) -> None:
    server = runpod_emulator_factory(handlers={EP: handler})
    with job_api(server) as api:
        job = final(api, run(api, {}))
        assert job["status"] == "FAILED"
        assert message in job["error"]
        assert "output" not in job
        assert health(api)["jobs"]["failed"] == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_progress_is_the_output_while_in_progress(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate], kind: str
) -> None:
    gate = gates()

    def sync_progress(job: dict[str, Any]) -> str:
        progress_update(job, {"step": 1})
        gate.wait_sync()
        return "done"

    async def async_progress(job: dict[str, Any]) -> str:
        progress_update(job, {"step": 1})
        await gate.wait()
        return "done"

    handler = sync_progress if kind == "sync" else async_progress
    server = runpod_emulator_factory(handlers={EP: handler})
    with job_api(server) as api:
        job_id = run(api, {})
        gate.wait_reached()
        assert status(api, job_id)["output"] == {"step": 1}
        gate.open()
        assert final(api, job_id)["output"] == "done"


def test_builtin_demo_handler_combines_sleep_progress_and_tokens(
    runpod_emulator: RunningEmulator,
) -> None:
    with job_api(runpod_emulator) as api:
        job_input = {"sleep": 0.01, "progress": ["loading"], "output": ["once", "upon"]}
        job_id = run(api, job_input, "anything")
        assert final(api, job_id, "anything")["output"] == ["once", "upon"]
        plain = final(api, run(api, {"output": 42}, "anything"), "anything")
        assert plain["output"] == 42
        tokens = final(api, run(api, {"prompt": "a b c"}, "tokens"), "tokens")
        assert tokens["output"] == ["a", "b", "c"]
        slept = final(api, run(api, {"seconds": 0.01, "output": "z"}, "sleep"), "sleep")
        assert slept["output"] == "z"


# ---------------------------------------------------------------------------- cancel


def test_cancelled_queued_job_never_runs(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()
    seen: list[Any] = []

    def recording(job: dict[str, Any]) -> Any:
        seen.append(job["input"])
        gate.wait_sync()
        return job["input"]

    server = runpod_emulator_factory(handlers={EP: recording}, workers=1)
    with job_api(server) as api:
        first, second = run(api, "first"), run(api, "second")
        gate.wait_reached()
        cancelled = api.post(f"/{EP}/cancel/{second}").json()
        assert cancelled == {"id": second, "status": "CANCELLED"}
        assert health(api)["jobs"]["inQueue"] == 0
        gate.open()
        third = run(api, "third")
        assert final(api, third)["status"] == "COMPLETED"
        assert final(api, first)["status"] == "COMPLETED"
        assert status(api, second) == {"id": second, "status": "CANCELLED"}
    assert seen == ["first", "third"]


def test_cancelling_a_running_async_handler_cancels_its_task(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()
    stopped = threading.Event()

    async def held(job: dict[str, Any]) -> str:
        try:
            await gate.wait()
        except asyncio.CancelledError:
            stopped.set()
            raise
        return "never"

    server = runpod_emulator_factory(handlers={EP: held})
    with job_api(server) as api:
        job_id = run(api, {})
        gate.wait_reached()
        assert api.post(f"/{EP}/cancel/{job_id}").json()["status"] == "CANCELLED"
        assert stopped.wait(30)
        assert final(api, job_id)["status"] == "CANCELLED"
        assert health(api)["jobs"]["inProgress"] == 0


def test_a_cancelled_sync_handlers_late_result_is_discarded(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()
    returned = threading.Event()

    def held(job: dict[str, Any]) -> str:
        gate.wait_sync()
        returned.set()
        return "late"

    server = runpod_emulator_factory(handlers={EP: held})
    with job_api(server) as api:
        job_id = run(api, {})
        gate.wait_reached()
        api.post(f"/{EP}/cancel/{job_id}")
        gate.open()
        assert returned.wait(30)
        # a later job on the same endpoint completes, so the late result has been handled
        assert final(api, run(api, {}))["status"] == "COMPLETED"
        late = status(api, job_id)
        assert late["status"] == "CANCELLED"
        assert "output" not in late


def test_cancelling_a_finished_job_changes_nothing(runpod_emulator: RunningEmulator) -> None:
    with job_api(runpod_emulator) as api:
        job_id = run(api, "x", "echo")
        done = final(api, job_id, "echo")
        assert api.post(f"/echo/cancel/{job_id}").json() == {"id": job_id, "status": "COMPLETED"}
        assert status(api, job_id, "echo") == done


# ---------------------------------------------------------------------------- timeouts, retry


SHORT = JobSettings(min_execution_timeout_ms=1, min_ttl_ms=1, min_wait_ms=1)


def test_execution_timeout_times_the_job_out(runpod_emulator_factory: Factory) -> None:
    server = runpod_emulator_factory(settings=SHORT)
    with job_api(server) as api:
        job_id = run(api, {"seconds": 600}, "sleep", policy={"executionTimeout": 50})
        job = final(api, job_id, "sleep")
        assert job["status"] == "TIMED_OUT"
        assert "50 ms" in job["error"]
        assert health(api, "sleep")["jobs"]["failed"] == 1


@pytest.mark.parametrize("first_outcome", ["FAILED", "TIMED_OUT"])
def test_retry_requeues_a_failed_or_timed_out_job(
    runpod_emulator_factory: Factory, first_outcome: str
) -> None:
    attempts: list[str] = []

    async def flaky(job: dict[str, Any]) -> str:
        attempts.append(job["id"])
        if len(attempts) == 1:
            if first_outcome == "FAILED":
                raise RuntimeError("first attempt fails")
            await asyncio.sleep(600)
        return "second attempt works"

    server = runpod_emulator_factory(handlers={EP: flaky}, settings=SHORT)
    with job_api(server) as api:
        job_id = run(api, {}, policy={"executionTimeout": 100})
        assert final(api, job_id)["status"] == first_outcome
        retried = api.post(f"/{EP}/retry/{job_id}")
        assert retried.json() == {"id": job_id, "status": "IN_QUEUE"}
        job = final(api, job_id)
        assert job["status"] == "COMPLETED"
        assert job["output"] == "second attempt works"
        assert job["retries"] == 1
        assert "error" not in job
        assert health(api)["jobs"]["retried"] == 1
    assert attempts == [job_id, job_id]


def test_retry_is_refused_for_other_states(runpod_emulator_factory: Factory) -> None:
    server = runpod_emulator_factory(workers=0)
    with job_api(server) as api:
        queued = run(api, {}, "echo")
        refused = api.post(f"/echo/retry/{queued}")
        assert refused.status_code == 400
        assert refused.json() == {
            "error": f"job {queued} is IN_QUEUE: only FAILED or TIMED_OUT jobs can be retried"
        }
        assert status(api, queued, "echo") == {"id": queued, "status": "IN_QUEUE"}
        assert health(api, "echo")["jobs"]["retried"] == 0


# ---------------------------------------------------------------------------- ttl, retention


def test_ttl_expiry_makes_a_queued_job_disappear(runpod_emulator_factory: Factory) -> None:
    server = runpod_emulator_factory(workers=0, settings=SHORT)
    with job_api(server) as api:
        job_id = run(api, {}, "echo", policy={"ttl": 50})
        expired = api.get(f"/echo/status-sync/{job_id}", params={"wait": 300_000})
        assert expired.status_code == 404
        assert expired.json() == {"error": "request does not exist"}
        assert health(api, "echo")["jobs"]["inQueue"] == 0


def test_results_are_kept_for_the_retention_of_their_route(
    runpod_emulator_factory: Factory,
) -> None:
    settings = JobSettings(runsync_retention_seconds=0.05)
    server = runpod_emulator_factory(settings=settings)
    with job_api(server) as api:
        synced = api.post("/echo/runsync", json={"input": 1}).json()
        ran = run(api, 2, "echo")
        final(api, ran, "echo")

        def gone() -> bool | None:
            return api.get(f"/echo/status/{synced['id']}").status_code == 404 or None

        eventually(gone, "the runsync result to expire")
        assert status(api, ran, "echo")["output"] == 2


# ---------------------------------------------------------------------------- purge, priority


def test_purge_queue_removes_queued_jobs_only(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()

    def held(job: dict[str, Any]) -> str:
        gate.wait_sync()
        return "ran"

    server = runpod_emulator_factory(handlers={EP: held}, workers=1)
    with job_api(server) as api:
        running = run(api, {})
        gate.wait_reached()
        queued = [run(api, {"n": n}) for n in range(2)]
        assert api.post(f"/{EP}/purge-queue").json() == {"removed": 2, "status": "completed"}
        for job_id in queued:
            assert api.get(f"/{EP}/status/{job_id}").status_code == 404
        assert health(api)["jobs"]["inQueue"] == 0
        gate.open()
        assert final(api, running)["output"] == "ran"
        assert api.post(f"/{EP}/purge-queue").json()["removed"] == 0


def test_low_priority_jobs_run_after_normal_ones(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()
    order: list[str] = []

    def recording(job: dict[str, Any]) -> None:
        order.append(job["input"])
        gate.wait_sync()

    server = runpod_emulator_factory(handlers={EP: recording}, workers=1)
    with job_api(server) as api:
        jobs = [run(api, "first")]
        gate.wait_reached()
        jobs.append(run(api, "low", policy={"lowPriority": True}))
        jobs.append(run(api, "normal"))
        gate.open()
        for job_id in jobs:
            final(api, job_id)
    assert order == ["first", "normal", "low"]


# ---------------------------------------------------------------------------- options


def test_without_long_poll_clients_must_poll(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()

    async def held(job: dict[str, Any]) -> AsyncIterator[str]:
        await gate.wait()
        yield "late"

    server = runpod_emulator_factory(handlers={EP: held}, long_poll=False)
    with job_api(server) as api:
        synced = api.post(f"/{EP}/runsync", params={"wait": 300_000}, json={"input": {}})
        assert synced.json()["status"] in {"IN_QUEUE", "IN_PROGRESS"}
        job_id = synced.json()["id"]
        missing = api.get(f"/{EP}/status-sync/{job_id}", params={"wait": 300_000})
        assert missing.status_code == 404
        assert missing.text == "404 page not found"
        page = api.get(f"/{EP}/stream/{job_id}", params={"wait": 300_000}).json()
        assert page["stream"] == []
        assert page["status"] in {"IN_QUEUE", "IN_PROGRESS"}


def test_concurrency_limit_answers_429_while_the_slot_is_held(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()

    async def held(job: dict[str, Any]) -> str:
        await gate.wait()
        return "done"

    server = runpod_emulator_factory(
        handlers={EP: held}, rate_limits={"status": RateLimit(1000, concurrent=1)}
    )
    with job_api(server) as api, job_api(server) as poller:
        job_id = run(api, {})
        pending = in_thread(
            lambda: poller.get(f"/{EP}/status-sync/{job_id}", params={"wait": 300_000})
        )
        eventually(lambda: server.counters()["requests"].get("status-sync"), "the long poll")
        limited = api.get(f"/{EP}/status/{job_id}")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        gate.open()
        assert pending().json()["status"] == "COMPLETED"
        assert status(api, job_id)["status"] == "COMPLETED"


def test_python_helpers_read_and_reset_state(runpod_emulator: RunningEmulator) -> None:
    with job_api(runpod_emulator) as api:
        job_id = run(api, {"a": 1}, "echo")
        done = final(api, job_id, "echo")
        assert runpod_emulator.job_state("echo", job_id) == done
        assert runpod_emulator.job_state("other", job_id) is None
        admin = httpx.get(f"{runpod_emulator.url}/_emulator/jobs/echo/{job_id}")
        assert admin.json() == done
        runpod_emulator.reset()
        assert runpod_emulator.job_state("echo", job_id) is None
        assert runpod_emulator.counters()["jobs_created"] == 0
        assert api.get(f"/echo/status/{job_id}").status_code == 404
        assert final(api, run(api, "after reset", "echo"), "echo")["output"] == "after reset"
