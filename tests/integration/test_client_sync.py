"""The blocking client against the emulator over loopback: every public method."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest

from runpod_typed import (
    AuthenticationError,
    InvalidRequestError,
    JobCancelled,
    JobFailed,
    JobState,
    JobStatus,
    NotFoundError,
    OutputValidationError,
    PayloadTooLargeError,
    Policy,
    PollingOptions,
    Runpod,
    WaitTimeout,
)

FAST = PollingOptions(first_delay=0.05, max_delay=0.2)


class Echo(pydantic.BaseModel):
    prompt: str
    n: int


@pytest.fixture
def rp(runpod_emulator: Any) -> Iterator[Runpod]:
    with Runpod(
        "test-key",
        api_base_url=runpod_emulator.url,
        endpoint_base_url=runpod_emulator.endpoint_base_url,
        polling=FAST,
    ) as client:
        yield client


def wait_for_state(server: Any, endpoint_id: str, job_id: str, *states: str) -> str:
    """The emulator's view of a job, once it reaches one of `states` (bounded)."""
    for _ in range(200):
        state = str((server.job_state(endpoint_id, job_id) or {}).get("status"))
        if state in states:
            return state
        time.sleep(0.02)
    return state


def test_run_sync_returns_typed_output(rp: Runpod) -> None:
    result = rp.endpoint("echo").run_sync({"prompt": "sunset", "n": 3}, output_type=Echo)
    assert result == Echo(prompt="sunset", n=3)


def test_run_sync_untyped_returns_raw_json(rp: Runpod) -> None:
    assert rp.endpoint("echo").run_sync({"a": [1, 2]}) == {"a": [1, 2]}


def test_run_then_status_and_output(rp: Runpod) -> None:
    job = rp.endpoint("sleep").run({"seconds": 0.2, "output": {"prompt": "x", "n": 1}})
    first = job.status()
    assert isinstance(first, JobStatus)
    assert first.id == job.id
    assert first.state in (JobState.IN_QUEUE, JobState.IN_PROGRESS)
    assert job.output(Echo) == Echo(prompt="x", n=1)
    final = job.status()
    assert final.state is JobState.COMPLETED
    assert final.execution_time_ms is not None


def test_failed_job_raises_job_failed_with_worker_message(rp: Runpod) -> None:
    with pytest.raises(JobFailed) as caught:
        rp.endpoint("fail").run_sync({"message": "out of VRAM"})
    assert "out of VRAM" in str(caught.value)
    assert "out of VRAM" in str(caught.value.error)


def test_output_mismatch_keeps_raw(rp: Runpod) -> None:
    with pytest.raises(OutputValidationError) as caught:
        rp.endpoint("echo").run_sync({"prompt": 5}, output_type=Echo)
    assert caught.value.raw == {"prompt": 5}


def test_cancel_running_job(rp: Runpod, runpod_emulator: Any) -> None:
    job = rp.endpoint("sleep").run({"seconds": 30})
    wait_for_state(runpod_emulator, "sleep", job.id, "IN_PROGRESS")
    assert job.cancel().state is JobState.CANCELLED
    with pytest.raises(JobCancelled):
        job.output()


def test_client_timeout_cancels_remote_job(rp: Runpod, runpod_emulator: Any) -> None:
    job = rp.endpoint("sleep").run({"seconds": 30})
    with pytest.raises(WaitTimeout) as caught:
        job.output(timeout=0.3)
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.cancelled
    assert wait_for_state(runpod_emulator, "sleep", job.id, "CANCELLED") == "CANCELLED"


def test_run_sync_timeout_cancels_remote_job(rp: Runpod, runpod_emulator: Any) -> None:
    with pytest.raises(WaitTimeout) as caught:
        rp.endpoint("sleep").run_sync({"seconds": 30}, timeout=0.3)
    counters = runpod_emulator.counters()
    states = counters["final_states"]
    assert list(states.values()) == ["CANCELLED"], states
    assert caught.value.job_id is not None


def test_timeout_with_cancel_on_exit_false_leaves_job(rp: Runpod, runpod_emulator: Any) -> None:
    job = rp.endpoint("sleep").run({"seconds": 2}, cancel_on_exit=False)
    with pytest.raises(WaitTimeout) as caught:
        job.output(timeout=0.2)
    assert not caught.value.cancelled
    assert wait_for_state(runpod_emulator, "sleep", job.id, "COMPLETED", "CANCELLED") == "COMPLETED"


def test_keyboard_interrupt_cancels_remote_job(rp: Runpod, runpod_emulator: Any) -> None:
    job = rp.endpoint("sleep").run({"seconds": 30})

    def interrupt(status: JobStatus) -> None:
        if status.state is JobState.IN_PROGRESS:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        job.output(on_status=interrupt)
    assert wait_for_state(runpod_emulator, "sleep", job.id, "CANCELLED") == "CANCELLED"


def test_stream_delivers_every_chunk_in_order(rp: Runpod) -> None:
    words = [f"w{i}" for i in range(20)]
    job = rp.endpoint("tokens").run({"prompt": " ".join(words), "delay": 0.01})
    assert list(job.stream(str)) == words


