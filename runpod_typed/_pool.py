"""Connection pools for fan-out: several small httpcore pools instead of one large one.

httpcore looks at every connection of its pool on each request (idle checks,
a readability syscall per connection). With 200 requests in flight in one
pool, that scan -- not the network -- was most of the client's CPU in the
fan-out benchmark. Spreading requests over a few small pools keeps each scan
short; each request goes to the pool with the fewest requests in flight.
"""

from __future__ import annotations

import math

import httpx

#: Pools per async client; each holds 1/SHARDS of the client's connection limits.
SHARDS = 16


def _share(value: int | None, shards: int) -> int | None:
    return None if value is None else max(1, math.ceil(value / shards))


class ShardedAsyncTransport(httpx.AsyncBaseTransport):
    """An httpx transport over `shards` independent connection pools."""

    def __init__(self, limits: httpx.Limits, shards: int = SHARDS) -> None:
        per_pool = httpx.Limits(
            max_connections=_share(limits.max_connections, shards),
            max_keepalive_connections=_share(limits.max_keepalive_connections, shards),
            keepalive_expiry=limits.keepalive_expiry,
        )
        # One TLS context for all pools: building one (loading the CA bundle) costs ~60 ms.
        tls = httpx.create_ssl_context()
        self._pools = [httpx.AsyncHTTPTransport(limits=per_pool, verify=tls) for _ in range(shards)]
        self._in_flight = [0] * shards

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self._pools)), key=self._in_flight.__getitem__)
        self._in_flight[index] += 1
        try:
            return await self._pools[index].handle_async_request(request)
        finally:
            self._in_flight[index] -= 1

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()
