"""Retry decisions: what is retried, how long to wait, and when to give up."""

from __future__ import annotations

import email.utils
import random
from typing import Any

import httpx
import pytest

from runpod_typed._errors import ConfigurationError
from runpod_typed._retry import (
    Outcome,
    OutcomeKind,
    RetryPolicy,
    RetryState,
    parse_retry_after,
    retry_after_from_headers,
)

NOW = 1_700_000_000.0  # a wall-clock instant for HTTP-date arithmetic


class MaxRandom(random.Random):
    """Always draws the top of the range, to test caps and deadline clipping."""

    def uniform(self, a: float, b: float) -> float:
        return b


def state(policy: RetryPolicy | None = None, *, now: float = 0.0, rng: Any = None) -> RetryState:
    return RetryState(policy or RetryPolicy(), now=now, rng=rng or random.Random(7))


def status(code: int, **headers: str) -> Outcome:
    return Outcome.from_status(code, {k.replace("_", "-"): v for k, v in headers.items()}, now=NOW)


# -- RetryPolicy ----------------------------------------------------------------


def test_policy_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.initial_delay, policy.multiplier) == (5, 0.5, 2.0)
    assert (policy.max_delay, policy.max_retry_after, policy.deadline) == (8.0, 60.0, 60.0)


def test_policy_none_makes_one_attempt() -> None:
    policy = RetryPolicy.none()
    assert policy.max_attempts == 1
    assert state(policy).next_delay(Outcome.connect_failed(), idempotent=True, now=0) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": -1},
        {"max_attempts": 101},
        {"max_attempts": 2.0},
        {"max_attempts": True},
        {"initial_delay": -0.1},
        {"initial_delay": float("nan")},
        {"initial_delay": "1"},
        {"max_delay": float("inf")},
        {"max_delay": 100_000.0},
        {"initial_delay": 9.0, "max_delay": 8.0},
        {"multiplier": 0.5},
        {"multiplier": 11},
        {"multiplier": float("nan")},
        {"multiplier": None},
        {"max_retry_after": -1},
        {"deadline": 0},
        {"deadline": -5},
        {"deadline": float("inf")},
        {"deadline": False},
    ],
)
def test_policy_rejects_bad_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="RetryPolicy"):
        RetryPolicy(**kwargs)


def test_policy_accepts_boundaries() -> None:
    RetryPolicy(max_attempts=1, initial_delay=0, max_delay=0, multiplier=1, deadline=None)
    RetryPolicy(max_attempts=100, max_delay=86_400, deadline=86_400, max_retry_after=0)


def test_policy_is_frozen() -> None:
    with pytest.raises(AttributeError):
        RetryPolicy().max_attempts = 3  # type: ignore[misc]


def test_backoff_cap_grows_exponentially_up_to_max_delay() -> None:
    policy = RetryPolicy()
    assert [policy.backoff_cap(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 8, 8]


def test_backoff_cap_does_not_overflow() -> None:
    policy = RetryPolicy(multiplier=10, max_attempts=100)
    assert policy.backoff_cap(10_000) == policy.max_delay


# -- Outcome classification -------------------------------------------------------

REQUEST = httpx.Request("POST", "https://api.runpod.ai/v2/e/run")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("refused", request=REQUEST), OutcomeKind.CONNECT_FAILED),
        (httpx.ConnectTimeout("slow", request=REQUEST), OutcomeKind.CONNECT_FAILED),
        (httpx.PoolTimeout("pool", request=REQUEST), OutcomeKind.CONNECT_FAILED),
        (httpx.ReadError("reset", request=REQUEST), OutcomeKind.SEND_FAILED),
        (httpx.ReadTimeout("slow", request=REQUEST), OutcomeKind.SEND_FAILED),
        (httpx.WriteError("broken", request=REQUEST), OutcomeKind.SEND_FAILED),
        (httpx.WriteTimeout("slow", request=REQUEST), OutcomeKind.SEND_FAILED),
        (httpx.RemoteProtocolError("gone", request=REQUEST), OutcomeKind.SEND_FAILED),
        (httpx.ProxyError("proxy", request=REQUEST), OutcomeKind.SEND_FAILED),
        (OSError("unknown"), OutcomeKind.SEND_FAILED),
        (httpx.UnsupportedProtocol("ftp", request=REQUEST), OutcomeKind.UNSENDABLE),
        (httpx.LocalProtocolError("bad header", request=REQUEST), OutcomeKind.UNSENDABLE),
    ],
)
def test_from_exception(exc: BaseException, kind: OutcomeKind) -> None:
    assert Outcome.from_exception(exc).kind is kind


