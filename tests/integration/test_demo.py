"""`make demo` end to end: the demo runs on the in-process emulator and shows every step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_on_the_emulator() -> None:
    # No key, no live flag: the demo must need nothing from the environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_") and k != "LIVE"}
    result = subprocess.run(
        [sys.executable, "-m", "runpod_typed.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    out = result.stdout
    assert result.returncode == 0, f"{out}\n{result.stderr}"
    assert "(no key, no network)" in out
    assert "Image(url='https://example.com/fox.png', width=768, height=512, seed=7)" in out
    assert "raises OutputValidationError" in out
    for step in ("loading model", "denoising 50%", "denoising 100%", "COMPLETED"):
        assert step in out
    assert "stream: Once upon a time a tiny GPU" in out
    cancel_lines = [line for line in out.splitlines() if "-> job " in line]
    assert len(cancel_lines) == 2
    assert all(line.endswith(": CANCELLED") for line in cancel_lines)
    assert "97 ok, 3 failed" in out
    assert "results[:6] = [0, 1, 4, 9, 16, 25]" in out
    assert "item 42: JobFailed: item 42 is malformed" in out
    assert "secure $/h" in out
    pod_lines = [line.split() for line in out.splitlines() if " pod " in line]
    assert [words[0] for words in pod_lines] == ["created", "running", "stopped", "terminated"]
    assert [words[3] for words in pod_lines] == ["CREATED", "RUNNING", "EXITED", "TERMINATED"]
    assert out.rstrip().splitlines()[-1].startswith("done in ")
