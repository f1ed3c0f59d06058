"""Real worker files, unchanged, served by the emulator the way RunPod serves them.

The files in tests/workers/ call ``runpod.serverless.start`` at module level, as public
workers do; the emulator runs each as its own process with the official runtime of
.official-venv (runpod 1.12.0), which takes the jobs over the worker routes and decides
outputs, errors, streaming, aggregation, progress and refresh. The tests drive them with
runpod-typed (blocking and async) and with the official client (in its own venv), and
assert what RunPod's runtime produces. One emulator (one process per endpoint) serves
the whole module: worker start-up costs seconds.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runpod_typed import AsyncRunpod, JobFailed, PollingOptions, Runpod
from runpod_typed.emulator import Emulator, JobSettings, RunningEmulator
from runpod_typed.emulator._settings import WorkerSettings

pytestmark = pytest.mark.compat

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_PYTHON = ROOT / ".official-venv" / "bin" / "python"
WORKERS = ROOT / "tests" / "workers"
RUNPOD_VERSION = "1.12.0"
FAST = PollingOptions(first_delay=0.05, max_delay=0.2)
#: Short worker timings, so stuck jobs and restarts show within a test.
WORKER_SETTINGS = WorkerSettings(
    ping_interval_ms=1000,
    stop_grace_seconds=3,
    terminate_grace_seconds=3,
    restart_delay_seconds=0.2,
)
#: Bound for anything that involves a worker (re)starting.
PATIENCE = 60.0

ENDPOINTS: dict[str, list[str]] = {
    "plain": ["plain.py"],
    "async": ["async_handler.py", "--concurrency", "3"],
    "generator": ["generator.py"],
    "generator-aggregate": ["generator.py", "--aggregate"],
    "async-generator": ["async_generator.py"],
    # The tests that restart their worker share one (each ends once it is back).
    "restarts": ["plain.py"],
}


def _official_python() -> Path:
    if not OFFICIAL_PYTHON.exists():
        pytest.fail(f"{OFFICIAL_PYTHON} is missing: run make setup")
    return OFFICIAL_PYTHON


def _until(check: Callable[[], Any], what: str, patience: float = PATIENCE) -> Any:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _ready(server: RunningEmulator, endpoint_id: str) -> bool:
    """The endpoint's worker has polled for jobs (its runtime is up)."""
    answer = httpx.get(
        f"{server.endpoint_base_url}/{endpoint_id}/health", headers={"Authorization": "k"}
    )
    workers = answer.json()["workers"]
    return bool(workers["idle"] + workers["running"] == 1)


def _state(server: RunningEmulator, endpoint_id: str, job_id: str) -> str | None:
    state = server.job_state(endpoint_id, job_id)
    return None if state is None else str(state["status"])


def _pid(server: RunningEmulator, endpoint_id: str) -> int:
    (pid,) = server.worker_processes(endpoint_id)
    assert pid is not None
    return pid


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def server() -> Iterator[RunningEmulator]:
    """The module's emulator; leaving it (the Python API's context exit) must end every
    worker process promptly, or the last test of the module errors."""
    python = _official_python()
    emulator = Emulator(
        worker_files={
            endpoint_id: [str(WORKERS / command[0]), *command[1:]]
            for endpoint_id, command in ENDPOINTS.items()
        },
        worker_python=str(python),
        workers=1,
        rate_limits=False,
        settings=JobSettings(min_execution_timeout_ms=1000),
        worker_settings=WORKER_SETTINGS,
    )
    with emulator.serve() as running:
        for endpoint_id in ENDPOINTS:
            _until(functools.partial(_ready, running, endpoint_id), f"the {endpoint_id} worker")
        yield running
        pids = [pid for e in ENDPOINTS for pid in running.worker_processes(e) if pid is not None]
        stopping = time.monotonic()
    took = time.monotonic() - stopping
    assert took < WORKER_SETTINGS.terminate_grace_seconds + 2, f"shutdown took {took:.1f} s"
    assert all(_gone(pid) for pid in pids), "a worker process outlived the emulator"


@pytest.fixture
def rp(server: RunningEmulator) -> Iterator[Runpod]:
    with Runpod(
        "test-key",
        api_base_url=server.url,
        endpoint_base_url=server.endpoint_base_url,
        polling=FAST,
    ) as client:
        yield client


def _async_client(server: RunningEmulator) -> AsyncRunpod:
    return AsyncRunpod(
        "test-key",
        api_base_url=server.url,
        endpoint_base_url=server.endpoint_base_url,
        polling=FAST,
    )


# ---------------------------------------------------------------------------- runpod-typed


