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