def test_named_constructors() -> None:
    assert Outcome.connect_failed() == Outcome(OutcomeKind.CONNECT_FAILED)
    assert Outcome.send_failed() == Outcome(OutcomeKind.SEND_FAILED)


def test_from_status_keeps_code_and_parsed_retry_after() -> None:
    outcome = Outcome.from_status(429, httpx.Headers({"Retry-After": "3"}), now=NOW)
    assert outcome == Outcome(OutcomeKind.STATUS, 429, 3.0)
    assert Outcome.from_status(503, {}, now=NOW).retry_after is None


def test_from_status_defaults_now_to_the_wall_clock() -> None:
    assert Outcome.from_status(429, {"retry-after": "2"}).retry_after == 2.0


# (outcome, retried when idempotent, retried when not idempotent)
DECISIONS = [
    (Outcome.connect_failed(), True, True),
    (Outcome.send_failed(), True, False),
    (Outcome(OutcomeKind.UNSENDABLE), False, False),
    (status(429), True, True),
    (status(429, retry_after="1"), True, True),
    (status(500), True, False),
    (status(502), True, False),
    (status(503), True, False),
    (status(503, retry_after="1"), True, False),
    (status(504), True, False),
    (status(520), True, False),
    (status(501), False, False),
    (status(505), False, False),
    (status(400), False, False),
    (status(401), False, False),
    (status(403), False, False),
    (status(404), False, False),
    (status(408), False, False),
    (status(409), False, False),
    (status(413), False, False),
    (status(422), False, False),
    (status(200), False, False),
    (status(304), False, False),
    (Outcome(OutcomeKind.STATUS), False, False),
]


@pytest.mark.parametrize(("outcome", "idempotent_retry", "other_retry"), DECISIONS)
def test_decision_table(outcome: Outcome, idempotent_retry: bool, other_retry: bool) -> None:
    assert outcome.retryable(idempotent=True) is idempotent_retry
    assert outcome.retryable(idempotent=False) is other_retry
    for idempotent, expected in ((True, idempotent_retry), (False, other_retry)):
        delay = state().next_delay(outcome, idempotent=idempotent, now=0.0)
        assert (delay is not None) is expected


# -- Retry-After -------------------------------------------------------------------


