"""Shared pieces for running the examples and the README against the emulator.

A module of its own (not conftest.py), so tests can import it by a name no other
test directory uses.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from runpod_typed.emulator import RunningEmulator

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
KEY = "examples-test-key"


def load_example(name: str) -> ModuleType:
    """Import examples/<name>.py as a fresh module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_env(server: RunningEmulator, endpoint_id: str, **extra: str) -> dict[str, str]:
    """The environment a user would set, pointed at `server`; nothing inherited from RUNPOD_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_") and k != "LIVE"}
    env.update(
        RUNPOD_API_KEY=KEY,
        RUNPOD_API_BASE_URL=server.url,
        RUNPOD_ENDPOINT_BASE_URL=server.endpoint_base_url,
        RUNPOD_ENDPOINT_ID=endpoint_id,
        **extra,
    )
    return env


def run_python(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python <args>` from the repository root; fail with its output if it fails."""
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=dict(env), capture_output=True, text=True
    )
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result
