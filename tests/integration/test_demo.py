"""`make demo` end to end: the demo runs on the in-process emulator and shows every step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runpod_typed.emulator import RunningEmulator

ROOT = Path(__file__).resolve().parents[2]


def run_demo(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_") and k != "LIVE"}
    result = subprocess.run(
        [sys.executable, "-m", "runpod_typed.demo"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result.stdout


def assert_serverless_steps(out: str) -> None:
    assert "Image(url='https://example.com/fox.png', width=768, height=512, seed=7)" in out
    assert "raises OutputValidationError" in out
    for step in ("loading model", "denoising 50%", "denoising 100%", "COMPLETED"):
        assert step in out
    cancel_lines = [line for line in out.splitlines() if "-> job " in line]
    assert len(cancel_lines) == 2
    assert all(line.endswith(": CANCELLED") for line in cancel_lines)
    assert "97 ok, 3 failed" in out
    assert "results[:6] = [0, 1, 4, 9, 16, 25]" in out
    assert "item 42: JobFailed: item 42 is malformed" in out
    assert "secure $/h" in out
    assert out.rstrip().splitlines()[-1].startswith("done in ")


def test_demo_runs_on_the_emulator() -> None:
    out = run_demo()  # no key, no LIVE: the demo needs nothing from the environment
    assert "(no key, no network)" in out
    assert_serverless_steps(out)
    assert "stream: Once upon a time a tiny GPU" in out
    pod_lines = [line.split() for line in out.splitlines() if " pod " in line]
    assert [words[0] for words in pod_lines] == ["created", "running", "stopped", "terminated"]
    assert [words[3] for words in pod_lines] == ["PROVISIONING", "RUNNING", "EXITED", "TERMINATED"]


def test_live_mode_uses_the_environment_and_spares_pods(runpod_emulator: RunningEmulator) -> None:
    """LIVE=1 takes key, URLs and endpoint from the environment (here: an emulator)."""
    out = run_demo(
        LIVE="1",
        RUNPOD_API_KEY="live-mode-key",
        RUNPOD_API_BASE_URL=runpod_emulator.url,
        RUNPOD_ENDPOINT_BASE_URL=runpod_emulator.endpoint_base_url,
        RUNPOD_ENDPOINT_ID="my-endpoint",
    )
    assert out.startswith("runpod-typed demo against real RunPod, endpoint my-endpoint")
    assert_serverless_steps(out)
    assert "pod tour skipped: set LIVE_PODS=1" in out
    assert "illustrative" not in out


def test_live_mode_needs_an_endpoint_id() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
    result = subprocess.run(
        [sys.executable, "-m", "runpod_typed.demo"],
        cwd=ROOT,
        env={**clean, "LIVE": "1"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "RUNPOD_ENDPOINT_ID" in result.stderr
