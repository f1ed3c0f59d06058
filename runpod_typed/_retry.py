"""When to retry a request and how long to wait first: pure decisions, no sleeping.

The transport reports what happened to each attempt as an `Outcome`; a
`RetryState` (one per logical call) answers "sleep this long, then resend" or
"give up". Both the blocking and the async client drive the same state, so
nothing here sleeps or reads a clock on its own (callers pass `now`).

The rule that shapes everything: a request that may have reached RunPod is
resent only when it is idempotent. `POST /run` is not: a resend after a dropped
connection or a 5xx could start the same job twice, so it is retried only when
RunPod certainly did not act on it (the connection never opened, or a 429).
"""

from __future__ import annotations

import datetime
import email.utils
import enum
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from runpod_typed._errors import ConfigurationError

#: Longest back-off or deadline a policy accepts: beyond a day it is a mistake.
_MAX_SECONDS = 86_400.0
#: Most attempts a policy accepts; more is a retry storm, not resilience.
_MAX_ATTEMPTS = 100


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries: attempts, back-off curve and an overall deadline.

    Back-off before retry n (1-based) is drawn uniformly from
    `[0, min(max_delay, initial_delay * multiplier ** (n - 1))]` ("full jitter"),
    and is at least the server's Retry-After when it sent one.
    """

    #: Total tries, the first included (1 = never retry).
    max_attempts: int = 5
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 8.0
    #: A Retry-After longer than this is not waited for: the call fails at once.
    max_retry_after: float = 60.0
    #: Seconds from the first attempt after which no retry starts (None: no limit).
    deadline: float | None = 60.0

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or not 1 <= self.max_attempts <= _MAX_ATTEMPTS
        ):
            raise ConfigurationError(
                f"RetryPolicy.max_attempts must be an int from 1 to {_MAX_ATTEMPTS} "
                f"(total tries, 1 = no retry), got {self.max_attempts!r}"
            )
        _check_seconds("initial_delay", self.initial_delay)
        _check_seconds("max_delay", self.max_delay)
        _check_seconds("max_retry_after", self.max_retry_after)
        if self.deadline is not None:
            _check_seconds("deadline", self.deadline)
            if self.deadline == 0:
                raise ConfigurationError(
                    "RetryPolicy.deadline must be positive; use None for no deadline "
                    "or RetryPolicy.none() for no retries"
                )
        if self.initial_delay > self.max_delay:
            raise ConfigurationError(
                f"RetryPolicy.initial_delay ({self.initial_delay}) must not exceed "
                f"max_delay ({self.max_delay})"
            )
        if not _is_number(self.multiplier) or not 1.0 <= self.multiplier <= 10.0:
            raise ConfigurationError(
                f"RetryPolicy.multiplier must be a number from 1 to 10, got {self.multiplier!r}"
            )

    @classmethod
    def none(cls) -> RetryPolicy:
        """One attempt, no retries."""
        return cls(max_attempts=1)

    def backoff_cap(self, retry: int) -> float:
        """Upper bound of the jittered delay before retry number `retry` (1-based)."""
        try:
            return min(self.max_delay, self.initial_delay * self.multiplier ** (retry - 1))
        except OverflowError:
            return self.max_delay


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_seconds(name: str, value: float) -> None:
    if not (_is_number(value) and 0 <= value <= _MAX_SECONDS):
        raise ConfigurationError(
            f"RetryPolicy.{name} must be a number of seconds from 0 to {_MAX_SECONDS:.0f}, "
            f"got {value!r}"
        )


class OutcomeKind(enum.Enum):
    """What happened to one attempt, as far as retrying is concerned."""

    #: The connection never opened: RunPod saw nothing, any request may be resent.
    CONNECT_FAILED = "connect_failed"
    #: The connection broke after the request may have been sent.
    SEND_FAILED = "send_failed"
    #: The request could not be sent at all and never will be (bad URL scheme,
    #: a header httpx refuses): retrying cannot help.
    UNSENDABLE = "unsendable"
    #: RunPod (or a proxy) answered with an HTTP status.
    STATUS = "status"


# httpx errors raised before any byte of the request left this machine.
_BEFORE_SEND = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_NEVER_SENDABLE = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
# 501 Not Implemented / 505 HTTP Version Not Supported do not change on a resend.
_PERMANENT_5XX = frozenset({501, 505})


@dataclass(frozen=True)
class Outcome:
    """One attempt's result: a transport failure kind, or a status with its Retry-After."""

    kind: OutcomeKind
    status_code: int | None = None
    #: Seconds the server asked us to wait (already parsed), if it said.
    retry_after: float | None = None

    @classmethod
    def connect_failed(cls) -> Outcome:
        return cls(OutcomeKind.CONNECT_FAILED)

    @classmethod
    def send_failed(cls) -> Outcome:
        return cls(OutcomeKind.SEND_FAILED)

    @classmethod
    def from_exception(cls, exc: BaseException) -> Outcome:
        """Classify a transport exception; anything unrecognised counts as maybe-sent."""
        if isinstance(exc, _BEFORE_SEND):
            return cls(OutcomeKind.CONNECT_FAILED)
        if isinstance(exc, _NEVER_SENDABLE):
            return cls(OutcomeKind.UNSENDABLE)
        return cls(OutcomeKind.SEND_FAILED)

    @classmethod
    def from_status(
        cls, status_code: int, headers: Mapping[str, str], *, now: float | None = None
    ) -> Outcome:
        """An HTTP answer; `now` (wall-clock epoch seconds) dates an HTTP-date Retry-After."""
        retry_after = retry_after_from_headers(headers, time.time() if now is None else now)
        return cls(OutcomeKind.STATUS, status_code, retry_after)

    def retryable(self, *, idempotent: bool) -> bool:
        """Whether a resend is safe and may help (the policy decides if it is allowed)."""
        if self.kind is OutcomeKind.CONNECT_FAILED:
            return True
        if self.kind is OutcomeKind.SEND_FAILED:
            return idempotent
        if self.kind is OutcomeKind.UNSENDABLE or self.status_code is None:
            return False
        if self.status_code == 429:
            # RunPod's limiter refuses before doing anything: safe even for /run.
            return True
        if self.status_code >= 500 and self.status_code not in _PERMANENT_5XX:
            # A 5xx may come after the server acted (a proxy timing out on a job
            # that was queued): resend only what cannot do harm twice.
            return idempotent
        return False


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value: delay-seconds or an HTTP-date.

    `now` is the wall-clock time (epoch seconds) a date is measured from; a date
    in the past means "now" (0.0). Anything unparseable gives None.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # a "-0000" zone parses as naive; HTTP dates are UTC
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - now)