def test_plain_handler_runs_in_the_worker_with_runpods_environment(
    rp: Runpod,
) -> None:
    job = rp.endpoint("plain").run({"value": 5})
    assert job.output(timeout=PATIENCE) == {"echo": 5, "worker": "plain-worker-0"}
    assert job.status().worker_id == "plain-worker-0"


def test_an_exception_fails_the_job_with_the_runtimes_json_error(rp: Runpod) -> None:
    job = rp.endpoint("plain").run({"action": "raise", "message": "bad input"})
    with pytest.raises(JobFailed) as failed:
        job.output(timeout=PATIENCE)
    assert isinstance(failed.value.error, str)
    error = json.loads(failed.value.error)
    assert error["error_type"] == "<class 'ValueError'>"
    assert error["error_message"] == "bad input"
    assert "plain.py" in error["error_traceback"]
    assert "ValueError: bad input" in error["error_traceback"]
    assert error["hostname"] == error["worker_id"] == "plain-worker-0"
    assert error["runpod_version"] == RUNPOD_VERSION
    assert job.status().state == "FAILED"


def test_returned_dicts_are_read_as_the_runtime_reads_them(rp: Runpod) -> None:
    plain = rp.endpoint("plain")
    jobs = {
        action: plain.run({"action": action, "message": "told to fail"})
        for action in ("error", "error_none", "empty")
    }
    with pytest.raises(JobFailed) as failed:
        jobs["error"].output(timeout=PATIENCE)
    assert failed.value.error == "told to fail"  # the string itself, not a JSON wrapper
    # {"error": None, ...}: the runtime pops the key and completes the job.
    assert jobs["error_none"].output(timeout=PATIENCE) == {"result": 1}
    # {}: the runtime drops an empty output; RunPod shows a COMPLETED job without one.
    assert jobs["empty"].output(timeout=PATIENCE) is None
    status = jobs["empty"].status()
    assert status.state == "COMPLETED"
    assert "output" not in status.raw


def test_async_handler_and_its_exception(server: RunningEmulator) -> None:
    async def main() -> tuple[Any, JobFailed]:
        async with _async_client(server) as rp:
            endpoint = rp.endpoint("async")
            output = await endpoint.run_sync({"value": 7}, timeout=PATIENCE)
            job = await endpoint.run({"fail": "async boom"})
            with pytest.raises(JobFailed) as failed:
                await job.output(timeout=PATIENCE)
            return output, failed.value

    output, failed = asyncio.run(main())
    assert output["async"] == 7
    error = json.loads(failed.error)
    assert error["error_type"] == "<class 'RuntimeError'>"
    assert error["error_message"] == "async boom"


def test_a_concurrent_worker_takes_jobs_in_batches_and_runs_them_together(
    server: RunningEmulator,
) -> None:
    async def main() -> list[Any]:
        async with _async_client(server) as rp:
            endpoint = rp.endpoint("async")
            return await endpoint.map(
                [{"value": n, "seconds": 2.5} for n in range(3)], timeout=PATIENCE
            )

    outputs = asyncio.run(main())
    assert [output["async"] for output in outputs] == [0, 1, 2]
    assert len({output["pid"] for output in outputs}) == 1  # one process ran all three
    latest_start = max(output["started"] for output in outputs)
    earliest_end = min(output["finished"] for output in outputs)
    assert latest_start < earliest_end, "the three jobs did not run at the same time"


def test_generator_streams_chunks_and_its_final_output_is_empty(rp: Runpod) -> None:
    job = rp.endpoint("generator").run({"count": 3, "delay": 0.1})
    assert list(job.stream(timeout=PATIENCE)) == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert job.output(timeout=PATIENCE) == []  # RunPod's default: no aggregation


def test_return_aggregate_stream_makes_the_chunks_the_output(rp: Runpod) -> None:
    job = rp.endpoint("generator-aggregate").run({"count": 3})
    assert list(job.stream(timeout=PATIENCE)) == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert job.output(timeout=PATIENCE) == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_async_generator_streams_and_aggregates(server: RunningEmulator) -> None:
    async def main() -> tuple[list[Any], Any]:
        async with _async_client(server) as rp:
            job = await rp.endpoint("async-generator").run({"prompt": "one two three"})
            chunks = [chunk async for chunk in job.stream(timeout=PATIENCE)]
            return chunks, await job.output(timeout=PATIENCE)

    chunks, output = asyncio.run(main())
    assert chunks == ["one", "two", "three"]
    assert output == ["one", "two", "three"]


