"""A serverless endpoint: submit jobs, run them to a typed result, fan out, look at health."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

import httpx

from runpod_typed._errors import RunpodError
from runpod_typed._fanout import ProgressCallback, map_async, map_sync
from runpod_typed._flow import ABORT_BUDGET_SECONDS, AbortFlow, Flow, run_async, run_sync
from runpod_typed._job import ABORT_RETRY, AsyncJob, Job
from runpod_typed._options import Policy, S3Config, encode_job_request
from runpod_typed._outputs import validate_output
from runpod_typed._polling import (
    PollingOptions,
    StatusCallback,
    StatusWatcher,
    remaining,
    wait_until_final,
)
from runpod_typed._serverless import EndpointRoutes
from runpod_typed._status import Health, JobStatus, PurgeResult
from runpod_typed._transport import Transport

T = TypeVar("T")


@dataclass
class _Submitted:
    """The id of a job once RunPod has given it, so an abort can cancel it."""

    id: str | None = None


@dataclass(frozen=True, slots=True)
class JobOptions:
    """Options of one submission, checked and encoded before anything is sent."""

    webhook: str | None = None
    policy: Policy | None = None
    s3_config: S3Config | None = None

    def body(self, job_input: Any, route: str) -> bytes:
        return encode_job_request(
            job_input,
            route=route,
            webhook=self.webhook,
            policy=self.policy,
            s3_config=self.s3_config,
        )


class EndpointFlows:
    """The endpoint's logic as flows; `Endpoint` and `AsyncEndpoint` drive them."""

    def __init__(
        self, transport: Transport, endpoint_id: str, polling: PollingOptions, cancel_on_exit: bool
    ) -> None:
        self.routes = EndpointRoutes(transport, endpoint_id)
        self.polling = polling
        self.cancel_on_exit = cancel_on_exit

    @property
    def id(self) -> str:
        return self.routes.endpoint_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"

    def job_kwargs(self, output_type: Any, cancel_on_exit: bool | None) -> dict[str, Any]:
        return {
            "output_type": output_type,
            "polling": self.polling,
            "cancel_on_exit": self.cancel_on_exit if cancel_on_exit is None else cancel_on_exit,
        }

    def abort(self, submitted: _Submitted, cancel_on_exit: bool | None) -> AbortFlow | None:
        if not (self.cancel_on_exit if cancel_on_exit is None else cancel_on_exit):
            return None

        def cancel() -> Flow[Any]:
            if submitted.id is None:  # gave up before RunPod named the job
                return None
            return (
                yield from self.routes.cancel(
                    submitted.id, retry=ABORT_RETRY, timeout=ABORT_BUDGET_SECONDS
                )
            )

        return cancel

    def run_to_result(
        self,
        job_input: Any,
        options: JobOptions,
        submitted: _Submitted,
        *,
        output_type: Any,
        polling: PollingOptions | None,
        timeout: float | None,
        on_status: StatusCallback | None,
        one_request: bool,
    ) -> Flow[Any]:
        """Submit and wait. `one_request` uses /runsync (no id until it answers, so no cancel)."""
        opts = polling or self.polling
        deadline = opts.deadline(timeout, time.monotonic())
        watcher = StatusWatcher(on_status)
        if one_request:
            window = min(opts.long_poll_window, remaining(deadline, "the job"))
            status = yield from self.routes.run_sync(options.body(job_input, "runsync"), window)
        else:
            status = yield from self.routes.run(options.body(job_input, "run"))
        submitted.id = status.id
        watcher.see(status)
        if not status.is_final:
            status = yield from wait_until_final(
                self.routes, status.id, opts, deadline=deadline, watcher=watcher
            )
        status.raise_for_state(self.id)
        return validate_output(status.output, output_type, job_id=status.id)


