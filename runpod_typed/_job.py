"""A submitted job: status, typed output, stream, cancel, retry -- blocking and async.

`JobFlows` holds the logic once, as flows; `Job` and `AsyncJob` are the thin
blocking and awaitable faces of it (the same names, as in openai-python).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Generic, TypeVar, overload

import httpx

from runpod_typed._flow import (
    ABORT_BUDGET_SECONDS,
    AbortFlow,
    Flow,
    iterate_async,
    iterate_sync,
    run_async,
    run_sync,
)
from runpod_typed._outputs import validate_output
from runpod_typed._polling import PollingOptions, StatusCallback, StatusWatcher, wait_until_final
from runpod_typed._retry import RetryPolicy
from runpod_typed._serverless import EndpointRoutes
from runpod_typed._status import JobStatus
from runpod_typed._streaming import stream_chunks

T = TypeVar("T")
U = TypeVar("U")
C = TypeVar("C")

#: The clean-up cancel after a caller gives up: a few quick tries within the abort budget.
ABORT_RETRY = RetryPolicy(
    max_attempts=3, initial_delay=0.1, max_delay=0.5, deadline=ABORT_BUDGET_SECONDS
)


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

    def abort(self, cancel_on_exit: bool | None) -> AbortFlow | None:
        """The clean-up to run if the caller gives up while waiting on this job."""
        if not (self.cancel_on_exit if cancel_on_exit is None else cancel_on_exit):
            return None
        return lambda: self.routes.cancel(self.id, retry=ABORT_RETRY, timeout=ABORT_BUDGET_SECONDS)

    def output_flow(
        self,
        output_type: Any,
        polling: PollingOptions | None,
        timeout: float | None,
        on_status: StatusCallback | None,
    ) -> Flow[Any]:
        options = polling or self.polling
        status = yield from wait_until_final(
            self.routes,
            self.id,
            options,
            deadline=options.deadline(timeout, time.monotonic()),
            watcher=StatusWatcher(on_status),
        )
        status.raise_for_state(self.endpoint_id)
        wanted = self.output_type if output_type is None else output_type
        return validate_output(status.output, wanted, job_id=self.id)

    def stream_flow(
        self,
        chunk_type: Any,
        polling: PollingOptions | None,
        timeout: float | None,
        on_status: StatusCallback | None,
    ) -> Flow[None]:
        options = polling or self.polling
        return stream_chunks(
            self.routes,
            self.id,
            options,
            chunk_type=chunk_type,
            deadline=options.deadline(timeout, time.monotonic()),
            watcher=StatusWatcher(on_status),
        )


class Job(JobFlows[T]):
    """A job on a serverless endpoint, driven with blocking I/O."""

    def __init__(self, http: httpx.Client, routes: EndpointRoutes, job_id: str, **kw: Any) -> None:
        super().__init__(routes, job_id, **kw)
        self._http = http

    def status(self) -> JobStatus:
        """One look at the job (no waiting)."""
        return run_sync(self._http, self.routes.status(self.id))

    @overload
    def output(
        self,
        output_type: None = None,
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> T: ...
    @overload
    def output(
        self,
        output_type: type[U],
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> U: ...
    def output(
        self,
        output_type: Any = None,
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Any:
        """Wait for the job and return its output, validated as `output_type`.

        Raises JobFailed / JobCancelled / JobTimedOut for those final states and
        WaitTimeout (a TimeoutError) when `timeout` seconds pass first. Giving up
        (timeout, Ctrl-C) cancels the remote job unless `cancel_on_exit=False`.
        """
        flow = self.output_flow(output_type, polling, timeout, on_status)
        return run_sync(self._http, flow, on_abort=self.abort(cancel_on_exit))

    @overload
    def stream(
        self,
        chunk_type: None = None,
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Iterator[Any]: ...
    @overload
    def stream(
        self,
        chunk_type: type[C],
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Iterator[C]: ...
    def stream(
        self,
        chunk_type: Any = None,
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Iterator[Any]:
        """Iterate over the job's stream chunks in order; breaking out early cancels the job."""
        flow = self.stream_flow(chunk_type, polling, timeout, on_status)
        return iterate_sync(self._http, flow, on_abort=self.abort(cancel_on_exit))

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
    async def output(
        self,
        output_type: None = None,
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> T: ...
    @overload
    async def output(
        self,
        output_type: type[U],
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> U: ...
    async def output(
        self,
        output_type: Any = None,
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Any:
        """See `Job.output`; task cancellation also cancels the remote job."""
        flow = self.output_flow(output_type, polling, timeout, on_status)
        return await run_async(self._http, flow, on_abort=self.abort(cancel_on_exit))

    @overload
    def stream(
        self,
        chunk_type: None = None,
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> AsyncIterator[Any]: ...
    @overload
    def stream(
        self,
        chunk_type: type[C],
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> AsyncIterator[C]: ...
    def stream(
        self,
        chunk_type: Any = None,
        *,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> AsyncIterator[Any]:
        """`async for` over the chunks; leaving early cancels the job (see `Job.stream`)."""
        flow = self.stream_flow(chunk_type, polling, timeout, on_status)
        return iterate_async(self._http, flow, on_abort=self.abort(cancel_on_exit))

    async def cancel(self) -> JobStatus:
        return await run_async(self._http, self.routes.cancel(self.id))

    async def retry(self) -> JobStatus:
        return await run_async(self._http, self.routes.retry(self.id))
