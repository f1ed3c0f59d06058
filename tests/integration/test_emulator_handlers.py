"""In-process handlers (``--handler``) with the official worker runtime's semantics.

Three parts:

- the emulated runtime (this venv has no `runpod`): results, errors, refresh,
  streaming, aggregation, crashes, cancelled sync handlers, shutdown;
- the emulated runtime's functions against runpod's own (a script in .official-venv);
- equivalence: the unchanged worker files of tests/workers, served in-process by an
  emulator running in .official-venv (so runpod's own functions shape the results)
  and as worker processes (`--worker`, the real runtime) by the same emulator, must
  give the same status, output, stream and error (modulo tracebacks, hosts, pids).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runpod_typed.emulator import Emulator, JobSettings, RunningEmulator
from runpod_typed.emulator._runtime import EMULATED_VERSION
from runpod_typed.emulator.handlers import HandlerLoadError, load_handler

from . import PATIENCE_SECONDS, Gate, eventually, job_api

EP = "ep"
Factory = Callable[..., RunningEmulator]
ROOT = Path(__file__).resolve().parents[2]
WORKERS = ROOT / "tests" / "workers"
OFFICIAL_PYTHON = ROOT / ".official-venv" / "bin" / "python"
RUNPOD_VERSION = "1.12.0"


@pytest.fixture
def gates() -> Iterator[Callable[[], Gate]]:
    made: list[Gate] = []

    def make() -> Gate:
        made.append(Gate())
        return made[-1]

    yield make
    for gate in made:
        gate.open()


def run(api: httpx.Client, job_input: Any, endpoint: str = EP) -> str:
    response = api.post(f"/{endpoint}/run", json={"input": job_input})
    assert response.status_code == 200, response.text
    job_id: str = response.json()["id"]
    return job_id


def final(api: httpx.Client, job_id: str, endpoint: str = EP) -> dict[str, Any]:
    response = api.get(f"/{endpoint}/status-sync/{job_id}", params={"wait": 300_000})
    body: dict[str, Any] = response.json()
    assert body["status"] in {"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"}, body
    return body


def state(api: httpx.Client, job_id: str, endpoint: str = EP) -> str:
    return str(api.get(f"/{endpoint}/status/{job_id}").json()["status"])


def chunks(api: httpx.Client, job_id: str, endpoint: str = EP) -> list[Any]:
    return [item["output"] for item in api.get(f"/{endpoint}/stream/{job_id}").json()["stream"]]


# ---------------------------------------------------------------------------- the emulated runtime


def returns_error_none(job: dict[str, Any]) -> Any:
    return {"error": None, "result": 1}


def returns_empty(job: dict[str, Any]) -> Any:
    return {}


def returns_error_beside_output(job: dict[str, Any]) -> Any:
    return {"error": "the model refused", "partial": 1}


def returns_refresh(job: dict[str, Any]) -> Any:
    return {"refresh_worker": True, "kept": True}


def raises(job: dict[str, Any]) -> Any:
    raise ValueError("bad input")


async def async_raises(job: dict[str, Any]) -> Any:
    raise KeyError("missing")


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (returns_error_none, {"status": "COMPLETED", "output": {"result": 1}}),
        (returns_empty, {"status": "COMPLETED"}),
        (returns_error_beside_output, {"status": "FAILED", "error": "the model refused"}),
        (returns_refresh, {"status": "COMPLETED", "output": {"kept": True}}),
    ],
)
def test_returned_dicts_are_read_as_the_runtime_reads_them(
    runpod_emulator_factory: Factory, handler: Callable[..., Any], expected: dict[str, Any]
) -> None:
    server = runpod_emulator_factory(handlers={EP: handler})
    with job_api(server) as api:
        body = final(api, run(api, {}))
    assert {k: v for k, v in body.items() if k in ("status", "output", "error")} == expected


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        (raises, "<class 'ValueError'>", "bad input"),
        (async_raises, "<class 'KeyError'>", "'missing'"),
    ],
)
def test_an_exception_fails_the_job_with_the_runtimes_json_error(
    runpod_emulator_factory: Factory, handler: Any, error_type: str, message: str
) -> None:
    server = runpod_emulator_factory(handlers={EP: handler}, workers=1)
    with job_api(server) as api:
        body = final(api, run(api, {}))
    assert body["status"] == "FAILED"
    error = json.loads(body["error"])
    assert list(error) == [
        "error_type",
        "error_message",
        "error_traceback",
        "hostname",
        "worker_id",
        "runpod_version",
    ]
    assert (error["error_type"], error["error_message"]) == (error_type, message)
    assert error["error_traceback"].startswith("Traceback (most recent call last):")
    assert handler.__name__ in error["error_traceback"]
    assert error["hostname"] == error["worker_id"] == f"{EP}-worker-0"
    assert error["runpod_version"] == EMULATED_VERSION


def returns_generator(job: dict[str, Any]) -> Iterator[int]:
    return (n for n in range(3))


def error_chunk(job: dict[str, Any]) -> Iterator[Any]:
    yield 1
    yield {"error": "chunk 2 failed"}
    yield 3


async def async_raises_midway(job: dict[str, Any]) -> AsyncIterator[int]:
    yield 1
    raise RuntimeError("midway")


def test_only_generator_functions_stream(runpod_emulator_factory: Factory) -> None:
    """A plain function that returns a generator is not streamed: its output is the
    generator object, which no runtime can send (RunPod never sees a result)."""
    server = runpod_emulator_factory(handlers={EP: returns_generator})
    with job_api(server) as api:
        job_id = run(api, {})
        body = final(api, job_id)
        assert chunks(api, job_id) == []
    assert body["status"] == "FAILED"
    assert "the handler's output is not JSON" in body["error"]
    assert "generator" in body["error"]


def test_an_error_chunk_stops_the_stream_and_fails_the_job(
    runpod_emulator_factory: Factory,
) -> None:
    server = runpod_emulator_factory(
        handlers={
            EP: {"handler": error_chunk, "return_aggregate_stream": True},
            "raising": async_raises_midway,
        }
    )
    with job_api(server) as api:
        job_id = run(api, {})
        body = final(api, job_id)
        assert chunks(api, job_id) == [1]
        raised = run(api, {}, "raising")
        midway = final(api, raised, "raising")
        assert chunks(api, raised, "raising") == [1]
    assert (body["status"], body["error"]) == ("FAILED", "chunk 2 failed")
    assert midway["status"] == "FAILED"
    assert midway["error"].startswith("handler: midway \ntraceback: Traceback")


def test_return_aggregate_stream_is_an_option_of_the_endpoint(
    runpod_emulator_factory: Factory,
) -> None:
    def count(job: dict[str, Any]) -> Iterator[int]:
        yield from range(3)

    server = runpod_emulator_factory(
        handlers={"plain": count, "aggregated": {"handler": count, "return_aggregate_stream": True}}
    )
    with job_api(server) as api:
        plain, aggregated = run(api, {}, "plain"), run(api, {}, "aggregated")
        assert final(api, plain, "plain")["output"] == []
        assert chunks(api, plain, "plain") == [0, 1, 2]
        assert final(api, aggregated, "aggregated")["output"] == [0, 1, 2]


STATEFUL_WORKER = '''
"""A worker file without the runpod package: module state, refresh on request."""
import sys

CALLS = 0
ARGS = sys.argv[1:]


def handler(job):
    global CALLS
    CALLS += 1
    if job["input"].get("exit"):
        sys.exit(job["input"]["exit"])
    return {"calls": CALLS, "args": ARGS, "refresh_worker": bool(job["input"].get("refresh"))}
'''


def test_refresh_worker_and_a_crash_start_the_handlers_module_afresh(
    runpod_emulator_factory: Factory, tmp_path: Path
) -> None:
    worker = tmp_path / "stateful.py"
    worker.write_text(STATEFUL_WORKER)
    server = runpod_emulator_factory(handlers={EP: f"{worker}:handler --flag x"}, workers=1)
    with job_api(server) as api:

        def calls(**job_input: Any) -> Any:
            body = final(api, run(api, job_input))
            return body.get("output", body.get("error"))

        assert calls() == {"calls": 1, "args": ["--flag", "x"]}
        assert calls(refresh=True) == {"calls": 2, "args": ["--flag", "x"]}
        assert calls() == {"calls": 1, "args": ["--flag", "x"]}  # restarted
        assert calls() == {"calls": 2, "args": ["--flag", "x"]}
        crash = calls(exit=3)
        assert crash.startswith(f"worker {EP}-worker-0 exited with code 3 while running this job")
        assert calls() == {"calls": 1, "args": ["--flag", "x"]}  # restarted again


def test_a_handler_that_exits_or_interrupts_fails_only_its_job(
    runpod_emulator_factory: Factory,
) -> None:
    def exits(job: dict[str, Any]) -> Any:
        if isinstance(job["input"], int):
            sys.exit(job["input"])
        return job["input"]

    async def interrupts(job: dict[str, Any]) -> Any:
        raise KeyboardInterrupt

    server = runpod_emulator_factory(handlers={"exits": exits, "interrupts": interrupts})
    with job_api(server) as api:
        exited = final(api, run(api, 3, "exits"), "exits")
        interrupted = final(api, run(api, {}, "interrupts"), "interrupts")
        after = final(api, run(api, "still here", "exits"), "exits")
    assert exited["status"] == interrupted["status"] == "FAILED"
    assert exited["error"].startswith("worker exits-worker-0 exited with code 3")
    assert interrupted["error"].startswith(
        "worker interrupts-worker-0 was ended by KeyboardInterrupt"
    )
    assert after["output"] == "still here"


def test_cancelled_sync_handlers_do_not_hold_capacity(
    runpod_emulator_factory: Factory,
) -> None:
    """16 cancelled blocking sync handlers go on in their threads, abandoned; a trivial
    job after them runs at once."""
    release = threading.Event()

    def blocking(job: dict[str, Any]) -> Any:
        if job["input"] == "block":
            release.wait(60)
        return job["input"]

    server = runpod_emulator_factory(handlers={EP: blocking}, workers=2)
    try:
        with job_api(server) as api:
            for _ in range(16):
                job_id = run(api, "block")
                eventually(
                    lambda job_id=job_id: state(api, job_id) == "IN_PROGRESS" or None,
                    "the job to start",
                )
                assert api.post(f"/{EP}/cancel/{job_id}").json()["status"] == "CANCELLED"
            started = time.monotonic()
            answer = api.post(f"/{EP}/runsync", json={"input": "quick"}).json()
            took = time.monotonic() - started
        assert answer["output"] == "quick"
        assert took < 2, f"a trivial job waited {took:.1f} s behind cancelled ones"
    finally:
        release.set()


def test_abandoned_threads_are_capped(runpod_emulator_factory: Factory) -> None:
    release = threading.Event()

    def blocking(job: dict[str, Any]) -> Any:
        if job["input"] == "block":
            release.wait(60)
        return job["input"]

    server = runpod_emulator_factory(
        handlers={EP: blocking}, workers=1, settings=JobSettings(max_abandoned_threads=2)
    )
    try:
        with job_api(server) as api:
            for _ in range(2):
                job_id = run(api, "block")
                eventually(
                    lambda job_id=job_id: state(api, job_id) == "IN_PROGRESS" or None,
                    "the job to start",
                )
                api.post(f"/{EP}/cancel/{job_id}")
            waiting = run(api, "quick")
            time.sleep(0.3)
            assert state(api, waiting) == "IN_PROGRESS"  # taken, waiting for a thread
            release.set()
            assert final(api, waiting)["output"] == "quick"
    finally:
        release.set()


def test_concurrency_modifier_runs_jobs_of_one_worker_at_once(
    runpod_emulator_factory: Factory, gates: Callable[[], Gate]
) -> None:
    gate = gates()
    running: list[str] = []

    async def held(job: dict[str, Any]) -> Any:
        running.append(job["id"])
        await gate.wait()
        return len(running)

    server = runpod_emulator_factory(
        handlers={EP: {"handler": held, "concurrency_modifier": lambda current: 3}}, workers=1
    )
    with job_api(server) as api:
        jobs = [run(api, n) for n in range(3)]
        eventually(lambda: len(running) == 3 or None, "three jobs running at once")
        gate.open()
        workers = {final(api, job_id)["workerId"] for job_id in jobs}
    assert workers == {f"{EP}-worker-0"}


def test_shutdown_does_not_wait_for_running_sync_handlers() -> None:
    release = threading.Event()

    def blocking(job: dict[str, Any]) -> Any:
        release.wait(120)
        return "late"

    emulator = Emulator(handlers={EP: blocking}, rate_limits=False)
    try:
        with emulator.serve() as server, job_api(server) as api:
            job_id = run(api, {})
            eventually(lambda: state(api, job_id) == "IN_PROGRESS" or None, "the job to start")
            stopping = time.monotonic()
        assert time.monotonic() - stopping < 5
    finally:
        release.set()


def test_the_command_line_stops_at_once_with_a_sync_handler_running(tmp_path: Path) -> None:
    """SIGTERM with a blocking sync handler running: the process ends promptly (the
    handler's thread is a daemon thread); a worker file's ARGS and
    --return-aggregate-stream reach the handler."""
    worker = tmp_path / "cli_worker.py"
    worker.write_text(
        textwrap.dedent(
            """
            import sys, time

            ARGS = sys.argv[1:]  # what `python cli_worker.py ARGS` would see

            def handler(job):
                if job["input"] == "block":
                    time.sleep(600)
                yield from ARGS
            """
        )
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runpod_typed.emulator",
            "--port",
            "0",
            "--handler",
            f"words={worker}:handler one two",
            "--handler",
            f"aggregated={worker}:handler three",
            "--return-aggregate-stream",
            "aggregated",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("READY "), ready + process.communicate(timeout=30)[1]
        url = ready.split()[1]
        with httpx.Client(base_url=f"{url}/v2", headers={"Authorization": "k"}) as api:
            words = api.post("/words/runsync", json={"input": {}}).json()
            aggregated = api.post("/aggregated/runsync", json={"input": {}}).json()
            blocked = run(api, "block", "words")
            eventually(lambda: state(api, blocked, "words") == "IN_PROGRESS" or None, "a start")
        assert words["output"] == []
        assert aggregated["output"] == ["three"]
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=30)
        assert time.monotonic() - started < 10
        assert process.returncode == 0
        assert stdout == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_a_worker_file_needs_the_runpod_package_to_load_in_process() -> None:
    with pytest.raises(HandlerLoadError) as refused:
        load_handler(str(WORKERS / "plain.py"))
    message = str(refused.value)
    assert "imports the runpod package" in message
    assert "--worker" in message
    done = subprocess.run(
        [sys.executable, "-m", "runpod_typed.emulator", "--handler", str(WORKERS / "plain.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "imports the runpod package" in done.stderr


def test_a_module_that_exits_at_import_is_a_load_error(tmp_path: Path) -> None:
    exiting = tmp_path / "exiting.py"
    exiting.write_text("import sys\nsys.exit(1)\n")
    with pytest.raises(HandlerLoadError, match="exited"):
        load_handler(str(exiting))
    (tmp_path / "no_start.py").write_text("def handler(job):\n    return 1\n")
    with pytest.raises(HandlerLoadError, match=r"did not call runpod\.serverless\.start"):
        load_handler(str(tmp_path / "no_start.py"))
    assert load_handler(f"{tmp_path / 'no_start.py'}:handler").handler({"input": 0}) == 1


# ---------------------------------------------------------------------------- emulated vs official

COMPARE_SCRIPT = r"""
import asyncio, json

from runpod.serverless.modules import rp_handler, rp_job

from runpod_typed.emulator import _runtime


def plain(job):
    return job["input"]


async def coroutine(job):
    return job["input"]


def failing(job):
    raise ValueError("bad " + str(job["input"]))


async def async_failing(job):
    raise KeyError(job["input"])


def returns_generator(job):
    return (n for n in range(2))


def generator(job):
    for n in range(job["input"] if isinstance(job["input"], int) else 2):
        if n == 1 and job["input"] == 9:
            raise RuntimeError("at one")
        yield {"n": n}


async def async_generator(job):
    yield job["input"]
    if job["input"] == "raise":
        raise RuntimeError("async at one")
    yield {"error": "an error chunk"}


INPUTS = [
    {"error": None, "result": 1}, {}, {"error": "refused", "x": 1}, {"error": {"code": 2}},
    {"refresh_worker": True}, {"refresh_worker": True, "out": 1}, [], None, 0, False, "text",
    {"error": "", "y": 2}, [1, {"error": "in a list"}],
]


def normal(result):
    error = result.get("error")
    if isinstance(error, str) and error.startswith("{"):
        info = json.loads(error)
        for key in ("error_traceback", "runpod_version"):
            info.pop(key)
        result = {**result, "error": info}
    elif isinstance(error, str) and "\ntraceback: " in error:
        result = {**result, "error": error.split("\ntraceback: ")[0]}
    return result


async def gather(agen):
    return [normal(item) async for item in agen]


async def main():
    out = {"jobs": [], "streams": [], "is_generator": []}
    for handler in (plain, coroutine, failing, async_failing, returns_generator):
        for value in INPUTS:
            job = {"id": "j", "input": json.loads(json.dumps(value))}
            official = normal(await rp_job.run_job(handler, dict(job, input=json.loads(json.dumps(value)))))
            emulated = normal(await _runtime.emulated_run_job(handler, job))
            if handler is returns_generator:
                official, emulated = sorted(official), sorted(emulated)
            out["jobs"].append([handler.__name__, value, official, emulated])
    for handler in (generator, async_generator):
        for value in (2, 9, "x", "raise"):
            official = await gather(rp_job.run_job_generator(handler, {"id": "j", "input": value}))
            emulated = await gather(_runtime.emulated_run_job_generator(handler, {"id": "j", "input": value}))
            out["streams"].append([handler.__name__, value, official, emulated])
    for handler in (plain, coroutine, returns_generator, generator, async_generator):
        out["is_generator"].append(
            [handler.__name__, rp_handler.is_generator(handler), _runtime.emulated_is_generator(handler)]
        )
    print(json.dumps(out))


asyncio.run(main())
"""


def _official_python() -> Path:
    if not OFFICIAL_PYTHON.exists():
        pytest.fail(f"{OFFICIAL_PYTHON} is missing: run make setup")
    return OFFICIAL_PYTHON


def _official_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT),
        "RUNPOD_LOG_LEVEL": "ERROR",
        "NO_PROXY": "127.0.0.1",
        **extra,
    }


@pytest.mark.compat
def test_the_emulated_runtime_matches_runpods_own_functions() -> None:
    done = subprocess.run(
        [str(_official_python()), "-c", COMPARE_SCRIPT],
        env=_official_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for name, value, official, emulated in results["jobs"]:
        assert emulated == official, (name, value)
    for name, value, official, emulated in results["streams"]:
        assert emulated == official, (name, value)
    for name, official, emulated in results["is_generator"]:
        assert emulated == official, name
    assert len(results["jobs"]) == 5 * 13


# ---------------------------------------------------------------------------- equivalence

#: endpoint kind -> worker file and its arguments; each is served by one emulator in
#: .official-venv as "in-KIND" in-process (--handler) and, for the kinds compared with
#: the real runtime, as "w-KIND", a worker process (--worker).
KINDS: dict[str, str] = {
    "plain": "plain.py",
    "state": "plain.py",
    "generator": "generator.py",
    "aggregate": "generator.py --aggregate",
    "async-generator": "async_generator.py",
    "async": "async_handler.py --concurrency 3",
    "debugger": "debugger.py",
}
#: In-process only: refresh and the debugger's checkpoints in worker processes are the
#: real runtime's own doing (test_real_workers.py covers the restart).
IN_PROCESS_ONLY = {"state", "debugger"}


@pytest.fixture(scope="module")
def both_modes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The emulator (in .official-venv, runpod importable) serving every kind both ways;
    yields its job API root."""
    python = _official_python()
    command = [str(python), "-m", "runpod_typed.emulator", "--port", "0", "--workers", "1"]
    command.append("--no-rate-limits")
    for kind, file in KINDS.items():
        command += ["--handler", f"in-{kind}={WORKERS / file}"]
        if kind not in IN_PROCESS_ONLY:
            command += ["--worker", f"w-{kind}={WORKERS / file}"]
    log = tmp_path_factory.mktemp("both-modes") / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command,
            env=_official_env(RUNPOD_POD_ID="in-process", HOME=str(log.parent)),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=ROOT,
        )
        try:
            assert process.stdout is not None
            ready = process.stdout.readline()
            assert ready.startswith("READY "), ready + log.read_text()
            base = ready.split()[1] + "/v2"
            with httpx.Client(base_url=base, headers={"Authorization": "k"}) as api:

                def workers_up() -> bool | None:
                    for kind in KINDS.keys() - IN_PROCESS_ONLY:
                        workers = api.get(f"/w-{kind}/health").json()["workers"]
                        if workers["idle"] + workers["running"] < 1:
                            return None
                    return True

                eventually(workers_up, "the worker processes")
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _normal_error(error: Any) -> Any:
    if isinstance(error, str) and error.startswith("{"):
        info = json.loads(error)
        for key in ("error_traceback", "hostname", "worker_id"):
            assert key in info
            info.pop(key)
        return info
    if isinstance(error, str) and "\ntraceback: " in error:
        return error.split("\ntraceback: ")[0]
    return error


