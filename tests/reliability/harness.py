"""Clients wired for the suite: every request they send is shown to the secret witness.

The SDK takes the caller's httpx client (`http_client=`), so the suite passes
clients with event hooks: each URL, header (but the Authorization one, which
must carry the key) and body that goes on the wire is checked for the key, and
the same goes for what the emulator receives, since loopback changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from runpod_typed import AsyncRunpod, PollingOptions, RetryPolicy, Runpod

from .recorder import SECRET_KEY, SecretWitness

#: Polling for jobs of a few hundred milliseconds at most.
FAST_POLLING = PollingOptions(first_delay=0.02, max_delay=0.2)
#: Retries that give up in well under a second (malformed-server cases).
FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.01, deadline=5)
#: Keep-alive pool big enough for the soak's concurrency.
LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=128)


def _check_request(witness: SecretWitness, request: httpx.Request) -> None:
    witness.check("request URL", str(request.url))
    for name, value in request.headers.items():
        if name.lower() != "authorization":
            witness.check("request header", f"{name}: {value}")
    body = request.content
    if body:
        witness.check("request body", body.decode("utf-8", "replace"))


def sync_http(
    witness: SecretWitness,
    transport: httpx.BaseTransport | None = None,
    *,
    on_request: Callable[[httpx.Request], Any] | None = None,
) -> httpx.Client:
    """A blocking pool that shows each request to the witness (and to `on_request`)."""
    hooks = [
        lambda request: _check_request(witness, request),
        *([on_request] if on_request else []),
    ]
    return httpx.Client(transport=transport, limits=LIMITS, event_hooks={"request": hooks})


AsyncHook = Callable[[Any], Awaitable[None]]


def async_http(
    witness: SecretWitness,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    on_request: AsyncHook | None = None,
    on_response: AsyncHook | None = None,
) -> httpx.AsyncClient:
    """An async pool that shows each request to the witness (and to the optional hooks)."""

    async def check(request: httpx.Request) -> None:
        _check_request(witness, request)

    hooks: dict[str, list[AsyncHook]] = {
        "request": [check, *([on_request] if on_request else [])],
        "response": [on_response] if on_response else [],
    }
    return httpx.AsyncClient(transport=transport, limits=LIMITS, event_hooks=hooks)


def emulator_urls(server: Any) -> dict[str, Any]:
    """Client options that point both APIs at a running emulator."""
    return {"api_base_url": server.url, "endpoint_base_url": server.endpoint_base_url}


def sync_client(
    witness: SecretWitness,
    *,
    transport: httpx.BaseTransport | None = None,
    api_key: Any = SECRET_KEY,
    on_request: Callable[[httpx.Request], Any] | None = None,
    **options: Any,
) -> Runpod:
    """A blocking client over an instrumented pool; the caller closes `client._http`."""
    options.setdefault("polling", FAST_POLLING)
    http = sync_http(witness, transport, on_request=on_request)
    return Runpod(api_key, http_client=http, **options)


def async_client(
    witness: SecretWitness,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    api_key: Any = SECRET_KEY,
    on_request: AsyncHook | None = None,
    on_response: AsyncHook | None = None,
    **options: Any,
) -> AsyncRunpod:
    options.setdefault("polling", FAST_POLLING)
    http = async_http(witness, transport, on_request=on_request, on_response=on_response)
    return AsyncRunpod(api_key, http_client=http, **options)


def wait_until(predicate: Callable[[], bool], *, bound: float = 10.0, step: float = 0.02) -> bool:
    """Poll `predicate` until it holds or `bound` seconds pass; return whether it held."""
    deadline = time.monotonic() + bound
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)
    return True


async def await_until(
    predicate: Callable[[], bool | Awaitable[bool]], *, bound: float = 10.0, step: float = 0.02
) -> bool:
    """`wait_until` for async tests (the predicate may be a coroutine function)."""
    deadline = time.monotonic() + bound
    while True:
        held = predicate()
        if not isinstance(held, bool):
            held = await held
        if held:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(step)


def unfinished(server: Any) -> int:
    """Jobs the emulator created that have not reached a final state."""
    counters = server.counters()
    return int(counters["jobs_created"]) - len(counters["final_states"])