def http_date(offset: float) -> str:
    return email.utils.formatdate(NOW + offset, usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (" 7 ", 7.0),
        ("120", 120.0),
        (http_date(30), 30.0),
        (http_date(-30), 0.0),
        (http_date(0), 0.0),
        ("Tue, 14 Nov 2023 22:14:00 -0000", 1_700_000_040.0 - NOW),
        ("Tue, 14 Nov 2023 23:14:00 +0100", 1_700_000_040.0 - NOW),
        (None, None),
        ("", None),
        ("-1", None),
        ("inf", None),
        ("nan", None),
        ("soon", None),
        ("Wed, 32 Oct 2015 07:28:00 GMT", None),
        ("Tue, 14 Nov 2023", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    result = parse_retry_after(value, NOW)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_retry_after_headers_are_case_insensitive_and_ms_wins() -> None:
    assert retry_after_from_headers({"RETRY-AFTER": "4"}, NOW) == 4.0
    assert retry_after_from_headers({"Retry-After": "4", "retry-after-ms": "250"}, NOW) == 0.25
    assert retry_after_from_headers({"retry-after-ms": "junk", "retry-after": "4"}, NOW) == 4.0
    assert retry_after_from_headers({}, NOW) is None


def test_delay_is_at_least_retry_after() -> None:
    delay = state().next_delay(status(429, retry_after="7"), idempotent=False, now=0.0)
    assert delay == 7.0


def test_retry_after_from_an_http_date_is_honoured() -> None:
    outcome = status(503, retry_after=http_date(12))
    assert state().next_delay(outcome, idempotent=True, now=0.0) == pytest.approx(12.0)


def test_backoff_wins_when_longer_than_retry_after() -> None:
    s = state(RetryPolicy(initial_delay=4, max_delay=4), rng=MaxRandom())
    assert s.next_delay(status(429, retry_after="1"), idempotent=True, now=0.0) == 4.0


def test_retry_after_above_max_retry_after_gives_up() -> None:
    s = state(RetryPolicy(max_retry_after=30))
    assert s.next_delay(status(429, retry_after="31"), idempotent=True, now=0.0) is None
    s = state(RetryPolicy(max_retry_after=30))
    assert s.next_delay(status(429, retry_after="30"), idempotent=True, now=0.0) == 30.0


# -- attempts and deadline ------------------------------------------------------------


def test_max_attempts_counts_total_tries() -> None:
    s = state(RetryPolicy(max_attempts=3, deadline=None))
    delays = [s.next_delay(Outcome.connect_failed(), idempotent=True, now=0.0) for _ in range(3)]
    assert [d is not None for d in delays] == [True, True, False]
    assert s.attempts == 3


def test_attempts_are_counted_even_when_giving_up_at_once() -> None:
    s = state()
    assert s.next_delay(status(400), idempotent=True, now=0.0) is None
    assert s.attempts == 1


def test_no_retry_once_the_deadline_has_passed() -> None:
    s = state(RetryPolicy(deadline=10), now=100.0)
    assert s.next_delay(Outcome.connect_failed(), idempotent=True, now=109.0) is not None
    assert s.next_delay(Outcome.connect_failed(), idempotent=True, now=110.0) is None


def test_backoff_is_cut_to_the_time_left_before_the_deadline() -> None:
    s = state(RetryPolicy(initial_delay=8, deadline=10), now=0.0, rng=MaxRandom())
    assert s.next_delay(Outcome.connect_failed(), idempotent=True, now=7.5) == 2.5


def test_retry_after_beyond_the_deadline_gives_up() -> None:
    s = state(RetryPolicy(deadline=10), now=0.0)
    assert s.next_delay(status(429, retry_after="5"), idempotent=True, now=6.0) is None


def test_retry_after_within_the_deadline_is_waited_in_full() -> None:
    s = state(RetryPolicy(deadline=10), now=0.0)
    assert s.next_delay(status(429, retry_after="4"), idempotent=True, now=6.0) == 4.0


def test_no_deadline_means_only_attempts_limit() -> None:
    s = state(RetryPolicy(deadline=None, max_attempts=3), now=0.0)
    assert s.next_delay(Outcome.connect_failed(), idempotent=True, now=1e9) is not None


# -- jitter ----------------------------------------------------------------------------


def test_full_jitter_stays_within_the_cap_of_each_retry() -> None:
    policy = RetryPolicy(max_attempts=8, deadline=None)
    draws: dict[int, list[float]] = {n: [] for n in range(1, 8)}
    rng = random.Random(1234)
    for _ in range(200):
        s = RetryState(policy, now=0.0, rng=rng)
        for n in range(1, 8):
            delay = s.next_delay(Outcome.connect_failed(), idempotent=True, now=0.0)
            assert delay is not None
            draws[n].append(delay)
    for n, values in draws.items():
        cap = policy.backoff_cap(n)
        assert all(0.0 <= v <= cap for v in values)
        # Full jitter spreads over the whole range, not just near the cap.
        assert min(values) < cap * 0.1
        assert max(values) > cap * 0.9


def test_same_seed_gives_the_same_delays() -> None:
    def run(seed: int) -> list[float | None]:
        s = state(RetryPolicy(deadline=None), rng=random.Random(seed))
        return [s.next_delay(status(503), idempotent=True, now=0.0) for _ in range(5)]

    assert run(42) == run(42)
    assert run(42) != run(43)
    assert run(42)[-1] is None


def test_default_rng_is_used_when_none_given() -> None:
    s = RetryState(RetryPolicy(), now=0.0)
    delay = s.next_delay(Outcome.connect_failed(), idempotent=True, now=0.0)
    assert delay is not None
    assert 0.0 <= delay <= 0.5