_VOLATILE = {"pid", "started", "finished", "worker"}


def _normal_output(output: Any) -> Any:
    if isinstance(output, dict):
        return {k: ("<volatile>" if k in _VOLATILE else v) for k, v in output.items()}
    return output


def _outcome(api: httpx.Client, endpoint: str, job_input: Any) -> dict[str, Any]:
    job_id = run(api, job_input, endpoint)
    body = final(api, job_id, endpoint)
    return {
        "status": body["status"],
        "has_output": "output" in body,
        "output": _normal_output(body.get("output")),
        "error": _normal_error(body.get("error")),
        "stream": chunks(api, job_id, endpoint),
    }


CASES: list[tuple[str, Any]] = [
    ("plain", {"value": 5}),
    ("plain", {"action": "raise", "message": "bad input"}),
    ("plain", {"action": "error", "message": "told to fail"}),
    ("plain", {"action": "error_none"}),
    ("plain", {"action": "empty"}),
    ("plain", {"action": "unknown"}),
    ("plain", {"action": "progress", "steps": ["a"], "delay": 0.05}),
    ("generator", {"count": 3}),
    ("generator", {"count": 4, "error_at": 2}),
    ("generator", {"count": 3, "raise_at": 1}),
    ("aggregate", {"count": 2}),
    ("async-generator", {"prompt": "one two three"}),
    ("async", {"value": 7}),
    ("async", {"fail": "async boom"}),
]


