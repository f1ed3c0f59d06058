"""Jobs and their queues: what the job API routes read and change.

Each endpoint has a queue (normal, then low priority) served either by up to N worker
tasks on the server's event loop (started as jobs arrive; one idle for
`JobSettings.idle_worker_seconds` ends, so endpoint ids that see no more jobs cost no
task), or by worker processes (a `WorkerHost`, see _workers.py)
that take jobs over HTTP. An in-process worker runs the endpoint's handler with the
official runtime's semantics (_runtime.py) under the job's execution timeout: async
handlers on the loop; plain functions and generator functions each in a thread of
their own, which a cancelled or timed-out job abandons (the worker's slot is free at
once; abandoned threads are capped by `JobSettings.max_abandoned_threads`, and being
daemon threads they never hold up shutdown). A handler that raises SystemExit or
similar fails its job only. A result with ``stopPod`` (``refresh_worker``) or such a
crash restarts the "worker": a handler loaded from a module or file is loaded anew.
A job a worker process took is IN_PROGRESS until that
worker posts its result; its chunks and progress come from the worker's posts, and
cancellation, timeout or expiry send the worker a stop signal instead. Jobs move IN_QUEUE -> IN_PROGRESS -> COMPLETED / FAILED /
CANCELLED / TIMED_OUT; a FAILED or TIMED_OUT job can be retried (same id, back to
IN_QUEUE). Long polls wait on per-job futures that every change resolves, so they
answer as soon as the job (or a stream chunk) is ready. Timers expire jobs: an
unfinished job when its ttl runs out, a finished one when its retention ends; an
expired job is gone (404).

Everything here runs on the server's event loop; nothing is locked.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from runpod_typed.emulator import _json as wire
from runpod_typed.emulator import _runtime, handlers
from runpod_typed.emulator._counters import Counters
from runpod_typed.emulator._requests import BadRequest, JobRequest
from runpod_typed.emulator._settings import JobSettings
from runpod_typed.emulator._webhooks import WebhookSender
from runpod_typed.emulator.handlers import HandlerConfig

_LOG = logging.getLogger("runpod_typed.emulator.handlers")

IN_QUEUE = "IN_QUEUE"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
TIMED_OUT = "TIMED_OUT"
FINAL_STATES = frozenset({COMPLETED, FAILED, CANCELLED, TIMED_OUT})


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(eq=False, slots=True)
class Job:
    """One job; times are the loop's clock (seconds)."""

    id: str
    endpoint_id: str
    input: Any
    webhook: str | None
    execution_timeout: float
    ttl: float
    low_priority: bool
    retention: float
    created_at: float
    status: str = IN_QUEUE
    attempt: int = 0
    """Bumped by retry, so results of an earlier attempt are recognised and dropped."""
    retries: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    worker_id: str | None = None
    output: Any = None
    has_output: bool = True
    """False when a worker process finished the job without an output (RunPod then
    shows none)."""
    progress: Any = None
    has_progress: bool = False
    error: str | None = None
    chunks: list[Any] = field(default_factory=list)
    stream_cursor: int = 0
    waiters: list[asyncio.Future[None]] | None = None
    task: asyncio.Future[Any] | None = None
    """What runs the job: the handler's task, or the future a worker process's result
    resolves; cancelling it stops the job."""
    expiry: asyncio.TimerHandle | None = None
    removed: bool = False

    def status_body(self) -> dict[str, Any]:
        """The job as /status shows it."""
        body: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.started_at is not None:
            body["delayTime"] = _ms(self.started_at - self.created_at)
            if self.finished_at is not None:
                body["executionTime"] = _ms(self.finished_at - self.started_at)
        if self.status == COMPLETED and self.has_output:
            body["output"] = self.output
        elif self.status == IN_PROGRESS and self.has_progress:
            body["output"] = self.progress
        if self.error is not None:
            body["error"] = self.error
        if self.worker_id is not None:
            body["workerId"] = self.worker_id
        if self.retries:
            body["retries"] = self.retries
        return body

    def short_body(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status}