def test_an_error_chunk_ends_the_stream_and_fails_the_job(rp: Runpod) -> None:
    job = rp.endpoint("generator").run({"count": 4, "error_at": 2})
    with pytest.raises(JobFailed) as failed:
        job.output(timeout=PATIENCE)
    assert failed.value.error == "chunk 2 failed"
    assert rp.endpoint("generator").job(job.id).status().state == "FAILED"


def test_a_generator_that_raises_fails_with_the_runtimes_message(rp: Runpod) -> None:
    job = rp.endpoint("generator").run({"count": 3, "raise_at": 1})
    with pytest.raises(JobFailed) as failed:
        job.output(timeout=PATIENCE)
    assert failed.value.error.startswith("handler: raised at chunk 1 \ntraceback: ")


def test_progress_updates_are_the_status_output_while_in_progress(rp: Runpod) -> None:
    job = rp.endpoint("plain").run(
        {"action": "progress", "steps": ["loading", "working"], "delay": 0.8}
    )
    seen: list[Any] = []
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        status = job.status()
        if status.is_final:
            break
        fresh = status.output is not None and (not seen or seen[-1] != status.output)
        if status.state == "IN_PROGRESS" and fresh:
            seen.append(status.output)
        time.sleep(0.05)
    assert seen == ["loading", "working"]
    assert job.output(timeout=PATIENCE) == "done"


def test_refresh_worker_is_stripped_and_restarts_the_worker(
    rp: Runpod, server: RunningEmulator
) -> None:
    endpoint = rp.endpoint("restarts")
    first = endpoint.run_sync({"action": "refresh"}, timeout=PATIENCE)
    assert set(first) == {"pid"}  # refresh_worker is the runtime's, not the output's
    second = endpoint.run_sync({"action": "pid"}, timeout=PATIENCE)
    assert second != first["pid"]
    assert _pid(server, "restarts") == second


def test_a_crash_fails_only_its_job_and_the_worker_comes_back(
    rp: Runpod, server: RunningEmulator
) -> None:
    endpoint = rp.endpoint("restarts")
    before = _pid(server, "restarts")
    job = endpoint.run({"action": "crash"})
    with pytest.raises(JobFailed) as failed:
        job.output(timeout=PATIENCE)
    assert (
        failed.value.error == "worker restarts-worker-0 exited with code 3 while running this job"
    )
    assert endpoint.run_sync({"value": "after"}, timeout=PATIENCE)["echo"] == "after"
    assert _pid(server, "restarts") != before
    assert rp.endpoint("plain").run_sync({"value": 1}, timeout=PATIENCE)["echo"] == 1


def test_cancel_and_timeout_reach_the_worker_through_its_stop_channel(
    rp: Runpod, server: RunningEmulator
) -> None:
    endpoint = rp.endpoint("async")
    pid = _pid(server, "async")
    # A 1 s executionTimeout (the SDK refuses less than RunPod's 5 s; the emulator is
    # told to accept it), sent as is.
    timing_out = httpx.post(
        f"{server.endpoint_base_url}/async/run",
        json={"input": {"seconds": 60}, "policy": {"executionTimeout": 1000}},
        headers={"Authorization": "k"},
    ).json()["id"]
    cancelled = endpoint.run({"seconds": 60})
    _until(lambda: _state(server, "async", cancelled.id) == "IN_PROGRESS", "the job to start")
    assert cancelled.cancel().state == "CANCELLED"
    _until(lambda: _state(server, "async", timing_out) == "TIMED_OUT", "the timeout")
    assert endpoint.job(timing_out).status().state == "TIMED_OUT"
    # The worker runs three at once: the stopped jobs freed their slots.
    assert endpoint.run_sync({"value": "next"}, timeout=PATIENCE)["async"] == "next"
    # The runtime stopped both handlers' tasks: the worker is not restarted for them.
    time.sleep(WORKER_SETTINGS.stop_grace_seconds + 1)
    assert _pid(server, "async") == pid
    assert cancelled.status().state == "CANCELLED"


def test_a_sync_handler_that_cannot_stop_gets_its_worker_restarted(
    rp: Runpod, server: RunningEmulator
) -> None:
    endpoint = rp.endpoint("restarts")
    pid = _pid(server, "restarts")
    job = endpoint.run({"action": "sleep", "seconds": 120})
    _until(lambda: _state(server, "restarts", job.id) == "IN_PROGRESS", "the job to start")
    assert job.cancel().state == "CANCELLED"
    # time.sleep blocks the runtime's loop: after the grace the worker is restarted.
    assert endpoint.run_sync({"action": "pid"}, timeout=PATIENCE) != pid
    assert job.status().state == "CANCELLED"


# ---------------------------------------------------------------------------- official client

