"""Client-side token buckets: burst, queueing by reservation, refill, threads; and the
budgets both limiters take from the route table (the emulator's windows are tested too)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from runpod_typed._errors import ConfigurationError
from runpod_typed._generated.serverless.routes import RATE_BUDGETS, ROUTES
from runpod_typed._ratelimit import RUNPOD_RATE_LIMITS, RateLimit, RateLimiter
from runpod_typed.emulator import _ratelimit as emulator_ratelimit

EP = "endpoint1"


def limiter(requests: int, per_seconds: float, route: str = "run") -> RateLimiter:
    return RateLimiter(limits={route: RateLimit(requests, per_seconds)})


# -- limits -----------------------------------------------------------------------


def test_the_default_limits_are_the_route_tables_budgets() -> None:
    expected = {name: (b.requests, b.per_seconds) for name, b in RATE_BUDGETS.items()}
    assert {k: (v.requests, v.per_seconds) for k, v in RUNPOD_RATE_LIMITS.items()} == expected
    emulator = emulator_ratelimit.RUNPOD_RATE_LIMITS
    assert {k: (v.requests, v.window_seconds, v.concurrent) for k, v in emulator.items()} == {
        name: (b.requests, b.per_seconds, b.concurrent) for name, b in RATE_BUDGETS.items()
    }


def _client_burst(route: str) -> int:
    """How many requests to `route` the default client limiter lets go at once (max 5000)."""
    rl = RateLimiter()
    for sent in range(5000):
        if rl.reserve((EP, route), 0.0) > 0:
            return sent
    return 5000


def _emulator_burst(route: str) -> int:
    """How many requests to `route` the default emulator limiter admits at once (max 5000)."""
    rl = emulator_ratelimit.RateLimiter(emulator_ratelimit.RUNPOD_RATE_LIMITS)
    for sent in range(5000):
        token = rl.acquire(EP, route, 0.0)
        if isinstance(token, float):
            return sent
        rl.release(token)
    return 5000


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_each_route_is_limited_by_its_budget_in_the_table(route: str) -> None:
    budget = ROUTES[route].rate_limit
    expected = 5000 if budget is None else budget.requests
    assert _client_burst(route) == expected
    assert _emulator_burst(route) == expected


def test_status_and_status_sync_draw_from_one_budget() -> None:
    budget = RATE_BUDGETS["status"].requests
    client = RateLimiter()
    emulator = emulator_ratelimit.RateLimiter(emulator_ratelimit.RUNPOD_RATE_LIMITS)
    for i in range(budget):
        route = "status" if i % 2 else "status-sync"
        assert client.reserve((EP, route), 0.0) == 0.0
        token = emulator.acquire(EP, route, 0.0)
        assert isinstance(token, tuple)
        emulator.release(token)
    assert client.reserve((EP, "status-sync"), 0.0) > 0
    assert client.reserve((EP, "status"), 0.0) > 0
    assert isinstance(emulator.acquire(EP, "status", 0.0), float)
    assert isinstance(emulator.acquire(EP, "status-sync", 0.0), float)
    assert client.bucket_count == 1


def test_published_limits_cannot_be_changed_in_place() -> None:
    with pytest.raises(TypeError):
        RUNPOD_RATE_LIMITS["run"] = RateLimit(1, 1)  # type: ignore[index]


def test_rate_is_tokens_per_second() -> None:
    assert RateLimit(2000, 10).rate == 200.0


@pytest.mark.parametrize(
    ("requests", "per_seconds"),
    [(0, 10), (-1, 10), (1.5, 10), (True, 10), (10, 0), (10, -1), (10, float("inf")), (10, "1")],
)
def test_rate_limit_rejects_bad_values(requests: Any, per_seconds: Any) -> None:
    with pytest.raises(ConfigurationError, match="RateLimit"):
        RateLimit(requests, per_seconds)


def test_limiter_copies_the_limits_it_is_given() -> None:
    limits = {"run": RateLimit(1, 1)}
    rl = RateLimiter(limits=limits)
    limits["run"] = RateLimit(100, 1)
    rl.reserve((EP, "run"), 0.0)
    assert rl.reserve((EP, "run"), 0.0) == 1.0


def test_max_buckets_must_be_positive() -> None:
    with pytest.raises(ConfigurationError):
        RateLimiter(max_buckets=0)


# -- reserve --------------------------------------------------------------------------


def test_bucket_starts_full_so_a_burst_goes_at_once() -> None:
    rl = limiter(5, 10)
    assert [rl.reserve((EP, "run"), 0.0) for _ in range(5)] == [0.0] * 5


def test_callers_beyond_the_burst_queue_one_slot_apart() -> None:
    rl = limiter(5, 10)  # one token every 2 s
    for _ in range(5):
        rl.reserve((EP, "run"), 0.0)
    waits = [rl.reserve((EP, "run"), 0.0) for _ in range(3)]
    assert waits == pytest.approx([2.0, 4.0, 6.0])


def test_queued_slots_account_for_the_callers_own_clock() -> None:
    rl = limiter(1, 1)
    assert rl.reserve((EP, "run"), 0.0) == 0.0
    # Slots are at t=1, 2, 3 whatever time each caller asks at.
    assert rl.reserve((EP, "run"), 0.5) == pytest.approx(0.5)
    assert rl.reserve((EP, "run"), 0.75) == pytest.approx(1.25)
    assert rl.reserve((EP, "run"), 1.0) == pytest.approx(2.0)


def test_tokens_refill_with_time() -> None:
    rl = limiter(2, 10)  # a token every 5 s
    rl.reserve((EP, "run"), 0.0)
    rl.reserve((EP, "run"), 0.0)
    assert rl.reserve((EP, "run"), 5.0) == pytest.approx(0.0)
    assert rl.reserve((EP, "run"), 6.0) == pytest.approx(4.0)


def test_refill_never_exceeds_the_burst_size() -> None:
    rl = limiter(3, 3)
    for _ in range(3):
        rl.reserve((EP, "run"), 0.0)
    waits = [rl.reserve((EP, "run"), 1_000.0) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(1.0)


def test_a_caller_whose_clock_lags_the_bucket_waits_for_the_same_slot() -> None:
    rl = limiter(1, 1)
    assert rl.reserve((EP, "run"), 10.0) == 0.0
    # Read the clock at 9.5 but got the lock after the 10.0 caller: next slot is 11.0.
    assert rl.reserve((EP, "run"), 9.5) == pytest.approx(1.5)


def test_a_lagging_caller_with_a_token_available_goes_at_once() -> None:
    rl = limiter(2, 1)
    rl.reserve((EP, "run"), 10.0)
    assert rl.reserve((EP, "run"), 9.5) == 0.0


def test_buckets_are_per_endpoint_and_per_route() -> None:
    rl = RateLimiter(limits={"run": RateLimit(1, 10), "status": RateLimit(1, 10)})
    assert rl.reserve(("a", "run"), 0.0) == 0.0
    assert rl.reserve(("b", "run"), 0.0) == 0.0
    assert rl.reserve(("a", "status"), 0.0) == 0.0
    assert rl.reserve(("a", "run"), 0.0) == pytest.approx(10.0)
    assert rl.bucket_count == 3


def test_routes_without_a_limit_are_free_and_keep_no_state() -> None:
    rl = limiter(1, 10)
    assert [rl.reserve((EP, "graphql"), 0.0) for _ in range(1000)] == [0.0] * 1000
    assert rl.bucket_count == 0


def test_default_limiter_uses_runpods_limits() -> None:
    rl = RateLimiter()
    assert rl.enabled
    waits = [rl.reserve((EP, "purge-queue"), 0.0) for _ in range(3)]
    assert waits == pytest.approx([0.0, 0.0, 5.0])


def test_disabled_limiter_never_waits() -> None:
    rl = RateLimiter.disabled()
    assert not rl.enabled
    assert all(rl.reserve((EP, "purge-queue"), 0.0) == 0.0 for _ in range(100))
    assert rl.bucket_count == 0


# -- memory ---------------------------------------------------------------------------


def test_full_buckets_are_dropped_when_there_are_too_many() -> None:
    rl = RateLimiter(limits={"run": RateLimit(10, 10)}, max_buckets=3)
    for i in range(1000):
        rl.reserve((f"ep{i}", "run"), float(i) * 2)  # each one full again 1 s later
        assert rl.bucket_count <= 3


def test_buckets_still_in_use_are_kept_beyond_the_bound() -> None:
    rl = RateLimiter(limits={"run": RateLimit(10, 10)}, max_buckets=3)
    for i in range(5):
        rl.reserve((f"ep{i}", "run"), 0.0)
    assert rl.bucket_count == 5  # none refilled yet: dropping one would forget its debt
    rl.reserve(("late", "run"), 100.0)
    assert rl.bucket_count == 1


def test_repeated_requests_do_not_grow_memory() -> None:
    rl = limiter(1000, 10)
    for i in range(10_000):
        rl.reserve((EP, "run"), i * 0.001)
    assert rl.bucket_count == 1


# -- threads --------------------------------------------------------------------------


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads as often as CPython allows, to make interleavings likely."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def test_concurrent_reservations_get_distinct_slots(busy_switching: None) -> None:
    """Many threads at one instant: every slot is handed out exactly once."""
    rl = limiter(100, 10)  # 100 at once, then one every 0.1 s
    threads, per_thread = 8, 250
    waits: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        start.wait()
        mine = [rl.reserve((EP, "run"), 0.0) for _ in range(per_thread)]
        with lock:
            waits.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()

    total = threads * per_thread
    expected = [0.0] * 100 + [k * 0.1 for k in range(1, total - 100 + 1)]
    assert sorted(waits) == pytest.approx(expected)
