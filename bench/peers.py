"""Running the client drivers: our venv's interpreter, or the official package's venv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.emulator import KEY, ROOT, EmulatorProcess

OFFICIAL_PYTHON = str(Path(ROOT) / ".official-venv" / "bin" / "python")


def python(official: bool) -> str:
    return OFFICIAL_PYTHON if official else sys.executable


def run_driver(
    official: bool, emulator: EmulatorProcess, tasks: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Run `tasks` in one fresh client process; each gets the emulator's URL and a key."""
    module = "bench.drivers.official" if official else "bench.drivers.ours"
    env = {
        **os.environ,
        "RUNPOD_ENDPOINT_BASE_URL": f"{emulator.url}/v2",
        "RUNPOD_API_BASE_URL": emulator.url,
    }
    payload = [{"url": emulator.url, "key": KEY, **task} for task in tasks]
    done = subprocess.run(
        [python(official), "-m", module],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def official_versions() -> dict[str, str]:
    """Versions of the official package and its HTTP libraries, without importing it."""
    script = (
        "import importlib.metadata as m, json, platform;"
        "print(json.dumps({'python': platform.python_version(),"
        "**{n: m.version(n) for n in ('runpod', 'requests', 'aiohttp')}}))"
    )
    out = subprocess.run(
        [OFFICIAL_PYTHON, "-c", script], capture_output=True, text=True, check=True
    )
    versions: dict[str, str] = json.loads(out.stdout)
    return versions