@pytest.mark.compat
@pytest.mark.parametrize(
    ("kind", "job_input"), CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)]
)
def test_in_process_results_equal_the_real_runtimes(
    both_modes: str, kind: str, job_input: Any
) -> None:
    with httpx.Client(base_url=both_modes, headers={"Authorization": "k"}, timeout=60) as api:
        in_process = _outcome(api, f"in-{kind}", job_input)
        worker = _outcome(api, f"w-{kind}", job_input)
    assert in_process == worker
    if isinstance(in_process["error"], dict):  # the runtime's JSON error, from runpod itself
        assert in_process["error"]["runpod_version"] == RUNPOD_VERSION


@pytest.mark.compat
def test_refresh_worker_loads_the_worker_file_anew(both_modes: str) -> None:
    """As a worker process restarts (test_real_workers.py), the in-process handler's
    module starts over: its module state is back to the start."""
    with httpx.Client(base_url=both_modes, headers={"Authorization": "k"}, timeout=60) as api:

        def outcome(action: str) -> Any:
            return _outcome(api, "in-state", {"action": action})["output"]

        assert [outcome("calls"), outcome("calls")] == [1, 2]
        assert outcome("refresh") == {"pid": "<volatile>"}  # refresh_worker stripped
        assert outcome("calls") == 1


