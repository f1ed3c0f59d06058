"""Typed answers of the job API, parsed through the generated wire models.

Each answer is parsed by its generated attrs model (`parse_wire`, which also
checks the integers the generator leaves unchecked). `Health` and `PurgeResult`
are those models (with a few shortcuts on `Health`); `JobStatus` and
`StreamPage` are views that add behaviour: plain `None` for an absent field
instead of `UNSET`, `is_final`, `raise_for_state`, chunk values unwrapped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import attrs

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

__all__ = ["Health", "JobState", "JobStatus", "PurgeResult", "StreamPage", "parse_wire"]

FINAL_STATES = frozenset(
    {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT}
)

V = TypeVar("V")


class _Wire(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


W = TypeVar("W", bound=_Wire)


def _value(value: V | Unset) -> V | None:
    return None if isinstance(value, Unset) else value


def _wire_name(attribute: str) -> str:
    head, *rest = attribute.split("_")
    return head + "".join(part.title() for part in rest)


#: Generated model -> (its attributes, those declared `int` or `int | Unset`).
_FIELDS: dict[type, tuple[tuple[str, ...], frozenset[str]]] = {}


def _fields(model: type) -> tuple[tuple[str, ...], frozenset[str]]:
    found = _FIELDS.get(model)
    if found is None:
        fields = attrs.fields(model)
        ints = frozenset(a.name for a in fields if a.type in ("int", "int | Unset", int))
        found = _FIELDS[model] = (tuple(a.name for a in fields), ints)
    return found


def _check_ints(model: Any, raw: Any, where: str) -> None:
    """The generated models take any JSON value for an integer field: refuse all but
    integers and null (absent), as RunPod sends them; nested models are checked too."""
    names, ints = _fields(type(model))
    for name in names:
        value = getattr(model, name)
        if name in ints:
            if value is None or isinstance(value, Unset):
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise ResponseFormatError(
                    f"{where}{_wire_name(name)}: expected an integer, got "
                    f"{type(value).__name__} {value!r}",
                    body=str(raw),
                )
        elif attrs.has(type(value)):
            _check_ints(value, raw, f"{where}{_wire_name(name)}.")


def parse_wire(model: type[W], raw: Any, what: str) -> W:
    """Parse `raw` with a generated model; a shape error becomes ResponseFormatError."""
    if not isinstance(raw, Mapping):
        raise ResponseFormatError(f"{what}: expected a JSON object, got {type(raw).__name__}")
    try:
        parsed: W = model.from_dict(dict(raw))  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResponseFormatError(
            f"{what}: the answer is missing or mistypes a field ({type(exc).__name__}: {exc})",
            body=str(raw),
        ) from None
    _check_ints(parsed, raw, f"{what}: ")
    return parsed


#: Known states by their wire value (an unknown one takes the model's path).
_STATES: Mapping[str, JobState] = {state.value: state for state in JobState}
#: A status answer's integer fields (wire names).
_STATUS_INTS = ("delayTime", "executionTime", "retries")


def _plain_status(raw: Any) -> JobState | None:
    """The state of a status answer the model would take unchanged (a dict with an id, a
    known state and integer or absent timings), else None."""
    if type(raw) is not dict or "id" not in raw:
        return None
    state = raw.get("status")
    found = _STATES.get(state) if type(state) is str else None
    if found is None:
        return None
    for name in _STATUS_INTS:
        value = raw.get(name)
        if value is not None and type(value) is not int:
            return None
    return found


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
        state = _plain_status(raw)
        if state is not None:
            # The usual answer, which the generated model would take as it is: read it
            # directly (a third of the parse's cost per request, no attrs objects).
            status = cls(
                raw["id"],
                state,
                raw.get("output"),
                raw.get("error"),
                raw.get("delayTime"),
                raw.get("executionTime"),
                raw.get("retries"),
                raw.get("workerId"),
                raw,
            )
        else:  # anything unusual goes through the model and its checks
            parsed = parse_wire(JobStatusResponse, raw, "job status")
            status = cls(
                parsed.id,
                parsed.status,
                _value(parsed.output),
                _value(parsed.error),
                _value(parsed.delay_time),
                _value(parsed.execution_time),
                _value(parsed.retries),
                _value(parsed.worker_id),
                raw,
            )
        if not status.id and not job_id:
            raise ResponseFormatError("job status: the answer has no job id", body=str(raw))
        if status.id and job_id and status.id != job_id:
            raise ResponseFormatError(
                f"job status: asked about job {job_id}, but the answer is about job "
                f"{status.id}; it was refused (a proxy or cache may be mixing answers up)",
                body=str(raw),
            )
        return status if status.id else dataclasses.replace(status, id=job_id)

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
        parsed = parse_wire(StreamResponse, raw, "stream")
        chunks = [_value(chunk.output) for chunk in (_value(parsed.stream) or [])]
        return cls(state=parsed.status, chunks=chunks)


class Health(HealthResponse):
    """Queue and worker counters of an endpoint: the generated `HealthResponse` (`.jobs`,
    `.workers`, every field RunPod sends), with shortcuts to the common counters."""

    __slots__ = ()

    @property
    def jobs_completed(self) -> int:
        return self.jobs.completed

    @property
    def jobs_failed(self) -> int:
        return self.jobs.failed

    @property
    def jobs_in_progress(self) -> int:
        return self.jobs.in_progress

    @property
    def jobs_in_queue(self) -> int:
        return self.jobs.in_queue

    @property
    def jobs_retried(self) -> int:
        return self.jobs.retried

    @property
    def workers_idle(self) -> int:
        return self.workers.idle

    @property
    def workers_running(self) -> int:
        return self.workers.running


#: How many queued jobs a purge removed (`removed`) and RunPod's word on it (`status`).
PurgeResult = PurgeQueueResponse
