"""RunPod's per-endpoint rate limits on the job API, enforced with sliding windows.

A request over its budget (requests per window, or requests in flight at once) gets
429 with `Retry-After`, as RunPod answers. The budgets and which route draws from
which come from the generated route table: `/status` and `/status-sync` share the
`status` budget; routes without a published limit (`/retry`, `/health`) are not limited.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from runpod_typed._generated.serverless.routes import RATE_BUDGETS, ROUTES


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` per `window_seconds`, and at most `concurrent` in flight (None: no cap)."""

    requests: int
    concurrent: int | None = None
    window_seconds: float = 10.0


#: RunPod's published numbers, per endpoint: budget name -> limit.
RUNPOD_RATE_LIMITS: Mapping[str, RateLimit] = MappingProxyType(
    {
        name: RateLimit(budget.requests, budget.concurrent, budget.per_seconds)
        for name, budget in RATE_BUDGETS.items()
    }
)

#: Route name -> the budget it draws from, where that is not the route's own name.
_BUDGET_OF_ROUTE = {
    name: route.rate_limit.bucket
    for name, route in ROUTES.items()
    if route.rate_limit is not None and route.rate_limit.bucket != name
}


class RateLimiter:
    """Admits or refuses requests per (endpoint, route budget); mutated on the event loop only."""

    def __init__(self, limits: Mapping[str, RateLimit]) -> None:
        self.limits: dict[str, RateLimit] = dict(limits)
        self.reset()

    def reset(self) -> None:
        self._recent: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._in_flight: defaultdict[tuple[str, str], int] = defaultdict(int)

    def acquire(self, endpoint_id: str, route: str, now: float) -> tuple[str, str] | float:
        """A token to `release` when the request ends, or the seconds to wait before retrying."""
        budget = _BUDGET_OF_ROUTE.get(route, route)
        limit = self.limits.get(budget)
        key = (endpoint_id, budget)
        if limit is None:
            return key
        recent = self._recent[key]
        while recent and recent[0] <= now - limit.window_seconds:
            recent.popleft()
        if len(recent) >= limit.requests:
            return float(max(1, math.ceil(recent[0] + limit.window_seconds - now)))
        if limit.concurrent is not None and self._in_flight[key] >= limit.concurrent:
            return 1.0
        recent.append(now)
        self._in_flight[key] += 1
        return key

    def release(self, token: tuple[str, str]) -> None:
        if token in self._in_flight:
            self._in_flight[token] -= 1