def test_stream_early_break_cancels_job(rp: Runpod, runpod_emulator: Any) -> None:
    job = rp.endpoint("tokens").run({"prompt": " ".join(["x"] * 200), "delay": 0.05})
    for _chunk in job.stream():
        break
    assert wait_for_state(runpod_emulator, "tokens", job.id, "CANCELLED") == "CANCELLED"


def _breaks_mid_stream(job: dict[str, Any]) -> Iterator[str]:
    yield "a"
    yield "b"
    raise RuntimeError("broke mid-stream")


def test_stream_failure_raises_after_delivered_chunks(runpod_emulator_factory: Any) -> None:
    server = runpod_emulator_factory(handlers={"broken": _breaks_mid_stream})
    with Runpod("k", endpoint_base_url=server.endpoint_base_url, polling=FAST) as client:
        job = client.endpoint("broken").run({})
        seen: list[Any] = []
        with pytest.raises(JobFailed, match="broke mid-stream"):
            for chunk in job.stream():
                seen.append(chunk)
    assert seen == ["a", "b"]


def test_on_status_sees_states_and_progress(rp: Runpod) -> None:
    seen: list[tuple[JobState, Any]] = []
    rp.endpoint("demo").run_sync(
        {"sleep": 0.6, "progress": ["loading", "sampling"]},
        on_status=lambda s: seen.append((s.state, s.output)),
        polling=PollingOptions(first_delay=0.05, max_delay=0.1, progress_interval=0.1),
    )
    states = [state for state, _ in seen]
    assert states[-1] is JobState.COMPLETED
    progress = [out for state, out in seen if state is JobState.IN_PROGRESS]
    assert "sampling" in progress


def test_retry_requeues_failed_job(rp: Runpod) -> None:
    job = rp.endpoint("fail").run({"message": "flaky"})
    with pytest.raises(JobFailed):
        job.output()
    again = job.retry()
    assert again.id == job.id
    assert again.state in (JobState.IN_QUEUE, JobState.IN_PROGRESS, JobState.FAILED)


def test_health_and_purge_queue(rp: Runpod) -> None:
    ep = rp.endpoint("sleep")
    jobs = [ep.run({"seconds": 5}, cancel_on_exit=False) for _ in range(12)]
    health = ep.health()
    assert health.jobs_in_queue + health.jobs_in_progress == len(jobs)
    purged = ep.purge_queue()
    assert purged.removed == health.jobs_in_queue
    assert ep.health().jobs_in_queue == 0
    with pytest.raises(NotFoundError):  # a purged job is gone
        jobs[-1].status()


def test_map_keeps_input_order_and_returns_errors(rp: Runpod) -> None:
    ep = rp.endpoint("demo")
    inputs: list[dict[str, Any]] = [{"output": i} for i in range(10)]
    inputs[4] = {"fail": "bad item"}
    progress: list[tuple[int, int]] = []
    results = ep.map(
        inputs,
        output_type=int,
        concurrency=4,
        return_exceptions=True,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert [r for i, r in enumerate(results) if i != 4] == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert isinstance(results[4], JobFailed)
    assert progress[-1] == (10, 10)
    with pytest.raises(JobFailed):
        ep.map(inputs, concurrency=4)


def test_policy_is_validated_before_sending(rp: Runpod, runpod_emulator: Any) -> None:
    with pytest.raises(InvalidRequestError, match="execution_timeout"):
        rp.endpoint("echo").run({"x": 1}, policy=Policy(execution_timeout=-1))
    assert runpod_emulator.counters()["jobs_created"] == 0


def test_server_side_execution_timeout(rp: Runpod) -> None:
    from runpod_typed import JobTimedOut

    with pytest.raises(JobTimedOut):
        rp.endpoint("sleep").run_sync(
            {"seconds": 30}, policy=Policy(execution_timeout=5.0), timeout=20
        )


def test_oversized_payload_refused_client_side(rp: Runpod, runpod_emulator: Any) -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        rp.endpoint("echo").run({"blob": "x" * (11 * 1024 * 1024)})
    assert caught.value.limit == 10 * 1024 * 1024
    assert runpod_emulator.counters()["jobs_created"] == 0


def test_wrong_key_is_authentication_error(runpod_emulator_factory: Any) -> None:
    server = runpod_emulator_factory(api_key="right-key")
    with (
        Runpod("wrong-key", endpoint_base_url=server.endpoint_base_url) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.endpoint("echo").run_sync({"x": 1})
    assert caught.value.status_code == 401
    assert "wrong-key" not in str(caught.value)


def test_fallback_to_polling_without_long_poll(runpod_emulator_factory: Any) -> None:
    server = runpod_emulator_factory(long_poll=False)
    with Runpod("k", endpoint_base_url=server.endpoint_base_url, polling=FAST) as client:
        ep = client.endpoint("sleep")
        assert ep.run_sync({"seconds": 0.3, "output": "done"}) == "done"
        assert ep.run_sync({"seconds": 0.1, "output": "again"}) == "again"
        counts = server.counters()["requests"]
        assert counts.get("unknown") == 1  # /status-sync probed once per client, then polled
        assert counts["status"] >= 2


def test_client_is_usable_from_threads(rp: Runpod) -> None:
    ep = rp.endpoint("echo")
    results: list[Any] = [None] * 8

    def work(i: int) -> None:
        results[i] = ep.run_sync({"i": i})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [{"i": i} for i in range(8)]
