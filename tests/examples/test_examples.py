"""Every program in examples/ runs against the emulator and does what its docstring says.

Command-line examples run as subprocesses with the environment a user would set.
The FastAPI apps run in-process through httpx.ASGITransport, or on a loopback
uvicorn server where a real disconnect is needed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
from examples_support import ROOT, example_env, load_example, run_python

from runpod_typed.emulator import RunningEmulator
from runpod_typed.emulator._server import serve_in_thread

StartEmulator = Callable[..., RunningEmulator]


def run_example(
    server: RunningEmulator, name: str, endpoint_id: str, *args: str, **env: str
) -> str:
    return run_python(
        [f"examples/{name}.py", *args], example_env(server, endpoint_id, **env)
    ).stdout


# -- command-line examples ------------------------------------------------------------------------


def test_quickstart_sync(examples_emulator: RunningEmulator) -> None:
    out = run_example(examples_emulator, "quickstart_sync", "summarizer")
    assert "run_sync: {'summary': 'GPUs far away do the heavy lifting', 'words': 7}" in out
    assert "output: {'summary': 'a job you can look at while it ...', 'words': 9}" in out
    assert "health: " in out


def test_quickstart_async(examples_emulator: RunningEmulator) -> None:
    out = run_example(examples_emulator, "quickstart_async", "summarizer")
    assert out.count("run_sync: ") == 3
    assert "'the first job of three'" in out
    assert "output: {'summary': 'submitted now, awaited later', 'words': 4}" in out


def test_typed_outputs(examples_emulator: RunningEmulator) -> None:
    out = run_example(examples_emulator, "typed_outputs", "summarizer")
    assert "summary: 'typed results catch a ...' (12 words)" in out
    assert "as dict: ['summary', 'words']" in out
    assert "mismatch: not a Translation; raw output kept: {'summary'" in out


def test_batch_map_reports_per_item_errors(examples_emulator: RunningEmulator) -> None:
    out = run_example(examples_emulator, "batch_map", "summarizer")
    assert "38 ok, 2 failed" in out
    assert "document 7: JobFailed: input.text must be a non-empty string" in out
    assert "document 23: JobFailed: input.text must be a non-empty string" in out


def test_stream_terminal(examples_emulator: RunningEmulator) -> None:
    out = run_example(examples_emulator, "stream_terminal", "tokens", "one", "two", "three")
    assert out.split() == ["one", "two", "three"]


def test_pods_and_registry(examples_emulator: RunningEmulator) -> None:
    out = run_example(
        examples_emulator,
        "pods_and_registry",
        "unused",
        REGISTRY_USERNAME="ci-user",
        REGISTRY_PASSWORD="ci-password",
        REGISTRY_NEW_PASSWORD="ci-password-2",
    )
    lines = out.splitlines()
    assert lines[0].startswith("cheapest Secure Cloud GPU in stock: ")
    states = [line.split(": ", 1)[1] for line in lines if line.startswith("pod ")]
    assert states[1].startswith("RUNNING at $")
    assert states[2:] == ["EXITED", "RUNNING again", "terminated"]
    assert any(line.endswith(": password rotated") for line in lines)
    assert lines[-1].endswith(": deleted")


def test_provision_pod(examples_emulator: RunningEmulator) -> None:
    out = run_example(examples_emulator, "provision_pod", "unused")
    lines = out.splitlines()
    assert lines[0].startswith("trying NVIDIA ") and lines[0].endswith(("HIGH)", "MEDIUM)", "LOW)"))
    states = [line.split(": ", 1)[1] for line in lines if line.startswith("pod ")]
    assert states[0] in ("PROVISIONING", "STARTING") and states[1].startswith("RUNNING at $")
    logs = [line for line in lines if line.startswith("log [")]
    assert len(logs) == 3 and logs[0].startswith("log [system] Pod ")
    assert states[-1] == "terminated"


def test_provision_pod_fails_fast_on_a_pod_that_cannot_start(
    examples_emulator: RunningEmulator,
) -> None:
    image = "runpod-emulator/fails-to-start:1"
    out = run_example(examples_emulator, "provision_pod", "unused", image, "2")
    assert "ERROR, actions ['stop', 'restart', 'terminate']" in out
    assert out.splitlines()[-1].endswith(": terminated")


def test_deploy_endpoint(examples_emulator: RunningEmulator) -> None:
    out = run_example(examples_emulator, "deploy_endpoint", "unused")
    lines = out.splitlines()
    assert lines[0].startswith("template deploy-endpoint-example: ")
    assert lines[2] == "job output: hello from the endpoint"
    assert lines[-2].endswith(": deleted") and lines[-1].endswith(": deleted")


def test_worker_file_served_both_ways() -> None:
    """examples/worker_file/: the unchanged worker file as a worker process (the official
    runtime in .official-venv), then in-process in .official-venv's interpreter."""
    official = ROOT / ".official-venv" / "bin" / "python"
    if not official.exists():
        pytest.fail(f"{official} is missing: run make setup")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
    script = "examples/worker_file/run_locally.py"
    expected = [
        "streamed: Once Upon A Time",
        "output: ['Once', 'Upon', 'A', 'Time']",
        "failed: input.prompt must be a non-empty string",
    ]
    in_process = subprocess.Popen(  # beside the other: both take seconds to start
        [str(official), script, "--in-process"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT), "RUNPOD_LOG_LEVEL": "ERROR"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        as_worker = run_python([script, "--worker-python", str(official)], env).stdout
        stdout, stderr = in_process.communicate(timeout=120)
    finally:
        if in_process.poll() is None:
            in_process.kill()
            in_process.communicate()
    assert as_worker.splitlines() == expected
    assert in_process.returncode == 0, stderr
    assert [line for line in stdout.splitlines() if ": " in line] == expected


def test_my_worker_tests_pass() -> None:
    """examples/test_my_worker.py is itself a pytest file a user would run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
    result = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", "examples"], env)
    assert "3 passed" in result.stdout


# -- FastAPI apps ---------------------------------------------------------------------------------


@asynccontextmanager
async def asgi_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling `app` in-process, with the app's lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            yield client


@contextmanager
def served(app: Any) -> Iterator[str]:
    """`app` on a loopback uvicorn server (real sockets, real disconnects); yields its URL."""
    with serve_in_thread(app, "127.0.0.1", 0, lambda: None) as port:
        yield f"http://127.0.0.1:{port}"


def use_env(monkeypatch: pytest.MonkeyPatch, server: RunningEmulator, endpoint_id: str) -> None:
    for name, value in example_env(server, endpoint_id).items():
        monkeypatch.setenv(name, value)


async def hang(job: dict[str, Any]) -> AsyncIterator[str]:
    """A worker that never finishes: streams a token every 50 ms until cancelled."""
    while True:
        yield "token"
        await asyncio.sleep(0.05)


async def slow(job: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(3600)
    return {}


async def eventually(check: Callable[[], bool]) -> bool:
    """Poll `check` for a while (no timing asserted: the loop only bounds a broken run)."""
    for _ in range(600):
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


def final_states(server: RunningEmulator) -> list[str]:
    return list(server.counters()["final_states"].values())


async def test_fastapi_app(
    examples_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env(monkeypatch, examples_emulator, "summarizer")
    module = load_example("fastapi_app")
    async with asgi_client(module.app) as client:
        ok = await client.post("/summaries", json={"text": "a b c d", "max_words": 2})
        refused = await client.post("/summaries", json={"text": " "})
    assert ok.status_code == 200
    assert ok.json() == {"summary": "a b ...", "words": 4}
    assert refused.status_code == 422
    assert "input.text must be a non-empty string" in refused.json()["detail"]


async def test_fastapi_app_disconnect_cancels_the_job(
    runpod_emulator_factory: StartEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = runpod_emulator_factory(handlers={"summarizer": slow})
    use_env(monkeypatch, server, "summarizer")
    module = load_example("fastapi_app")
    with served(module.app) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            request = asyncio.create_task(client.post("/summaries", json={"text": "long"}))
            waiting = await eventually(
                lambda: (
                    "status-sync" in server.counters()["requests_by_endpoint"].get("summarizer", {})
                )
            )
            assert waiting, "the app never started waiting on its job"
            request.cancel()  # the HTTP client goes away
            with pytest.raises(asyncio.CancelledError):
                await request
        assert await eventually(lambda: bool(final_states(server)))
    assert final_states(server) == ["CANCELLED"]
    assert server.counters()["jobs_created"] == 1


async def test_fastapi_multitenant(
    runpod_emulator_factory: StartEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # RunPod (here: the emulator) accepts alice's key only.
    worker: Any = load_example("my_worker")
    server = runpod_emulator_factory(
        api_key="alice-runpod-key", handlers={"summarizer": worker.handler}
    )
    use_env(monkeypatch, server, "summarizer")
    tenants = {"alice": "alice-runpod-key", "bob": "bob-revoked-key"}
    monkeypatch.setenv("TENANT_KEYS", json.dumps(tenants))
    monkeypatch.delenv("RUNPOD_API_KEY")
    module = load_example("fastapi_multitenant")
    body = {"text": "x"}
    async with asgi_client(module.app) as client:
        alice = await client.post("/summaries", json=body, headers={"X-User": "alice"})
        bob = await client.post("/summaries", json=body, headers={"X-User": "bob"})
        carol = await client.post("/summaries", json=body, headers={"X-User": "carol"})
    assert alice.status_code == 200
    assert alice.json() == {"summary": "x", "words": 1}
    assert (bob.status_code, carol.status_code) == (401, 403)
    assert "bob-revoked-key" not in bob.text


async def test_fastapi_sse_streams_tokens(
    examples_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env(monkeypatch, examples_emulator, "tokens")
    module = load_example("fastapi_sse")
    async with asgi_client(module.app) as client:
        response = await client.get("/generate", params={"prompt": "red green blue"})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[:3] == ['data: "red"', 'data: "green"', 'data: "blue"']
    assert events[3].startswith("event: done\ndata: {")


async def test_fastapi_sse_reports_a_failed_job(
    examples_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env(monkeypatch, examples_emulator, "fail")
    module = load_example("fastapi_sse")
    async with asgi_client(module.app) as client:
        response = await client.get("/generate", params={"prompt": "anything"})
    assert response.text.startswith("event: error\ndata: ")


async def test_fastapi_sse_disconnect_cancels_the_job(
    runpod_emulator_factory: StartEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = runpod_emulator_factory(handlers={"llm": hang})
    use_env(monkeypatch, server, "llm")
    module = load_example("fastapi_sse")
    with served(module.app) as url:
        async with (
            httpx.AsyncClient(base_url=url) as client,
            client.stream("GET", "/generate", params={"prompt": "go"}) as response,
        ):
            async for line in response.aiter_lines():
                assert line == 'data: "token"'
                break  # the browser tab closes
        assert await eventually(lambda: bool(final_states(server)))
    assert final_states(server) == ["CANCELLED"]