OFFICIAL_SCRIPT = r"""
import json, threading, time

import runpod

runpod.api_key = "official-key"
results = {}


def record(name, function, *args, **kwargs):
    try:
        results[name] = {"ok": function(*args, **kwargs)}
    except Exception as exc:
        results[name] = {"error": type(exc).__name__, "message": str(exc)}


def plain():
    plain = runpod.Endpoint("plain")
    record("plain", plain.run_sync, {"value": 3}, timeout=60)
    record("raised", plain.run_sync, {"action": "raise", "message": "official"}, timeout=60)
    failed = plain.run({"action": "raise", "message": "official"})
    record("raised_output", failed.output, timeout=60)
    record("raised_status", plain.rp_client.get, f"plain/status/{failed.job_id}")
    record("error", plain.run_sync, {"action": "error", "message": "returned"}, timeout=60)


def generator():
    job = runpod.Endpoint("generator").run({"count": 3})
    record("stream", lambda: list(job.stream()))
    record("stream_output", job.output, timeout=60)


def aggregate():
    job = runpod.Endpoint("generator-aggregate").run({"count": 2})
    record("aggregate_output", job.output, timeout=60)
    words = runpod.Endpoint("async-generator").run({"prompt": "a b c"})
    record("words", lambda: list(words.stream()))


def concurrent():
    endpoint = runpod.Endpoint("async")
    record("async", endpoint.run_sync, {"value": "x"}, timeout=60)
    sleeper = endpoint.run({"seconds": 60})
    for _ in range(600):
        if sleeper.status() == "IN_PROGRESS":
            break
        time.sleep(0.05)
    record("cancel", sleeper.cancel)
    record("cancelled_status", endpoint.rp_client.get, f"async/status/{sleeper.job_id}")


threads = [threading.Thread(target=f) for f in (plain, generator, aggregate, concurrent)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def official(server: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path_factory.mktemp("home")),  # no developer ~/.runpod/config.toml
        "NO_PROXY": "127.0.0.1",
        "RUNPOD_ENDPOINT_BASE_URL": server.endpoint_base_url,
    }
    done = subprocess.run(
        [str(_official_python()), "-c", OFFICIAL_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, Any] = json.loads(done.stdout)
    return results


def _ok(results: dict[str, Any], name: str) -> Any:
    assert "ok" in results[name], (name, results[name])
    return results[name]["ok"]


def test_official_client_outputs_and_errors(official: dict[str, Any]) -> None:
    assert _ok(official, "plain") == {"echo": 3, "worker": "plain-worker-0"}
    assert _ok(official, "async")["async"] == "x"
    assert _ok(official, "raised") is None  # a FAILED job has no output
    assert _ok(official, "raised_output") is None
    status = _ok(official, "raised_status")
    assert status["status"] == "FAILED"
    error = json.loads(status["error"])
    assert error["error_message"] == "official"
    assert error["runpod_version"] == RUNPOD_VERSION
    assert _ok(official, "error") is None


def test_official_client_streams(official: dict[str, Any]) -> None:
    assert _ok(official, "stream") == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert _ok(official, "stream_output") == []
    assert _ok(official, "aggregate_output") == [{"n": 0}, {"n": 1}]
    assert _ok(official, "words") == ["a", "b", "c"]


def test_official_client_cancels_a_running_job(official: dict[str, Any]) -> None:
    assert _ok(official, "cancel")["status"] == "CANCELLED"
    assert _ok(official, "cancelled_status")["status"] == "CANCELLED"


# ---------------------------------------------------------------------------- lifecycle


def test_command_line_default_worker_and_sigint() -> None:
    """``--worker FILE ARGS`` without an endpoint id serves any id; SIGINT (Ctrl-C) stops
    the emulator and its workers promptly, with status 0."""
    python = _official_python()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runpod_typed.emulator",
            "--port",
            "0",
            "--workers",
            "1",
            "--worker-python",
            str(python),
            "--worker",
            f"{WORKERS / 'plain.py'} --ignored-arg",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("READY http://127.0.0.1:"), ready
        url = ready.split()[1]
        with httpx.Client(base_url=f"{url}/v2", headers={"Authorization": "k"}) as api:
            echo = api.post("/any-id/runsync", json={"input": {"value": 1}}, timeout=PATIENCE)
            assert echo.json()["output"] == {"echo": 1, "worker": "any-id-worker-0"}
            pid = api.post("/any-id/runsync", json={"input": {"action": "pid"}}).json()["output"]
        assert isinstance(pid, int)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert time.monotonic() - started < 10
        _until(lambda: _gone(pid), "the worker to stop", patience=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
