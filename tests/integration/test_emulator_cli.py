"""The emulator's command line: READY line, options, clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from . import eventually

CLI = [sys.executable, "-m", "runpod_typed.emulator", "--host", "127.0.0.1", "--port", "0"]


@contextmanager
def cli(*options: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The CLI with `options`; yields the process and the URL from its READY line."""
    process = subprocess.Popen(
        [*CLI, *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("READY http://127.0.0.1:"), ready + process.communicate()[1]
        url = ready.split()[1]
        assert ready == f"READY {url}\n"
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def stop(process: subprocess.Popen[str], signum: int) -> tuple[int, str, str]:
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_ready_line_then_clean_stop(signum: int) -> None:
    with cli("--api-key", "cli-key") as (process, url):
        answer = httpx.post(
            f"{url}/v2/echo/runsync",
            json={"input": "hi"},
            headers={"Authorization": "Bearer cli-key"},
        )
        assert answer.json()["output"] == "hi"
        assert httpx.get(f"{url}/v2/echo/health", headers={"Authorization": "x"}).status_code == 401
        code, stdout, stderr = stop(process, signum)
    assert code == 0
    assert stdout == ""
    assert "cli-key" not in stderr


def test_handlers_per_endpoint_and_default() -> None:
    echo = "runpod_typed.emulator.handlers:echo"
    with cli("--handler", f"mine={echo}", "--handler", "fail") as (process, url):
        with httpx.Client(base_url=f"{url}/v2", headers={"Authorization": "k"}) as api:
            assert api.post("/mine/runsync", json={"input": 7}).json()["output"] == 7
            failed = api.post("/other/runsync", json={"input": {"message": "m"}}).json()
            assert failed["status"] == "FAILED"
            assert failed["error"] == "m"
        assert stop(process, signal.SIGTERM)[0] == 0


def test_only_named_endpoints_exist_without_a_default_handler() -> None:
    with cli("--handler", "mine=echo") as (process, url):
        missing = httpx.get(f"{url}/v2/other/health", headers={"Authorization": "k"})
        assert missing.status_code == 404
        assert stop(process, signal.SIGTERM)[0] == 0


def test_options_reach_the_emulator() -> None:
    options = ("--no-long-poll", "--faults", "run:503=1", "--workers", "0", "--no-rate-limits")
    with cli(*options) as (process, url):
        with httpx.Client(base_url=f"{url}/v2", headers={"Authorization": "k"}) as api:
            assert api.post("/echo/run", json={"input": 1}).status_code == 503
            queued = api.post("/echo/runsync", json={"input": 1}).json()
            assert queued["status"] == "IN_QUEUE"
            assert api.get(f"/echo/status-sync/{queued['id']}").status_code == 404
            assert api.get("/echo/health").json()["workers"]["idle"] == 0
            for _ in range(3):
                assert api.post("/echo/purge-queue").status_code == 200
        assert stop(process, signal.SIGTERM)[0] == 0


def test_stopping_answers_pending_long_polls() -> None:
    with cli() as (process, url), httpx.Client(headers={"Authorization": "k"}) as api:
        job = api.post(f"{url}/v2/sleep/run", json={"input": {"seconds": 600}}).json()
        answers: list[httpx.Response] = []

        def long_poll() -> None:
            status_sync = f"{url}/v2/sleep/status-sync/{job['id']}"
            answers.append(api.get(status_sync, params={"wait": 300_000}))

        poller = threading.Thread(target=long_poll)
        poller.start()

        def polling() -> int | None:
            counts: dict[str, int] = api.get(f"{url}/_emulator/counters").json()["requests"]
            return counts.get("status-sync")

        eventually(polling, "the long poll to arrive")
        code, _, _ = stop(process, signal.SIGTERM)
        poller.join()
    assert code == 0
    assert answers[0].json()["status"] in {"IN_QUEUE", "IN_PROGRESS"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--faults", "run:drop=2"), "--faults"),
        (("--handler", "no_such_module_xyz:handler"), "no_such_module_xyz"),
        (("--handler", "not-a-spec"), "neither a built-in"),
    ],
)
def test_bad_options_exit_2_with_a_message(options: tuple[str, ...], message: str) -> None:
    done = subprocess.run([*CLI, *options], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""


def test_help_documents_the_fault_spec() -> None:
    done = subprocess.run([*CLI, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for text in ("seed=7;run:drop=0.05", "drop_after", "malformed", "--no-long-poll"):
        assert text in done.stdout