@pytest.mark.compat
def test_debugger_checkpoints_are_cleared_after_each_job(both_modes: str) -> None:
    with httpx.Client(base_url=both_modes, headers={"Authorization": "k"}, timeout=60) as api:
        outcomes = [_outcome(api, "in-debugger", {"value": n}) for n in range(3)]
    assert [o["output"] for o in outcomes] == [{"value": 0}, {"value": 1}, {"value": 2}]


@pytest.mark.compat
def test_runpods_progress_update_reaches_the_emulator_in_process(both_modes: str) -> None:
    with httpx.Client(base_url=both_modes, headers={"Authorization": "k"}, timeout=60) as api:
        job_input = {"action": "progress", "steps": ["loading", "working"], "delay": 0.4}
        job_id = run(api, job_input, "in-plain")
        seen: list[Any] = []
        deadline = time.monotonic() + PATIENCE_SECONDS
        while time.monotonic() < deadline:
            body = api.get(f"/in-plain/status/{job_id}").json()
            if body["status"] != "IN_PROGRESS" and body["status"] != "IN_QUEUE":
                break
            fresh = "output" in body and (not seen or seen[-1] != body["output"])
            if body["status"] == "IN_PROGRESS" and fresh:
                seen.append(body["output"])
            time.sleep(0.05)
        assert seen == ["loading", "working"]
        assert final(api, job_id, "in-plain")["output"] == "done"


@pytest.mark.compat
def test_a_concurrent_worker_file_runs_its_jobs_together_in_process(both_modes: str) -> None:
    """async_handler.py --concurrency 3: its concurrency_modifier, read from the captured
    start config, lets one in-process worker run three jobs at once."""

    async def main() -> list[Any]:
        async with httpx.AsyncClient(
            base_url=both_modes, headers={"Authorization": "k"}, timeout=60
        ) as api:
            answers = await asyncio.gather(
                *(
                    api.post("/in-async/runsync", json={"input": {"value": n, "seconds": 1}})
                    for n in range(3)
                )
            )
        return [answer.json()["output"] for answer in answers]

    outputs = asyncio.run(main())
    assert max(o["started"] for o in outputs) < min(o["finished"] for o in outputs)
