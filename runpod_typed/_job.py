"""A submitted job: status, typed output, stream, cancel, retry -- blocking and async.

`JobFlows` holds the logic once, as flows; `Job` and `AsyncJob` are the thin
blocking and awaitable faces of it (the same names, as in openai-python).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

import httpx
from typing_extensions import Unpack

from runpod_typed._deadline import Deadline
from runpod_typed._flow import (
    ABORT_BUDGET_SECONDS,
    AbortFlow,
    Flow,
    iterate_async,
    iterate_sync,
    run_async,
    run_sync,
)
from runpod_typed._kwargs import WaitOptions
from runpod_typed._outputs import validate_output
from runpod_typed._polling import PollingOptions, StatusWatcher, wait_until_final
from runpod_typed._retry import RetryPolicy
from runpod_typed._serverless import EndpointRoutes
from runpod_typed._status import JobState, JobStatus
from runpod_typed._streaming import stream_chunks

T = TypeVar("T")
U = TypeVar("U")
C = TypeVar("C")

#: The clean-up cancel after a caller gives up: a few quick tries within the abort budget.
ABORT_RETRY = RetryPolicy(
    max_attempts=3, initial_delay=0.1, max_delay=0.5, deadline=ABORT_BUDGET_SECONDS
)


def cancel_abandoned(routes: EndpointRoutes, job_id: str) -> Flow[JobStatus | None]:
    """The clean-up /cancel for a job the caller gave up on: its status if RunPod
    cancelled it, None if it was already over (so `WaitTimeout.cancelled` stays False)."""
    status = yield from routes.cancel(job_id, retry=ABORT_RETRY, timeout=ABORT_BUDGET_SECONDS)
    return status if status.state is JobState.CANCELLED else None


@dataclass
class Submitted:
    """The id of a job once RunPod has given it, so an abort (or a failing map) can cancel it."""

    id: str | None = None
    #: Its own clean-up has begun (a map stopping must not cancel it a second time).
    cleaning_up: bool = False


class JobFlows(Generic[T]):
    """What a job can do, as flows; shared by `Job` and `AsyncJob`."""

    def __init__(
        self,
        routes: EndpointRoutes,
        job_id: str,
        *,
        output_type: Any,
        polling: PollingOptions,
        cancel_on_exit: bool,
    ) -> None:
        self.routes = routes
        self.id = job_id
        self.output_type = output_type
        self.polling = polling
        self.cancel_on_exit = cancel_on_exit

    @property
    def endpoint_id(self) -> str:
        return self.routes.endpoint_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, endpoint_id={self.endpoint_id!r})"

    def abort(self, options: WaitOptions) -> AbortFlow | None:
        """The clean-up to run if the caller gives up while waiting on this job."""
        cancel_on_exit = options.get("cancel_on_exit")
        if not (self.cancel_on_exit if cancel_on_exit is None else cancel_on_exit):
            return None
        return lambda: cancel_abandoned(self.routes, self.id)

    def _wait_args(
        self, options: WaitOptions, what: str
    ) -> tuple[PollingOptions, Deadline | None, StatusWatcher]:
        polling = options.get("polling") or self.polling
        deadline = polling.deadline(options.get("timeout"), what, self.id)
        return polling, deadline, StatusWatcher(options.get("on_status"))

    def output_flow(
        self, output_type: Any, options: WaitOptions
    ) -> tuple[Flow[Any], Deadline | None]:
        """The wait for the job's output, and the deadline its driver must hold."""
        polling, deadline, watcher = self._wait_args(options, f"job {self.id}")

        def wait() -> Flow[Any]:
            status = yield from wait_until_final(
                self.routes, self.id, polling, deadline=deadline, watcher=watcher
            )
            status.raise_for_state(self.endpoint_id)
            wanted = self.output_type if output_type is None else output_type
            return validate_output(status.output, wanted, job_id=self.id)

        return wait(), deadline

    def stream_flow(
        self, chunk_type: Any, options: WaitOptions
    ) -> tuple[Flow[None], Deadline | None]:
        """The job's stream, and the deadline its driver must hold."""
        polling, deadline, watcher = self._wait_args(options, f"the stream of job {self.id}")
        flow = stream_chunks(
            self.routes,
            self.id,
            polling,
            chunk_type=chunk_type,
            deadline=deadline,
            watcher=watcher,
        )
        return flow, deadline


