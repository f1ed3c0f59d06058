"""The emulator handler the benchmarks run: timestamps taken on the server side.

Loaded by the emulator process (``--handler bench.handlers:handle``), so each
finish and each stream chunk carries the server's wall clock, which the client
process on the same machine subtracts from its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any


async def _ticks(chunks: int, interval: float) -> AsyncIterator[dict[str, Any]]:
    for index in range(chunks):
        await asyncio.sleep(interval)
        yield {"i": index, "produced_at": time.time()}


async def handle(job: dict[str, Any]) -> Any:
    """By input keys: `seconds` sleeps then reports when it finished; anything else is
    echoed at once."""
    data = job["input"]
    if "seconds" in data:
        await asyncio.sleep(float(data["seconds"]))
        return {"finished_at": time.time()}
    return data


async def stream(job: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """`chunks` timestamped chunks, one every `interval` seconds. A generator handler of
    its own: RunPod's runtime streams only from a handler that is a generator function."""
    data = job["input"]
    async for chunk in _ticks(int(data["chunks"]), float(data.get("interval", 0.1))):
        yield chunk
