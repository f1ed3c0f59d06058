"""Integration tests: real loopback sockets against the emulator.

Helpers shared by the emulator's own tests live here.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from runpod_typed.emulator import RunningEmulator

T = TypeVar("T")

#: Bound on how long a helper waits for something the server does by itself.
PATIENCE_SECONDS = 30.0


def job_api(server: RunningEmulator, key: str = "test-key") -> httpx.Client:
    """An httpx client for the job API of `server`, authenticated with `key`."""
    return httpx.Client(
        base_url=server.endpoint_base_url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=PATIENCE_SECONDS,
    )


def eventually(check: Callable[[], T | None], what: str) -> T:
    """Poll `check` until it returns something other than None (bounded), for changes
    driven by the server's timers (retention, ttl) that no request can wait on."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        result = check()
        if result is not None:
            return result
        time.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


class Gate:
    """Holds a handler at a point until the test opens it; works from sync handlers
    (threads) and async handlers (the server's loop) alike, and async waits stay
    cancellable."""

    def __init__(self) -> None:
        self._opened = threading.Event()
        self._reached = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def open(self) -> None:
        with self._lock:
            self._opened.set()
            for loop, event in self._waiters:
                loop.call_soon_threadsafe(event.set)

    def wait_sync(self) -> None:
        self._reached.set()
        if not self._opened.wait(PATIENCE_SECONDS):
            raise TimeoutError("gate never opened")

    async def wait(self) -> None:
        self._reached.set()
        event = asyncio.Event()
        with self._lock:
            if self._opened.is_set():
                return
            self._waiters.append((asyncio.get_running_loop(), event))
        await event.wait()

    def wait_reached(self) -> None:
        """Block the test until a handler is waiting at this gate."""
        if not self._reached.wait(PATIENCE_SECONDS):
            raise AssertionError("no handler reached the gate")