def retry_after_from_headers(headers: Mapping[str, str], now: float) -> float | None:
    """Retry-After from a response's headers, also the `retry-after-ms` some proxies send."""
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = parse_retry_after(lowered.get("retry-after-ms"), now)
    if millis is not None:
        return millis / 1000
    return parse_retry_after(lowered.get("retry-after"), now)


#: One generator for every call: seeding a new one per call costs a system call each.
_SHARED_RNG = random.Random()


class RetryState:
    """The retry bookkeeping of one logical call (its attempts and deadline).

    `next_delay` is called after each failed attempt; it counts the attempt and
    returns the seconds to sleep before the next one, or None to give up.
    """

    def __init__(
        self, policy: RetryPolicy, *, now: float, rng: random.Random | None = None
    ) -> None:
        self.policy = policy
        self.attempts = 0
        self._deadline_at = None if policy.deadline is None else now + policy.deadline
        self._rng = rng if rng is not None else _SHARED_RNG

    def next_delay(self, outcome: Outcome, *, idempotent: bool, now: float) -> float | None:
        """Seconds to wait before resending (`now` is the same clock as the constructor's)."""
        self.attempts += 1
        policy = self.policy
        if self.attempts >= policy.max_attempts or not outcome.retryable(idempotent=idempotent):
            return None
        server_wait = outcome.retry_after
        if server_wait is not None and server_wait > policy.max_retry_after:
            return None
        delay = self._rng.uniform(0.0, policy.backoff_cap(self.attempts))
        if server_wait is not None:
            delay = max(delay, server_wait)
        if self._deadline_at is not None:
            remaining = self._deadline_at - now
            if remaining <= 0 or (server_wait is not None and server_wait > remaining):
                return None
            # Our own back-off may be cut short; the server's wait may not.
            delay = min(delay, remaining)
        return delay