class Job(JobFlows[T]):
    """A job on a serverless endpoint, driven with blocking I/O."""

    def __init__(self, http: httpx.Client, routes: EndpointRoutes, job_id: str, **kw: Any) -> None:
        super().__init__(routes, job_id, **kw)
        self._http = http

    def status(self) -> JobStatus:
        """One look at the job (no waiting)."""
        return run_sync(self._http, self.routes.status(self.id))

    @overload
    def output(self, output_type: None = None, **options: Unpack[WaitOptions]) -> T: ...
    @overload
    def output(self, output_type: type[U], **options: Unpack[WaitOptions]) -> U: ...
    def output(self, output_type: Any = None, **options: Unpack[WaitOptions]) -> Any:
        """Wait for the job and return its output, validated as `output_type`.

        Raises JobFailed / JobCancelled / JobTimedOut for those final states and
        WaitTimeout (a TimeoutError) when `timeout` seconds pass first. Giving up
        (timeout, Ctrl-C) cancels the remote job unless `cancel_on_exit=False`.
        """
        flow, deadline = self.output_flow(output_type, options)
        return run_sync(self._http, flow, on_abort=self.abort(options), deadline=deadline)

    @overload
    def stream(self, chunk_type: None = None, **options: Unpack[WaitOptions]) -> Iterator[Any]: ...
    @overload
    def stream(self, chunk_type: type[C], **options: Unpack[WaitOptions]) -> Iterator[C]: ...
    def stream(self, chunk_type: Any = None, **options: Unpack[WaitOptions]) -> Iterator[Any]:
        """Iterate over the job's stream chunks in order; breaking out early cancels the job."""
        flow, deadline = self.stream_flow(chunk_type, options)
        return iterate_sync(self._http, flow, on_abort=self.abort(options), deadline=deadline)

    def cancel(self) -> JobStatus:
        """Cancel the job on RunPod (frees the worker if it is running)."""
        return run_sync(self._http, self.routes.cancel(self.id))

    def retry(self) -> JobStatus:
        """Requeue a FAILED or TIMED_OUT job under the same id."""
        return run_sync(self._http, self.routes.retry(self.id))


class AsyncJob(JobFlows[T]):
    """A job on a serverless endpoint, driven with async I/O; same methods as `Job`."""

    def __init__(
        self, http: httpx.AsyncClient, routes: EndpointRoutes, job_id: str, **kw: Any
    ) -> None:
        super().__init__(routes, job_id, **kw)
        self._http = http

    async def status(self) -> JobStatus:
        return await run_async(self._http, self.routes.status(self.id))

    @overload
    async def output(self, output_type: None = None, **options: Unpack[WaitOptions]) -> T: ...
    @overload
    async def output(self, output_type: type[U], **options: Unpack[WaitOptions]) -> U: ...
    async def output(self, output_type: Any = None, **options: Unpack[WaitOptions]) -> Any:
        """See `Job.output`; task cancellation also cancels the remote job."""
        flow, deadline = self.output_flow(output_type, options)
        return await run_async(self._http, flow, on_abort=self.abort(options), deadline=deadline)

    @overload
    def stream(
        self, chunk_type: None = None, **options: Unpack[WaitOptions]
    ) -> AsyncIterator[Any]: ...
    @overload
    def stream(self, chunk_type: type[C], **options: Unpack[WaitOptions]) -> AsyncIterator[C]: ...
    def stream(self, chunk_type: Any = None, **options: Unpack[WaitOptions]) -> AsyncIterator[Any]:
        """`async for` over the chunks; leaving early cancels the job (see `Job.stream`)."""
        flow, deadline = self.stream_flow(chunk_type, options)
        return iterate_async(self._http, flow, on_abort=self.abort(options), deadline=deadline)

    async def cancel(self) -> JobStatus:
        return await run_async(self._http, self.routes.cancel(self.id))

    async def retry(self) -> JobStatus:
        return await run_async(self._http, self.routes.retry(self.id))