class Endpoint(EndpointFlows):
    """A serverless endpoint, driven with blocking I/O."""

    def __init__(self, http: httpx.Client, transport: Transport, endpoint_id: str, **kw: Any):
        super().__init__(transport, endpoint_id, **kw)
        self._http = http

    @overload
    def run(
        self,
        job_input: Any,
        *,
        output_type: None = None,
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Job[Any]: ...
    @overload
    def run(
        self,
        job_input: Any,
        *,
        output_type: type[T],
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Job[T]: ...
    def run(
        self,
        job_input: Any,
        *,
        output_type: Any = None,
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Job[Any]:
        """Submit a job (POST /run, never retried in a way that could run it twice)."""
        body = JobOptions(webhook, policy, s3_config).body(job_input, "run")
        status = run_sync(self._http, self.routes.run(body))
        return Job(
            self._http, self.routes, status.id, **self.job_kwargs(output_type, cancel_on_exit)
        )

    def job(self, job_id: str, *, output_type: Any = None) -> Job[Any]:
        """A handle on a job submitted earlier (by id)."""
        return Job(self._http, self.routes, job_id, **self.job_kwargs(output_type, None))

    @overload
    def run_sync(
        self,
        job_input: Any,
        *,
        output_type: None = None,
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Any: ...
    @overload
    def run_sync(
        self,
        job_input: Any,
        *,
        output_type: type[T],
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> T: ...
    def run_sync(
        self,
        job_input: Any,
        *,
        output_type: Any = None,
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Any:
        """Run a job and return its output, validated as `output_type`.

        Submits with /run and long-polls /status-sync, so a caller who gives up
        (timeout, Ctrl-C) can have the remote job cancelled. With
        `cancel_on_exit=False` it uses /runsync: one request for a job that
        finishes within the long-poll window.
        """
        submitted = _Submitted()
        flow = self.run_to_result(
            job_input,
            JobOptions(webhook, policy, s3_config),
            submitted,
            output_type=output_type,
            polling=polling,
            timeout=timeout,
            on_status=on_status,
            one_request=not self.abort(submitted, cancel_on_exit),
        )
        return run_sync(self._http, flow, on_abort=self.abort(submitted, cancel_on_exit))

    @overload
    def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: None = None,
        concurrency: int = 16,
        return_exceptions: Literal[False] = False,
        on_progress: ProgressCallback | None = None,
        progress_bar: bool = False,
        timeout: float | None = None,
        polling: PollingOptions | None = None,
    ) -> list[Any]: ...
    @overload
    def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: type[T],
        concurrency: int = 16,
        return_exceptions: Literal[False] = False,
        on_progress: ProgressCallback | None = None,
        progress_bar: bool = False,
        timeout: float | None = None,
        polling: PollingOptions | None = None,
    ) -> list[T]: ...
    @overload
    def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: type[T],
        concurrency: int = 16,
        return_exceptions: Literal[True],
        on_progress: ProgressCallback | None = None,
        progress_bar: bool = False,
        timeout: float | None = None,
        polling: PollingOptions | None = None,
    ) -> list[T | RunpodError]: ...
    def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: Any = None,
        concurrency: int = 16,
        return_exceptions: bool = False,
        on_progress: ProgressCallback | None = None,
        progress_bar: bool = False,
        timeout: float | None = None,
        polling: PollingOptions | None = None,
    ) -> list[Any]:
        """Run one job per input, `concurrency` at a time (threads); results in input order."""
        items: Sequence[Any] = list(inputs)
        return map_sync(
            lambda item: self.run_sync(
                item, output_type=output_type, timeout=timeout, polling=polling
            ),
            items,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            on_progress=on_progress,
            progress_bar=progress_bar,
        )

    def health(self) -> Health:
        return run_sync(self._http, self.routes.health())

    def purge_queue(self) -> PurgeResult:
        """Remove the endpoint's queued (not running) jobs."""
        return run_sync(self._http, self.routes.purge_queue())


class AsyncEndpoint(EndpointFlows):
    """A serverless endpoint, driven with async I/O; same methods as `Endpoint`."""

    def __init__(self, http: httpx.AsyncClient, transport: Transport, endpoint_id: str, **kw: Any):
        super().__init__(transport, endpoint_id, **kw)
        self._http = http

    @overload
    async def run(
        self,
        job_input: Any,
        *,
        output_type: None = None,
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        cancel_on_exit: bool | None = None,
    ) -> AsyncJob[Any]: ...
    @overload
    async def run(
        self,
        job_input: Any,
        *,
        output_type: type[T],
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        cancel_on_exit: bool | None = None,
    ) -> AsyncJob[T]: ...
    async def run(
        self,
        job_input: Any,
        *,
        output_type: Any = None,
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        cancel_on_exit: bool | None = None,
    ) -> AsyncJob[Any]:
        body = JobOptions(webhook, policy, s3_config).body(job_input, "run")
        status = await run_async(self._http, self.routes.run(body))
        return AsyncJob(
            self._http, self.routes, status.id, **self.job_kwargs(output_type, cancel_on_exit)
        )

    def job(self, job_id: str, *, output_type: Any = None) -> AsyncJob[Any]:
        return AsyncJob(self._http, self.routes, job_id, **self.job_kwargs(output_type, None))

    @overload
    async def run_sync(
        self,
        job_input: Any,
        *,
        output_type: None = None,
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Any: ...
    @overload
    async def run_sync(
        self,
        job_input: Any,
        *,
        output_type: type[T],
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> T: ...
    async def run_sync(
        self,
        job_input: Any,
        *,
        output_type: Any = None,
        webhook: str | None = None,
        policy: Policy | None = None,
        s3_config: S3Config | None = None,
        polling: PollingOptions | None = None,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
        cancel_on_exit: bool | None = None,
    ) -> Any:
        """See `Endpoint.run_sync`; cancelling the task cancels the remote job."""
        submitted = _Submitted()
        flow = self.run_to_result(
            job_input,
            JobOptions(webhook, policy, s3_config),
            submitted,
            output_type=output_type,
            polling=polling,
            timeout=timeout,
            on_status=on_status,
            one_request=not self.abort(submitted, cancel_on_exit),
        )
        return await run_async(self._http, flow, on_abort=self.abort(submitted, cancel_on_exit))

    @overload
    async def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: None = None,
        concurrency: int = 16,
        return_exceptions: Literal[False] = False,
        on_progress: ProgressCallback | None = None,
        progress_bar: bool = False,
        timeout: float | None = None,
        polling: PollingOptions | None = None,
    ) -> list[Any]: ...
    @overload
    async def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: type[T],
        concurrency: int = 16,
        return_exceptions: Literal[False] = False,
        on_progress: ProgressCallback | None = None,
        progress_bar: bool = False,
        timeout: float | None = None,
        polling: PollingOptions | None = None,
    ) -> list[T]: ...
    @overload
    async def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: type[T],
        concurrency: int = 16,
        return_exceptions: Literal[True],
        on_progress: ProgressCallback | None = None,
        progress_bar: bool = False,
        timeout: float | None = None,
        polling: PollingOptions | None = None,
    ) -> list[T | RunpodError]: ...
    async def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: Any = None,
        concurrency: int = 16,
        return_exceptions: bool = False,
        on_progress: ProgressCallback | None = None,
        progress_bar: bool = False,
        timeout: float | None = None,
        polling: PollingOptions | None = None,
    ) -> list[Any]:
        """Run one job per input, `concurrency` at a time (tasks); results in input order.

        On the first failure (unless `return_exceptions`) the jobs still running
        are cancelled, remotely too, and the failure is raised.
        """
        items: Sequence[Any] = list(inputs)

        async def one(item: Any) -> Any:
            return await self.run_sync(
                item, output_type=output_type, timeout=timeout, polling=polling
            )

        return await map_async(
            one,
            items,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            on_progress=on_progress,
            progress_bar=progress_bar,
        )

    async def health(self) -> Health:
        return await run_async(self._http, self.routes.health())

    async def purge_queue(self) -> PurgeResult:
        return await run_async(self._http, self.routes.purge_queue())


__all__ = ["AsyncEndpoint", "Endpoint", "JobOptions", "JobStatus"]
