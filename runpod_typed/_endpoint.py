"""A serverless endpoint: submit jobs, run them to a typed result, fan out, look at health."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

import httpx
from typing_extensions import Unpack

from runpod_typed._deadline import Deadline, remaining
from runpod_typed._errors import RunpodError
from runpod_typed._fanout import FanOut, map_async, map_sync
from runpod_typed._flow import ABORT_BUDGET_SECONDS, AbortFlow, Flow, run_async, run_sync
from runpod_typed._job import ABORT_RETRY, AsyncJob, Job, Submitted, cancel_abandoned
from runpod_typed._kwargs import MapOptions, RunOptions, SubmitOptions
from runpod_typed._logging import logger
from runpod_typed._options import Policy, S3Config, encode_job_request
from runpod_typed._outputs import validate_output
from runpod_typed._polling import PollingOptions, StatusWatcher, wait_until_final
from runpod_typed._serverless import EndpointRoutes
from runpod_typed._status import Health, JobStatus, PurgeResult
from runpod_typed._transport import Transport

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class JobOptions:
    """Options of one submission, checked and encoded before anything is sent."""

    webhook: str | None = None
    policy: Policy | None = None
    s3_config: S3Config | None = None

    @classmethod
    def of(cls, options: SubmitOptions) -> JobOptions:
        return cls(options.get("webhook"), options.get("policy"), options.get("s3_config"))

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
        self.routes: EndpointRoutes = EndpointRoutes(transport, endpoint_id)
        self.polling = polling
        self.cancel_on_exit = cancel_on_exit

    @property
    def id(self) -> str:
        return self.routes.endpoint_id

    @property
    def openai_base_url(self) -> str:
        """The base URL to give the `openai` package for RunPod's OpenAI-compatible route
        (vLLM workers): ``{endpoint_base_url}/{endpoint_id}/openai/v1``, e.g.
        ``OpenAI(api_key=KEY, base_url=endpoint.openai_base_url)``."""
        return f"{self.routes.root}/{self.id}/openai/v1"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"

    def job_kwargs(self, output_type: Any, cancel_on_exit: bool | None) -> dict[str, Any]:
        return {
            "output_type": output_type,
            "polling": self.polling,
            "cancel_on_exit": self.cancel_on_exit if cancel_on_exit is None else cancel_on_exit,
        }

    def abort(self, submitted: Submitted, options: SubmitOptions) -> AbortFlow | None:
        cancel_on_exit = options.get("cancel_on_exit")
        if not (self.cancel_on_exit if cancel_on_exit is None else cancel_on_exit):
            return None

        def cancel() -> Flow[Any]:
            submitted.cleaning_up = True
            if submitted.id is None:  # gave up before RunPod named the job
                return None
            return (yield from cancel_abandoned(self.routes, submitted.id))

        return cancel

    def submit_flow(
        self, job_input: Any, options: SubmitOptions
    ) -> tuple[Flow[JobStatus], AbortFlow | None]:
        """POST /run, and the clean-up that cancels the job if the caller gives up meanwhile."""
        submitted = Submitted()

        def submit() -> Flow[JobStatus]:
            status = yield from self.routes.run(JobOptions.of(options).body(job_input, "run"))
            submitted.id = status.id
            return status

        return submit(), self.abort(submitted, options)

    def run_flow(
        self,
        job_input: Any,
        output_type: Any,
        options: RunOptions,
        submitted: Submitted | None = None,
    ) -> tuple[Flow[Any], AbortFlow | None, Deadline | None]:
        """Submit and wait; the clean-up if the caller gives up; the deadline to hold.

        With remote cancellation on, /run then /status-sync: the job id is known
        from the first answer. Without it, /runsync: one request for a job that
        finishes within the long-poll window, but no id until it answers.
        """
        submitted = submitted or Submitted()
        abort = self.abort(submitted, options)
        polling = options.get("polling") or self.polling
        deadline = polling.deadline(options.get("timeout"), f"a job on endpoint {self.id}")
        if deadline is not None and abort is not None:
            deadline.submission_grace = ABORT_BUDGET_SECONDS
        flow = self._run_to_result(
            job_input, output_type, options, submitted, abort is None, polling, deadline
        )
        return flow, abort, deadline

    def _run_to_result(
        self,
        job_input: Any,
        output_type: Any,
        options: RunOptions,
        submitted: Submitted,
        one_request: bool,
        polling: PollingOptions,
        deadline: Deadline | None,
    ) -> Flow[Any]:
        watcher = StatusWatcher(options.get("on_status"))
        job = JobOptions.of(options)
        if one_request:
            window = min(polling.long_poll_window, remaining(deadline))
            status = yield from self.routes.run_sync(job.body(job_input, "runsync"), window)
        else:
            status = yield from self.routes.run(job.body(job_input, "run"))
        submitted.id = status.id
        if deadline is not None:
            deadline.what, deadline.job_id = f"job {status.id}", status.id
        watcher.see(status)
        if not status.is_final:
            status = yield from wait_until_final(
                self.routes, status.id, polling, deadline=deadline, watcher=watcher
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
        self, job_input: Any, *, output_type: None = None, **options: Unpack[SubmitOptions]
    ) -> Job[Any]: ...
    @overload
    def run(
        self, job_input: Any, *, output_type: type[T], **options: Unpack[SubmitOptions]
    ) -> Job[T]: ...
    def run(
        self, job_input: Any, *, output_type: Any = None, **options: Unpack[SubmitOptions]
    ) -> Job[Any]:
        """Submit a job (POST /run, never resent in a way that could run it twice)."""
        flow, abort = self.submit_flow(job_input, options)
        status = run_sync(self._http, flow, on_abort=abort)
        kwargs = self.job_kwargs(output_type, options.get("cancel_on_exit"))
        return Job(self._http, self.routes, status.id, **kwargs)

    def job(self, job_id: str, *, output_type: Any = None) -> Job[Any]:
        """A handle on a job submitted earlier (by id)."""
        return Job(self._http, self.routes, job_id, **self.job_kwargs(output_type, None))

    @overload
    def run_sync(
        self, job_input: Any, *, output_type: None = None, **options: Unpack[RunOptions]
    ) -> Any: ...
    @overload
    def run_sync(
        self, job_input: Any, *, output_type: type[T], **options: Unpack[RunOptions]
    ) -> T: ...
    def run_sync(
        self, job_input: Any, *, output_type: Any = None, **options: Unpack[RunOptions]
    ) -> Any:
        """Run a job and return its output, validated as `output_type`.

        Giving up (timeout, Ctrl-C) cancels the remote job unless
        `cancel_on_exit=False`, which uses /runsync instead (see `run_flow`).
        """
        flow, abort, deadline = self.run_flow(job_input, output_type, options)
        return run_sync(self._http, flow, on_abort=abort, deadline=deadline)

    @overload
    def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: None = None,
        return_exceptions: bool = False,
        **options: Unpack[MapOptions],
    ) -> list[Any]: ...
    @overload
    def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: type[T],
        return_exceptions: Literal[False] = False,
        **options: Unpack[MapOptions],
    ) -> list[T]: ...
    @overload
    def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: type[T],
        return_exceptions: Literal[True],
        **options: Unpack[MapOptions],
    ) -> list[T | RunpodError]: ...
    @overload
    def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: type[T],
        return_exceptions: bool,
        **options: Unpack[MapOptions],
    ) -> list[T] | list[T | RunpodError]: ...
    def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: Any = None,
        return_exceptions: bool = False,
        **options: Unpack[MapOptions],
    ) -> list[Any]:
        """Run one job per input, `concurrency` at a time (threads); results in input order.

        On the first failure (unless `return_exceptions`) or Ctrl-C, no further job
        starts, the jobs still running are cancelled on RunPod, and it is raised.
        """
        plan = FanOut.of(inputs, return_exceptions, options)
        run = plan.item_options

        def one(item: Any, submitted: Submitted) -> Any:
            flow, abort, deadline = self.run_flow(item, output_type, run, submitted)
            return run_sync(self._http, flow, on_abort=abort, deadline=deadline)

        cancels = (
            self.cancel_on_exit if run.get("cancel_on_exit") is None else run.get("cancel_on_exit")
        )
        return map_sync(one, plan, self._cancel_all if cancels else None)

    def _cancel_all(self, job_ids: Iterable[str], deadline: Deadline) -> None:
        """Cancel jobs a map abandons (best effort, all within one clean-up deadline)."""
        for job_id in job_ids:
            flow = self.routes.cancel(job_id, retry=ABORT_RETRY)
            try:
                run_sync(self._http, flow, deadline=deadline)
            except RunpodError as exc:
                logger.warning("cancelling job %s after map() stopped failed: %s", job_id, exc)

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
        self, job_input: Any, *, output_type: None = None, **options: Unpack[SubmitOptions]
    ) -> AsyncJob[Any]: ...
    @overload
    async def run(
        self, job_input: Any, *, output_type: type[T], **options: Unpack[SubmitOptions]
    ) -> AsyncJob[T]: ...
    async def run(
        self, job_input: Any, *, output_type: Any = None, **options: Unpack[SubmitOptions]
    ) -> AsyncJob[Any]:
        flow, abort = self.submit_flow(job_input, options)
        status = await run_async(self._http, flow, on_abort=abort)
        kwargs = self.job_kwargs(output_type, options.get("cancel_on_exit"))
        return AsyncJob(self._http, self.routes, status.id, **kwargs)

    def job(self, job_id: str, *, output_type: Any = None) -> AsyncJob[Any]:
        return AsyncJob(self._http, self.routes, job_id, **self.job_kwargs(output_type, None))

    @overload
    async def run_sync(
        self, job_input: Any, *, output_type: None = None, **options: Unpack[RunOptions]
    ) -> Any: ...
    @overload
    async def run_sync(
        self, job_input: Any, *, output_type: type[T], **options: Unpack[RunOptions]
    ) -> T: ...
    async def run_sync(
        self, job_input: Any, *, output_type: Any = None, **options: Unpack[RunOptions]
    ) -> Any:
        """See `Endpoint.run_sync`; cancelling the task cancels the remote job."""
        flow, abort, deadline = self.run_flow(job_input, output_type, options)
        return await run_async(self._http, flow, on_abort=abort, deadline=deadline)

    @overload
    async def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: None = None,
        return_exceptions: bool = False,
        **options: Unpack[MapOptions],
    ) -> list[Any]: ...
    @overload
    async def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: type[T],
        return_exceptions: Literal[False] = False,
        **options: Unpack[MapOptions],
    ) -> list[T]: ...
    @overload
    async def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: type[T],
        return_exceptions: Literal[True],
        **options: Unpack[MapOptions],
    ) -> list[T | RunpodError]: ...
    @overload
    async def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: type[T],
        return_exceptions: bool,
        **options: Unpack[MapOptions],
    ) -> list[T] | list[T | RunpodError]: ...
    async def map(
        self,
        inputs: Iterable[Any],
        *,
        output_type: Any = None,
        return_exceptions: bool = False,
        **options: Unpack[MapOptions],
    ) -> list[Any]:
        """Run one job per input, `concurrency` at a time (tasks); results in input order.

        On the first failure (unless `return_exceptions`) the jobs still running
        are cancelled, remotely too, and the failure is raised.
        """
        plan = FanOut.of(inputs, return_exceptions, options)
        run = plan.item_options

        async def one(item: Any) -> Any:
            return await self.run_sync(item, output_type=output_type, **run)

        return await map_async(one, plan)

    async def health(self) -> Health:
        return await run_async(self._http, self.routes.health())

    async def purge_queue(self) -> PurgeResult:
        return await run_async(self._http, self.routes.purge_queue())