class WorkerHost(Protocol):
    """Worker processes that serve endpoints by taking their jobs (see _workers.py)."""

    def open(self, endpoint_id: str) -> None:
        """Make sure the endpoint's worker processes run (or will, once serving)."""

    def worker_health(self, endpoint_id: str) -> dict[str, int]:
        """The `workers` part of /health for the endpoint."""

    def begin_shutdown(self) -> None:
        """The server is stopping: answer held polls, ask every worker to stop."""

    async def aclose(self) -> None:
        """Stop every worker process (terminate, then kill after a grace)."""


class EndpointQueue:
    """The queue, workers and health counters of one endpoint id."""

    def __init__(
        self,
        endpoint_id: str,
        handler: HandlerConfig | None,
        workers: int,
        host: WorkerHost | None = None,
    ) -> None:
        self.id = endpoint_id
        self.handler = handler
        self.host = host
        """Set when worker processes serve the endpoint (then `handler` is None)."""
        self.concurrency: int = 1 if handler is None else handler.concurrency()
        """Jobs one in-process worker runs at once (its `concurrency_modifier`)."""
        self.worker_count = workers
        # The queues exist while they hold jobs (None otherwise), and `idle` is a list: an
        # endpoint id without work costs a few hundred bytes, not three deques' blocks.
        self.queue: deque[tuple[Job, int]] | None = None
        self.low_queue: deque[tuple[Job, int]] | None = None
        self.idle: list[asyncio.Future[None]] = []
        """Idle in-process workers' and held take polls' futures, oldest first."""
        self.workers: dict[int, asyncio.Task[None]] = {}
        """In-process worker slots running now, by index (started on demand, see `_add_slot`)."""
        self.in_queue = 0
        self.in_progress = 0
        self.completed = 0
        self.failed = 0
        self.retried = 0

    def health(self) -> dict[str, Any]:
        if self.host is not None:
            workers = self.host.worker_health(self.id)
        else:
            running = min(self.in_progress, self.worker_count)
            idle = self.worker_count - running
            workers = {
                "idle": idle,
                "running": running,
                "initializing": 0,
                "ready": idle,
                "throttled": 0,
                "unhealthy": 0,
            }
        return {
            "jobs": {
                "completed": self.completed,
                "failed": self.failed,
                "inProgress": self.in_progress,
                "inQueue": self.in_queue,
                "retried": self.retried,
            },
            "workers": workers,
        }


