"""Typed views of the job API's answers, built from the generated wire models.

The generated attrs models mark absent fields with `UNSET`; these small frozen
dataclasses give callers plain Python values (`None` when absent) and the
raw JSON for anything the SDK does not model yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from runpod_typed._errors import (
    JobCancelled,
    JobError,
    JobFailed,
    JobTimedOut,
    ResponseFormatError,
)
from runpod_typed._generated.serverless.models import (
    HealthResponse,
    JobState,
    JobStatusResponse,
    PurgeQueueResponse,
    StreamResponse,
)
from runpod_typed._generated.serverless.types import Unset

__all__ = ["Health", "JobState", "JobStatus", "PurgeResult", "StreamPage"]

FINAL_STATES = frozenset(
    {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT}
)

V = TypeVar("V")


def _value(value: V | Unset) -> V | None:
    return None if isinstance(value, Unset) else value


def _count(value: Any, name: str, raw: Any) -> Any:
    """An integer field as promised (the generated models do not check types), or None."""
    value = _value(value)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ResponseFormatError(
        f"{name}: expected an integer, got {type(value).__name__} {value!r}", body=str(raw)
    )


def _parse(model: Any, raw: Any, what: str) -> Any:
    """Parse `raw` with a generated model; a shape error becomes ResponseFormatError."""
    if not isinstance(raw, Mapping):
        raise ResponseFormatError(f"{what}: expected a JSON object, got {type(raw).__name__}")
    try:
        return model.from_dict(dict(raw))
    except (KeyError, TypeError, ValueError) as exc:
        raise ResponseFormatError(
            f"{what}: the answer is missing or mistypes a field ({type(exc).__name__}: {exc})",
            body=str(raw),
        ) from None


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One look at a job: its state, output or error, and RunPod's timings (ms)."""

    id: str
    state: JobState
    output: Any = None
    error: Any = None
    delay_time_ms: int | None = None
    execution_time_ms: int | None = None
    retries: int | None = None
    worker_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_final(self) -> bool:
        """True once the job can change no more (an unknown new state counts as running)."""
        return self.state in FINAL_STATES

    @classmethod
    def from_json(cls, raw: Any, *, job_id: str = "") -> JobStatus:
        parsed: JobStatusResponse = _parse(JobStatusResponse, raw, "job status")
        if not parsed.id and not job_id:
            raise ResponseFormatError("job status: the answer has no job id", body=str(raw))
        return cls(
            id=parsed.id or job_id,
            state=parsed.status,
            output=_value(parsed.output),
            error=_value(parsed.error),
            delay_time_ms=_count(parsed.delay_time, "delayTime", raw),
            execution_time_ms=_count(parsed.execution_time, "executionTime", raw),
            retries=_count(parsed.retries, "retries", raw),
            worker_id=_value(parsed.worker_id),
            raw=raw,
        )

    def raise_for_state(self, endpoint_id: str) -> None:
        """Turn a final state other than COMPLETED into its error."""
        if self.state is JobState.COMPLETED or not self.is_final:
            return
        error: JobError
        where = f"job {self.id} on endpoint {endpoint_id}"
        if self.state is JobState.FAILED:
            error = JobFailed(
                f"{where} failed: {self.error if self.error is not None else '(no error message)'}",
                job_id=self.id,
                endpoint_id=endpoint_id,
                error=self.error,
                status=self,
            )
        elif self.state is JobState.CANCELLED:
            error = JobCancelled(f"{where} was cancelled", job_id=self.id, endpoint_id=endpoint_id)
        else:
            error = JobTimedOut(
                f"{where} timed out on RunPod (its executionTimeout passed)",
                job_id=self.id,
                endpoint_id=endpoint_id,
                status=self,
            )
        raise error


@dataclass(frozen=True, slots=True)
class StreamPage:
    """Chunks produced since the previous /stream call, and the job's state."""

    state: JobState
    chunks: list[Any]

    @classmethod
    def from_json(cls, raw: Any) -> StreamPage:
        parsed: StreamResponse = _parse(StreamResponse, raw, "stream")
        chunks = [_value(chunk.output) for chunk in (_value(parsed.stream) or [])]
        return cls(state=parsed.status, chunks=chunks)


@dataclass(frozen=True, slots=True)
class Health:
    """Queue and worker counters of an endpoint."""

    jobs_completed: int
    jobs_failed: int
    jobs_in_progress: int
    jobs_in_queue: int
    jobs_retried: int
    workers_idle: int
    workers_running: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any) -> Health:
        parsed: HealthResponse = _parse(HealthResponse, raw, "health")
        jobs, workers = parsed.jobs, parsed.workers
        return cls(
            jobs_completed=_count(jobs.completed, "jobs.completed", raw),
            jobs_failed=_count(jobs.failed, "jobs.failed", raw),
            jobs_in_progress=_count(jobs.in_progress, "jobs.inProgress", raw),
            jobs_in_queue=_count(jobs.in_queue, "jobs.inQueue", raw),
            jobs_retried=_count(jobs.retried, "jobs.retried", raw),
            workers_idle=_count(workers.idle, "workers.idle", raw),
            workers_running=_count(workers.running, "workers.running", raw),
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """How many queued jobs a purge removed."""

    removed: int
    status: str

    @classmethod
    def from_json(cls, raw: Any) -> PurgeResult:
        parsed: PurgeQueueResponse = _parse(PurgeQueueResponse, raw, "purge-queue")
        return cls(removed=_count(parsed.removed, "removed", raw), status=str(parsed.status))
