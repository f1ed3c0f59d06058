"""Waiting for a job: long-poll first, status polling with back-off as the fallback.

`PollingOptions` is a small value object (like google-api-core's `Retry`): the
first delay, the progressive back-off with jitter, the cap and the overall
timeout. `wait_until_final` is the one waiting loop of the SDK, a flow shared by
the sync and async clients and by the control plane's pod helpers (`Backoff`).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runpod_typed._deadline import Deadline, remaining
from runpod_typed._errors import (
    ConfigurationError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    RunpodError,
    ServerError,
    TransportError,
)
from runpod_typed._flow import Flow, Sleep
from runpod_typed._logging import logger
from runpod_typed._serverless import MIN_WAIT_MS, EndpointRoutes, is_missing_route
from runpod_typed._status import JobState, JobStatus

StatusCallback = Callable[[JobStatus], Any]


@dataclass(frozen=True, slots=True)
class PollingOptions:
    """How to wait. Seconds throughout; `timeout` None or 0 waits forever.

    - `first_delay`: the first pause between two status polls;
    - `backoff`: each pause is this many times the previous one (1 = constant);
    - `max_delay`: the cap on one pause; `jitter`: +/- this fraction, random;
    - `long_poll_window`: how long one long-poll asks the server to hold (<= 300);
    - `progress_interval`: with an `on_status` hook, look at a running job this often.
    """

    first_delay: float = 0.5
    backoff: float = 1.5
    max_delay: float = 10.0
    jitter: float = 0.1
    timeout: float | None = None
    long_poll_window: float = 60.0
    progress_interval: float = 1.0

    def __post_init__(self) -> None:
        def check(name: str, low: float, high: float) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigurationError(f"PollingOptions.{name} must be a number, got {value!r}")
            if math.isnan(value) or not low <= value <= high:
                raise ConfigurationError(
                    f"PollingOptions.{name}={value!r} is out of range [{low:g}, {high:g}]"
                )

        check("first_delay", 0.01, 3600)
        check("backoff", 1.0, 10.0)
        check("max_delay", 0.01, 3600)
        check("jitter", 0.0, 1.0)
        check("long_poll_window", 1.0, 300.0)
        check("progress_interval", 0.1, 300.0)
        if self.timeout is not None:
            check("timeout", 0.0, math.inf)
        if self.max_delay < self.first_delay:
            raise ConfigurationError(
                f"PollingOptions.max_delay ({self.max_delay}) is below first_delay "
                f"({self.first_delay}); raise max_delay or lower first_delay"
            )

    def deadline(
        self, timeout: float | None, what: str, job_id: str | None = None
    ) -> Deadline | None:
        """When to give up, from now; a call's `timeout` overrides the options'."""
        limit = self.timeout if timeout is None else timeout
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, (int, float)) or math.isnan(limit)
        ):
            raise ConfigurationError(f"timeout must be a number of seconds, got {limit!r}")
        if limit is not None and limit < 0:
            raise ConfigurationError(f"timeout must be >= 0 seconds (0 = forever), got {limit}")
        if not limit or math.isinf(limit):
            return None
        return Deadline.after(limit, what, job_id)


DEFAULT_POLLING = PollingOptions()


_JITTER = random.Random()


class Backoff:
    """Progressive delays with jitter, reset when something happens."""

    def __init__(self, options: PollingOptions, rng: random.Random | None = None) -> None:
        self.options = options
        self._rng = rng or _JITTER
        self._next = options.first_delay

    def reset(self) -> None:
        self._next = self.options.first_delay

    def delay(self) -> float:
        jitter = self.options.jitter
        value = self._next * (1 + self._rng.uniform(-jitter, jitter))
        self._next = min(self.options.max_delay, self._next * self.options.backoff)
        return value


class StatusWatcher:
    """Sees every status of one wait: logs state changes, tells `on_status` about them.

    A change is a new state or, while running, a new progress message from the worker.
    """

    def __init__(self, on_status: StatusCallback | None) -> None:
        self.on_status = on_status
        self._last: tuple[JobState, Any] | None = None

    def see(self, status: JobStatus) -> None:
        progress = status.output if status.state is JobState.IN_PROGRESS else None
        key = (status.state, progress)
        if key == self._last:
            return
        self._last = key
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("job %s is %s", status.id, status.state.value)
        if self.on_status is not None:
            self.on_status(status)


class ReadFailures:
    """Rides out failed status reads during a wait: the job is unaffected by them.

    Each read already had its own retries; a wait tolerates `limit` failed reads
    in a row (with back-off between them, bounded by its deadline) before it
    gives up with the last error. 401, 404 and other definite answers end it at once.
    """

    TRANSIENT = (TransportError, ServerError, RateLimitError, ResponseFormatError)

    def __init__(self, limit: int = 10) -> None:
        self.limit = limit
        self.in_a_row = 0

    def tolerate(self, exc: RunpodError, what: str) -> bool:
        if not isinstance(exc, self.TRANSIENT):
            return False
        self.in_a_row += 1
        if self.in_a_row >= self.limit:
            return False
        logger.info("reading %s failed (%s); still waiting", what, type(exc).__name__)
        return True

    def reset(self) -> None:
        self.in_a_row = 0


def read_status(routes: EndpointRoutes, job_id: str, wait: float) -> Flow[JobStatus]:
    """Long-poll /status-sync for `wait` seconds, or read /status (wait 0, or no long-poll).

    A server without /status-sync is believed for a while (`Transport.long_poll_missing`);
    reads meanwhile go to /status.
    """
    transport = routes.transport
    if transport.long_poll and wait * 1000 >= MIN_WAIT_MS:
        try:
            return (yield from routes.status_sync(job_id, wait))
        except NotFoundError as exc:
            if not is_missing_route(exc):
                raise
            transport.long_poll_missing()
            logger.info("server has no /status-sync; falling back to polling /status")
    return (yield from routes.status(job_id))


def wait_until_final(
    routes: EndpointRoutes,
    job_id: str,
    options: PollingOptions,
    *,
    deadline: Deadline | None,
    watcher: StatusWatcher,
) -> Flow[JobStatus]:
    """Long-poll /status-sync until the job is final; poll /status if the server can't.

    With an `on_status` hook the job is looked at every `progress_interval`: by a
    long-poll of that length when the interval is one second or more (RunPod's
    shortest wait), else by /status at that pace; either way a final state is
    seen at once or within the interval.
    """
    backoff = Backoff(options)
    failures = ReadFailures()
    what = f"job {job_id}"
    watching = watcher.on_status is not None
    while True:
        left = remaining(deadline)
        window = options.progress_interval if watching else options.long_poll_window
        asked = min(window, left) if routes.transport.long_poll else 0.0
        started = time.monotonic()
        try:
            status = yield from read_status(routes, job_id, asked)
        except RunpodError as exc:
            if not failures.tolerate(exc, what):
                raise
            yield Sleep(min(backoff.delay(), remaining(deadline)))
            continue
        failures.reset()
        watcher.see(status)
        if status.is_final:
            return status
        held = time.monotonic() - started
        if asked * 1000 >= MIN_WAIT_MS and held >= asked / 2:
            backoff.reset()  # a long-poll that held: ask again at once
            continue
        # With a hook the caller chose the pace: keep it, without back-off.
        pause = max(0.0, options.progress_interval - held) if watching else backoff.delay()
        yield Sleep(min(pause, remaining(deadline)))
