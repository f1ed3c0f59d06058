"""RunPod's limits and defaults for jobs, in one place so tests can shorten them."""

from __future__ import annotations

from dataclasses import dataclass

_MB = 1024 * 1024
_DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class JobSettings:
    """Job API limits; the defaults are RunPod's published ones.

    Tests that need a job to time out or expire quickly lower the minimums and
    retention, e.g. ``JobSettings(min_execution_timeout_ms=1, min_ttl_ms=1)``.
    """

    default_execution_timeout_ms: int = 600_000
    min_execution_timeout_ms: int = 5_000
    max_execution_timeout_ms: int = 7 * _DAY_MS
    default_ttl_ms: int = _DAY_MS
    min_ttl_ms: int = 10_000
    max_ttl_ms: int = 7 * _DAY_MS
    run_retention_seconds: float = 30 * 60
    """How long a finished job submitted with /run stays readable."""
    runsync_retention_seconds: float = 60
    """How long a finished job submitted with /runsync stays readable."""
    default_wait_ms: int = 90_000
    min_wait_ms: int = 1_000
    max_wait_ms: int = 300_000
    max_run_bytes: int = 10 * _MB
    max_runsync_bytes: int = 20 * _MB
    max_chunk_bytes: int = 1 * _MB
    webhook_attempts: int = 3
    max_abandoned_threads: int = 64
    """Not RunPod's: sync in-process handlers of ended (cancelled, timed-out) jobs that
    may go on running in their threads before new sync jobs wait for one to return."""
    idle_worker_seconds: float = 60.0
    """Not RunPod's: an in-process worker with no job for this long ends, so endpoint ids
    that no longer get jobs hold no tasks; the next job on the endpoint starts it again."""

    def __post_init__(self) -> None:
        if not self.idle_worker_seconds > 0:
            raise ValueError("idle_worker_seconds must be a positive number of seconds")


@dataclass(frozen=True)
class WorkerSettings:
    """Timings of worker processes (``--worker`` files); tests shorten them."""

    ping_interval_ms: int = 2_000
    """``RUNPOD_PING_INTERVAL`` given to workers (the runtime sleeps ``ms // 1000`` s, so
    at least 1000)."""
    poll_hold_seconds: float = 20.0
    """How long a job-take or job-stop long poll is held when there is nothing to answer."""
    stop_grace_seconds: float = 10.0
    """A worker still reporting (by ping) a job it was told to stop this long after the
    stop signal is restarted: a sync handler blocks the runtime's loop, so the runtime
    cannot stop it, and the job must not hold the worker forever."""
    terminate_grace_seconds: float = 3.0
    """SIGTERM first; SIGKILL (the process group) if the worker is still alive after this."""
    restart_delay_seconds: float = 0.5
    """First delay before restarting a worker that exited unasked; doubles on each
    consecutive early exit, up to `max_restart_delay_seconds`."""
    max_restart_delay_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.ping_interval_ms < 1000:
            raise ValueError("ping_interval_ms must be at least 1000 (the runtime counts seconds)")
