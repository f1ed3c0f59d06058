"""Webhook delivery: a finished job's status is POSTed to the URL given at submission.

As RunPod does, a delivery that fails (connection error or non-2xx answer) is tried
again, up to `attempts` times in all, `retry_delay` seconds apart.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

from runpod_typed.emulator._counters import Counters

if TYPE_CHECKING:
    import ssl

    import httpx


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process: building it is the slow part of making a client."""
    import httpx

    return httpx.create_ssl_context()


class WebhookSender:
    """Runs deliveries as tasks on the server's loop; `cancel_all` stops pending retries."""

    def __init__(self, counters: Counters, *, attempts: int, retry_delay: float) -> None:
        self.counters = counters
        self.attempts = attempts
        self.retry_delay = retry_delay
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, url: str, body: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(url, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, body: dict[str, Any]) -> None:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10.0, verify=_tls_context())
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.retry_delay)
            self.counters.webhook("attempts")
            try:
                response = await self._client.post(url, json=body)
            except httpx.HTTPError:
                continue
            if response.is_success:
                self.counters.webhook("delivered")
                return
        self.counters.webhook("failed")

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def aclose(self) -> None:
        self.cancel_all()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        if self._client is not None:
            await self._client.aclose()
            self._client = None
