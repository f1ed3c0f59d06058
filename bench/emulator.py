"""The emulator as a separate process, so its CPU never counts as the client's."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

KEY = "bench-key"
ROOT = __file__.rsplit("/bench/", 1)[0]


@dataclass(frozen=True)
class EmulatorProcess:
    url: str

    def requests_by_endpoint(self, endpoint_id: str) -> dict[str, int]:
        """Requests per route the emulator has counted for one endpoint id."""
        # The key is needed once the emulator runs with --api-key (admin routes take it too).
        answer = httpx.get(f"{self.url}/_emulator/counters", headers={"Authorization": KEY})
        counters: dict[str, Any] = answer.json()
        routes: dict[str, int] = counters["requests_by_endpoint"].get(endpoint_id, {})
        return routes


@contextmanager
def emulator(workers: int, streams: Sequence[str] = ()) -> Iterator[EmulatorProcess]:
    """The emulator CLI on a free loopback port: bench handler (the streaming one on the
    endpoint ids `streams`), no rate limits."""
    command = [
        sys.executable,
        "-m",
        "runpod_typed.emulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-rate-limits",
        "--workers",
        str(workers),
        "--handler",
        "bench.handlers:handle",
        *(
            arg
            for endpoint in streams
            for arg in ("--handler", f"{endpoint}=bench.handlers:stream")
        ),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("READY http://"):
            raise RuntimeError(f"emulator did not start: {line!r}")
        yield EmulatorProcess(line.removeprefix("READY "))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