class JobStore:
    """All jobs of all endpoints, their workers and timers."""

    def __init__(
        self,
        *,
        settings: JobSettings,
        resolve_handler: Callable[[str], HandlerConfig | None],
        workers: int,
        counters: Counters,
        webhook_retry_delay: float,
        resolve_host: Callable[[str], WorkerHost | None] | None = None,
    ) -> None:
        self.settings = settings
        self.resolve_handler = resolve_handler
        self.resolve_host = resolve_host
        self.worker_count = workers
        self.counters = counters
        self.webhooks: WebhookSender = WebhookSender(
            counters, attempts=settings.webhook_attempts, retry_delay=webhook_retry_delay
        )
        self.jobs: dict[str, Job] = {}
        self.endpoints: dict[str, EndpointQueue] = {}
        self.closing: bool = False
        self.threads: HandlerThreads = HandlerThreads(settings.max_abandoned_threads)
        self._hosts: list[WorkerHost] = []
        self._background: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lookups

    def endpoint(self, endpoint_id: str) -> EndpointQueue | None:
        """The endpoint with this id, started on first use; None if no handler serves it."""
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            host = None if self.resolve_host is None else self.resolve_host(endpoint_id)
            if host is not None:
                endpoint = self.endpoints[endpoint_id] = EndpointQueue(
                    endpoint_id, None, self.worker_count, host
                )
                if host not in self._hosts:
                    self._hosts.append(host)
                host.open(endpoint_id)
                return endpoint
            handler = self.resolve_handler(endpoint_id)
            if handler is None:
                return None
            endpoint = self.endpoints[endpoint_id] = EndpointQueue(
                endpoint_id, handler, self.worker_count
            )
        return endpoint

    def get(self, endpoint_id: str, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.endpoint_id == endpoint_id else None

    # ------------------------------------------------------------------ changes

    def submit(self, endpoint: EndpointQueue, request: JobRequest, *, sync: bool) -> Job:
        loop = asyncio.get_running_loop()
        retention = (
            self.settings.runsync_retention_seconds if sync else self.settings.run_retention_seconds
        )
        job = Job(
            id=f"{uuid.uuid4()}-e1",
            endpoint_id=endpoint.id,
            input=request.input,
            webhook=request.webhook,
            execution_timeout=request.execution_timeout,
            ttl=request.ttl,
            low_priority=request.low_priority,
            retention=retention,
            created_at=loop.time(),
        )
        self.jobs[job.id] = job
        self.counters.job_created(request.input)
        endpoint.in_queue += 1
        self._enqueue(endpoint, job)
        return job

    def cancel(self, job: Job) -> None:
        """Cancel a queued or running job (a finished one is left as it is)."""
        if job.status in FINAL_STATES:
            return
        task = job.task
        self._finish(job, CANCELLED)
        if task is not None:
            task.cancel()

    def retry(self, job: Job) -> None:
        if job.status not in (FAILED, TIMED_OUT):
            raise BadRequest(
                f"job {job.id} is {job.status}: only FAILED or TIMED_OUT jobs can be retried"
            )
        endpoint = self.endpoints[job.endpoint_id]
        job.attempt += 1
        job.retries += 1
        job.started_at = job.finished_at = job.worker_id = job.error = job.output = None
        job.has_output = True
        job.progress, job.has_progress = None, False
        job.chunks = []
        job.stream_cursor = 0
        endpoint.retried += 1
        self._set_status(job, IN_QUEUE)
        self._enqueue(endpoint, job)

    def purge(self, endpoint: EndpointQueue) -> int:
        """Remove every queued job of the endpoint (running ones keep running)."""
        removed = 0
        for queue in (endpoint.queue, endpoint.low_queue):
            for job, attempt in queue or ():
                if self._is_current(job, attempt, IN_QUEUE):
                    self._remove(job)
                    removed += 1
        endpoint.queue = endpoint.low_queue = None
        return removed

    def take_stream(self, job: Job) -> dict[str, Any]:
        """The chunks produced since the previous /stream call for this job."""
        fresh = job.chunks[job.stream_cursor :]
        job.stream_cursor = len(job.chunks)
        body: dict[str, Any] = {
            "id": job.id,
            "status": job.status,
            "stream": [{"output": chunk} for chunk in fresh],
        }
        if job.error is not None:
            body["error"] = job.error
        return body

    # ------------------------------------------------------------------ waiting

    async def wait(self, job: Job, ready: Callable[[Job], bool], timeout: float) -> None:
        """Return when `ready(job)`, the job is gone, the server stops, or `timeout` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (ready(job) or job.removed or self.closing):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            waiter = loop.create_future()
            if job.waiters is None:
                job.waiters = []
            job.waiters.append(waiter)
            try:
                await asyncio.wait((waiter,), timeout=remaining)
            finally:
                if not waiter.done():
                    waiter.cancel()
                    job.waiters.remove(waiter)

    def _notify(self, job: Job) -> None:
        if job.waiters:
            for waiter in job.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            job.waiters = None

    def wake_all(self) -> None:
        """Answer every long poll now: the server is stopping."""
        self.closing = True
        for job in self.jobs.values():
            self._notify(job)
        for endpoint in self.endpoints.values():
            while endpoint.idle:
                waiter = endpoint.idle.pop(0)
                if not waiter.done():
                    waiter.set_result(None)
        for host in self._hosts:
            host.begin_shutdown()

    # ------------------------------------------------------------------ state

    @staticmethod
    def _is_current(job: Job, attempt: int, status: str) -> bool:
        return job.attempt == attempt and job.status == status and not job.removed

    def _enqueue(self, endpoint: EndpointQueue, job: Job) -> None:
        if job.low_priority:
            if endpoint.low_queue is None:
                endpoint.low_queue = deque()
            endpoint.low_queue.append((job, job.attempt))
        else:
            if endpoint.queue is None:
                endpoint.queue = deque()
            endpoint.queue.append((job, job.attempt))
        self._expire_at(job, job.ttl)
        if not self._wake_one(endpoint):
            self._add_slot(endpoint)

    @staticmethod
    def _wake_one(endpoint: EndpointQueue) -> bool:
        """Hand the news of a queued job to one idle worker (or take poll); False if none
        was waiting."""
        while endpoint.idle:
            waiter = endpoint.idle.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return True
        return False

    def _set_status(self, job: Job, status: str) -> None:
        endpoint = self.endpoints[job.endpoint_id]
        if job.status == IN_QUEUE:
            endpoint.in_queue -= 1
        elif job.status == IN_PROGRESS:
            endpoint.in_progress -= 1
        if status == IN_QUEUE:
            endpoint.in_queue += 1
        elif status == IN_PROGRESS:
            endpoint.in_progress += 1
        job.status = status
        self._notify(job)

    def _finish(
        self, job: Job, status: str, *, output: Any = None, error: str | None = None
    ) -> None:
        endpoint = self.endpoints[job.endpoint_id]
        job.finished_at = asyncio.get_running_loop().time()
        job.output, job.error = output, error
        if status == COMPLETED:
            endpoint.completed += 1
        elif status in (FAILED, TIMED_OUT):
            endpoint.failed += 1
        self._set_status(job, status)
        self.counters.job_final(job.id, status)
        self._expire_at(job, job.retention)
        if job.webhook is not None:
            self.webhooks.send(job.webhook, job.status_body())

    def _expire_at(self, job: Job, delay: float) -> None:
        if job.expiry is not None:
            job.expiry.cancel()
        job.expiry = asyncio.get_running_loop().call_later(delay, self._remove, job)

    def _remove(self, job: Job) -> None:
        """Forget a job (ttl or retention over, purged): it answers 404 from now on."""
        if job.removed:
            return
        endpoint = self.endpoints[job.endpoint_id]
        if job.status == IN_QUEUE:
            endpoint.in_queue -= 1
        elif job.status == IN_PROGRESS:
            endpoint.in_progress -= 1
        _detach(job)
        self.jobs.pop(job.id, None)
        self._notify(job)

    # ------------------------------------------------------------------ in-process workers

    def _add_slot(self, endpoint: EndpointQueue) -> None:
        """Start one more in-process worker slot for a job no idle slot was told about,
        unless all the endpoint's slots run (they take queued jobs as they finish)."""
        slots = self.worker_count * endpoint.concurrency
        if endpoint.handler is None or len(endpoint.workers) >= slots:
            return
        index = next(i for i in range(slots) if i not in endpoint.workers)
        task = asyncio.get_running_loop().create_task(self._work(endpoint, index))
        endpoint.workers[index] = task

        def ended(done: asyncio.Task[None]) -> None:
            if endpoint.workers.get(index) is done:
                del endpoint.workers[index]

        task.add_done_callback(ended)

    async def _work(self, endpoint: EndpointQueue, index: int) -> None:
        """An in-process worker's slot: runs the endpoint's handler on each job it takes
        (a worker with a concurrency of C has C slots); ends after
        `JobSettings.idle_worker_seconds` without a job (the next job starts a slot again)."""
        worker_id = f"{endpoint.id}-worker-{index // endpoint.concurrency}"
        loop = asyncio.get_running_loop()
        idle_limit = self.settings.idle_worker_seconds
        while True:
            job = self._next(endpoint)
            if job is None:
                waiter = loop.create_future()
                endpoint.idle.append(waiter)
                try:
                    await asyncio.wait((waiter,), timeout=idle_limit)
                finally:
                    if not waiter.done():
                        waiter.cancel()
                        with contextlib.suppress(ValueError):
                            endpoint.idle.remove(waiter)
                if waiter.cancelled():  # idle for the whole period, no news since: end
                    if endpoint.workers.get(index) is asyncio.current_task():
                        del endpoint.workers[index]
                    return
                continue
            await self._execute(endpoint, job, worker_id)

    def _next(self, endpoint: EndpointQueue) -> Job | None:
        for queue in (endpoint.queue, endpoint.low_queue):
            while queue:
                job, attempt = queue.popleft()
                if self._is_current(job, attempt, IN_QUEUE):
                    return job
        endpoint.queue = endpoint.low_queue = None  # both empty
        return None

    def _start(self, job: Job, worker_id: str) -> int:
        """Move a job that was just taken from its queue to IN_PROGRESS; its attempt."""
        job.worker_id = worker_id
        job.started_at = asyncio.get_running_loop().time()
        self._set_status(job, IN_PROGRESS)
        return job.attempt

    async def _execute(self, endpoint: EndpointQueue, job: Job, worker_id: str) -> None:
        config = endpoint.handler
        assert config is not None
        loop = asyncio.get_running_loop()
        attempt = self._start(job, worker_id)
        handlers._progress_sinks[job.id] = functools.partial(self._progress, loop, job, attempt)
        try:
            task = loop.create_task(self._run_in_process(config, job, attempt, worker_id))
            await self._supervise(job, attempt, task, self._complete)
        finally:
            handlers._progress_sinks.pop(job.id, None)
            _runtime.clear_debugger()
        if task.done() and not task.cancelled():
            exc = task.exception()
            restart = isinstance(exc, _runtime.HandlerCrashed) or (
                exc is None and bool(task.result().get("stopPod"))
            )
            if restart:
                await self._restart_handler(endpoint, config)

    async def _restart_handler(self, endpoint: EndpointQueue, config: HandlerConfig) -> None:
        """The in-process equivalent of restarting a worker (refresh_worker, a crash): the
        handler's module is loaded anew, so its state starts over."""
        if config.source is None or endpoint.handler is not config:
            return
        try:
            fresh = await asyncio.to_thread(config.reloaded)
        except Exception as exc:
            _LOG.error("could not load handler %s again: %s", config.source.spec, exc)
            return
        if endpoint.handler is config:
            endpoint.handler = fresh

    async def _supervise(
        self,
        job: Job,
        attempt: int,
        task: asyncio.Future[Any],
        complete: Callable[[Job, Any], None],
    ) -> None:
        """Wait for what runs the job under its execution timeout, then record the end."""
        job.task = task
        try:
            done, _ = await asyncio.wait((task,), timeout=job.execution_timeout)
        finally:
            job.task = None
            if not task.done():
                task.cancel()
        if not self._is_current(job, attempt, IN_PROGRESS):
            return  # cancelled or expired meanwhile: the result is discarded
        if not done:
            self._finish(
                job,
                TIMED_OUT,
                error=f"job exceeded its execution timeout of {_ms(job.execution_timeout)} ms",
            )
        elif task.cancelled():
            self._finish(job, FAILED, error="the handler was cancelled")
        elif (exc := task.exception()) is not None:
            self._finish(job, FAILED, error=str(exc) or type(exc).__name__)
        else:
            complete(job, task.result())

    def _complete(self, job: Job, result: dict[str, Any]) -> None:
        """Record an in-process handler's result (the runtime's, see `_complete_remote`);
        one that could not be sent as JSON (not serializable, NaN or Infinity, too deep)
        fails the job (the runtime would fail to post it, and RunPod would never see a
        result)."""
        try:
            wire.check_output(result, "the handler's output")
        except ValueError as exc:
            self._finish(job, FAILED, error=str(exc))
            return
        self._complete_remote(job, result)

    # ------------------------------------------------------------------ worker processes

    async def take(
        self,
        endpoint_id: str,
        count: int,
        hold: float,
        taking: Callable[[], bool],
        interrupt: asyncio.Future[None] | None = None,
    ) -> list[Job]:
        """Up to `count` queued jobs of the endpoint for a worker process's job-take poll,
        waiting up to `hold` seconds for one; none once the server stops, `interrupt` is
        resolved or `taking()` turns false. The caller must `start_remote` each job it
        gets, at once (before awaiting anything)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + hold
        woken: EndpointQueue | None = None
        while not self.closing and taking() and not (interrupt is not None and interrupt.done()):
            endpoint = self.endpoint(endpoint_id)  # re-read: a reset replaces it
            if endpoint is None:
                return []
            jobs: list[Job] = []
            while len(jobs) < count and (job := self._next(endpoint)) is not None:
                jobs.append(job)
            if jobs:
                return jobs
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            waiter = loop.create_future()
            endpoint.idle.append(waiter)
            waits: tuple[asyncio.Future[Any], ...] = (waiter,)
            if interrupt is not None:
                waits = (waiter, interrupt)
            try:
                await asyncio.wait(waits, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not waiter.done():
                    waiter.cancel()
                    with contextlib.suppress(ValueError):
                        endpoint.idle.remove(waiter)
            woken = endpoint if waiter.done() and not waiter.cancelled() else None
        if woken is not None:  # the news of a queued job reached this poll: pass it on
            self._wake_one(woken)
        return []

    def start_remote(
        self,
        job: Job,
        worker_id: str,
        outcome: asyncio.Future[dict[str, Any]],
        on_stop: Callable[[], None],
    ) -> int:
        """A worker process took `job` (from `take`): IN_PROGRESS until `outcome` holds
        the worker's final post (or an exception: the worker was lost). If the job ends
        another way first (cancel, execution timeout, expiry, reset), `outcome` is
        cancelled and `on_stop()` tells the worker. Returns the job's attempt."""
        loop = asyncio.get_running_loop()
        attempt = self._start(job, worker_id)
        outcome.add_done_callback(lambda done: on_stop() if done.cancelled() else None)
        job.task = outcome
        supervisor = loop.create_task(self._supervise(job, attempt, outcome, self._complete_remote))
        self._background.add(supervisor)
        supervisor.add_done_callback(self._background.discard)
        return attempt

    def remote_chunk(self, job: Job, attempt: int, chunk: Any) -> None:
        """A stream chunk a worker process posted for its job."""
        self._add_chunk(job, attempt, chunk)

    def remote_progress(self, job: Job, attempt: int, value: Any) -> None:
        """A progress update a worker process posted for its job."""
        if self._is_current(job, attempt, IN_PROGRESS):
            job.progress, job.has_progress = value, True
            self._notify(job)

    def _complete_remote(self, job: Job, result: dict[str, Any]) -> None:
        """Record a worker process's final post as the runtime made it: ``{"error": ...}``
        fails the job with that error unchanged (a non-string is JSON-encoded);
        otherwise ``{"output": ...}`` completes it (without "output": no output)."""
        error = result.get("error")
        if error:
            self._finish(job, FAILED, error=error if isinstance(error, str) else json.dumps(error))
        elif "output" in result:
            self._finish(job, COMPLETED, output=result["output"])
        else:
            job.has_output = False
            self._finish(job, COMPLETED)

    # ------------------------------------------------------------------ in-process handlers

    def _progress(
        self, loop: asyncio.AbstractEventLoop, job: Job, attempt: int, value: Any
    ) -> None:
        """`progress_update` sink; may be called from a handler's thread."""

        def apply() -> None:
            if self._is_current(job, attempt, IN_PROGRESS):
                try:
                    wire.check_output(value, "a progress update")
                except ValueError as exc:  # RunPod's server would refuse the runtime's post
                    _LOG.warning("job %s: progress update dropped: %s", job.id, exc)
                    return
                job.progress, job.has_progress = value, True
                self._notify(job)

        loop.call_soon_threadsafe(apply)

    async def _run_in_process(
        self, config: HandlerConfig, job: Job, attempt: int, worker_id: str
    ) -> dict[str, Any]:
        """Run the handler on the job; the runtime's result. Async handlers run on this
        loop, sync ones in a thread of their own (abandoned if the job ends first)."""
        loop = asyncio.get_running_loop()
        payload = {"id": job.id, "input": job.input}
        await _runtime.prepare(config)
        handler = config.handler
        if inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler):

            def on_chunk(chunk: Any) -> None:
                self._check_chunk(chunk)
                self._add_chunk(job, attempt, chunk)

            try:
                if _runtime.is_generator(config):
                    return await _runtime.run_stream(config, payload, worker_id, on_chunk)
                return await _runtime.run_job(config, payload, worker_id)
            except (Exception, asyncio.CancelledError):
                raise
            except BaseException as exc:  # SystemExit & co. must not end the server's loop
                raise _runtime.crashed(exc, worker_id) from None

        stop = threading.Event()

        def deliver(chunk: Any) -> None:  # in the handler's thread
            self._check_chunk(chunk)
            loop.call_soon_threadsafe(self._add_chunk, job, attempt, chunk)

        call = functools.partial(
            _runtime.call_sync, config, payload, worker_id, deliver, stop.is_set
        )
        try:
            result: dict[str, Any] = await self.threads.run(call, f"handler-{job.id}")
        finally:
            stop.set()
        return result

    def _check_chunk(self, chunk: Any) -> None:
        size = len(wire.check_output(chunk, "a stream chunk"))
        if size > self.settings.max_chunk_bytes:
            raise ValueError(
                f"a stream chunk of {size} bytes exceeds the limit of "
                f"{self.settings.max_chunk_bytes} bytes"
            )

    def _add_chunk(self, job: Job, attempt: int, chunk: Any) -> None:
        if self._is_current(job, attempt, IN_PROGRESS):
            job.chunks.append(chunk)
            self._notify(job)

    # ------------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Forget every job and endpoint, stopping workers, handlers, timers and webhooks."""
        for endpoint in self.endpoints.values():
            for worker in list(endpoint.workers.values()):
                worker.cancel()
            while endpoint.idle:  # held take polls re-read the endpoint (a new one)
                waiter = endpoint.idle.pop(0)
                if not waiter.done():
                    waiter.set_result(None)
        for job in list(self.jobs.values()):
            _detach(job)
            handlers._progress_sinks.pop(job.id, None)
            self._notify(job)
        self.jobs.clear()
        self.endpoints.clear()
        self.webhooks.cancel_all()

    async def aclose(self) -> None:
        self.closing = True
        self.reset()
        for host in self._hosts:
            await host.aclose()
        await self.webhooks.aclose()


