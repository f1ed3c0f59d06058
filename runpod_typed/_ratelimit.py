"""Client-side rate limiting with RunPod's published per-endpoint limits.

Staying under the limits locally is cheaper than meeting them as 429s: a burst
of `map()` calls waits its turn here instead of spending retries. The limiter
is a token bucket per (endpoint id, budget) that callers *reserve* from: each
call takes the next free slot, possibly in the future, and is told how long to
wait for it. Callers therefore queue in arrival order without polling, and the
limiter never sleeps itself, so threads and asyncio tasks can share it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from runpod_typed._errors import ConfigurationError
from runpod_typed._generated.serverless.routes import RATE_BUDGETS, ROUTES

#: (endpoint id, route name), e.g. ("abc123", "runsync").
BucketKey = tuple[str, str]


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` requests per `per_seconds`, with bursts up to `requests`."""

    requests: int
    per_seconds: float

    def __post_init__(self) -> None:
        if isinstance(self.requests, bool) or not isinstance(self.requests, int):
            raise ConfigurationError(f"RateLimit.requests must be an int, got {self.requests!r}")
        if self.requests < 1:
            raise ConfigurationError(f"RateLimit.requests must be >= 1, got {self.requests}")
        if (
            isinstance(self.per_seconds, bool)
            or not isinstance(self.per_seconds, (int, float))
            or not math.isfinite(self.per_seconds)
            or self.per_seconds <= 0
        ):
            raise ConfigurationError(
                f"RateLimit.per_seconds must be a positive number, got {self.per_seconds!r}"
            )

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self.requests / self.per_seconds


#: Budget name -> RunPod's published limit, per endpoint (from the generated route table).
#: A route draws from its table budget (`/status-sync` from `status`); routes without
#: one (`/health`, `/retry`: RunPod publishes no limit; GraphQL) are not limited.
RUNPOD_RATE_LIMITS: Mapping[str, RateLimit] = MappingProxyType(
    {name: RateLimit(b.requests, b.per_seconds) for name, b in RATE_BUDGETS.items()}
)
#: Route name -> the budget it draws from, where that is not the route's own name.
BUDGET_OF_ROUTE: Mapping[str, str] = MappingProxyType(
    {
        name: route.rate_limit.bucket
        for name, route in ROUTES.items()
        if route.rate_limit is not None and route.rate_limit.bucket != name
    }
)


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        # May go negative: -tokens slots are already promised to waiting callers.
        self.tokens = tokens
        self.stamp = stamp


class RateLimiter:
    """Thread-safe token buckets, one per (endpoint id, budget), created on first use.

    `limits` maps budget names (RunPod's: see `RUNPOD_RATE_LIMITS`) to limits; a
    route draws from its budget in the route table, else from its own name.

    Memory is bounded by the number of distinct endpoints in use: when more than
    `max_buckets` exist, buckets that have refilled completely (indistinguishable
    from a fresh one) are dropped.
    """

    def __init__(
        self, limits: Mapping[str, RateLimit] = RUNPOD_RATE_LIMITS, *, max_buckets: int = 10_000
    ) -> None:
        if max_buckets < 1:
            raise ConfigurationError(f"max_buckets must be >= 1, got {max_buckets}")
        self.limits: Mapping[str, RateLimit] = MappingProxyType(dict(limits))
        self._max_buckets = max_buckets
        self._buckets: dict[BucketKey, _Bucket] = {}
        self._lock = threading.Lock()

    @classmethod
    def disabled(cls) -> RateLimiter:
        """A limiter that never makes anyone wait."""
        return cls(limits={})

    @property
    def enabled(self) -> bool:
        return bool(self.limits)

    def reserve(self, key: BucketKey, now: float) -> float:
        """Take the next slot for `key`; return the seconds to wait before sending (0.0: go).

        `now` is a monotonic clock reading taken by the caller; readings from
        concurrent callers may arrive slightly out of order, which is allowed.
        """
        endpoint_id, route = key
        budget = BUDGET_OF_ROUTE.get(route, route)
        limit = self.limits.get(budget)
        if limit is None:
            return 0.0
        key = (endpoint_id, budget)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self._max_buckets:
                    self._prune(now)
                bucket = self._buckets[key] = _Bucket(float(limit.requests), now)
            elif now > bucket.stamp:
                refill = (now - bucket.stamp) * limit.rate
                bucket.tokens = min(float(limit.requests), bucket.tokens + refill)
                bucket.stamp = now
            bucket.tokens -= 1.0
            if bucket.tokens >= 0:
                # A caller whose `now` lags the bucket's stamp may still go at once.
                return 0.0
            # The slot arrives when the deficit has refilled, counted from the
            # bucket's clock; a caller behind that clock waits the difference too.
            return -bucket.tokens / limit.rate + (bucket.stamp - now)

    def _prune(self, now: float) -> None:
        """Drop buckets that are full by `now` (called with the lock held)."""
        for key, bucket in list(self._buckets.items()):
            limit = self.limits[key[1]]
            if bucket.tokens + max(0.0, now - bucket.stamp) * limit.rate >= limit.requests:
                del self._buckets[key]

    @property
    def bucket_count(self) -> int:
        """Number of live buckets (for tests and debugging)."""
        return len(self._buckets)