def _detach(job: Job) -> None:
    """Mark a job gone and stop what still runs for it (its handler, its expiry timer)."""
    job.removed = True
    if job.task is not None:
        job.task.cancel()
    if job.expiry is not None:
        job.expiry.cancel()


class HandlerThreads:
    """Threads that run sync handlers, one per job.

    A job that ends while its handler still runs (cancel, execution timeout, expiry)
    abandons the thread: Python cannot stop it, but it no longer holds a worker's slot.
    At most `cap` abandoned threads may run at once; beyond that new sync jobs wait for
    one to end (and a warning says why). The threads are daemon threads: a process
    that exits does not wait for them.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.abandoned: int = 0
        self._freed: asyncio.Event | None = None
        self._warned = False

    async def run(self, call: Callable[[], Any], name: str) -> Any:
        """`call()` in a new thread; its result. Cancelling the wait abandons the thread."""
        while self.abandoned >= self.cap:
            if not self._warned:
                self._warned = True
                _LOG.warning(
                    "%d sync handlers of ended jobs are still running; new sync jobs wait "
                    "for one of them to return (JobSettings.max_abandoned_threads)",
                    self.abandoned,
                )
            if self._freed is None:
                self._freed = asyncio.Event()
            await self._freed.wait()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        abandoned = False

        def ended(value: Any, error: BaseException | None) -> None:  # on the loop
            nonlocal abandoned
            if abandoned:
                abandoned = False
                self.abandoned -= 1
                if self._freed is not None:
                    self._freed.set()
                    self._freed = None
                return
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(value)

        def target() -> None:
            value: Any = None
            error: BaseException | None = None
            try:
                value = call()
            except BaseException as exc:
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(ended, value, error)

        threading.Thread(target=target, name=name, daemon=True).start()
        try:
            return await future
        except asyncio.CancelledError:
            if not future.done() or future.cancelled():
                abandoned = True
                self.abandoned += 1
            raise
