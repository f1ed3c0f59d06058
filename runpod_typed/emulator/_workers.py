"""Worker processes: real RunPod worker files, run the way RunPod runs them.

``--worker [ENDPOINT_ID=]FILE [ARGS...]`` starts ``PYTHON FILE ARGS`` in FILE's folder,
N processes per endpoint, each in its own process group, with the environment RunPod
gives a worker. The official runtime in the worker (``runpod.serverless.start``) sees
``RUNPOD_WEBHOOK_GET_JOB`` and serves instead of running its local test mode: it polls
the emulator's worker routes (see _worker_api.py) for jobs and posts results, stream
chunks and progress back. The emulator decides nothing about outputs, errors,
streaming, aggregation or progress: it records what the runtime posts.

The environment, as runpod 1.12's runtime reads it (``$ID`` and ``$RUNPOD_POD_ID``
are substituted by the runtime itself):

- ``RUNPOD_WEBHOOK_GET_JOB``: ``.../job-take/$ID?token=T``; the runtime puts its worker
  id for ``$ID`` and appends ``&job_in_progress=0|1``; batch takes use
  ``/job-take-batch/`` and ``&batch_size=N``, the stop channel ``/job-stop/``.
- ``RUNPOD_WEBHOOK_POST_OUTPUT``: ``.../job-done/$RUNPOD_POD_ID/$ID?token=T`` (``$ID``:
  the job id; the runtime appends ``&isStream=true|false``); progress updates are
  posted here too, as ``{"status": "IN_PROGRESS", "output": ...}``.
- ``RUNPOD_WEBHOOK_POST_STREAM``: ``.../job-stream/$RUNPOD_POD_ID/$ID?token=T``.
- ``RUNPOD_WEBHOOK_PING``: ``.../ping/$RUNPOD_POD_ID?token=T`` (heartbeat with the ids of
  the jobs in progress, every ``RUNPOD_PING_INTERVAL`` ms).
- ``RUNPOD_AI_API_KEY`` (the same per-process secret T), ``RUNPOD_POD_ID``,
  ``RUNPOD_POD_HOSTNAME``, ``RUNPOD_ENDPOINT_ID``, ``RUNPOD_PING_INTERVAL``.
- ``RUNPOD_SKIP_AUTO_SYSTEM_CHECKS=true`` unless already set: the runtime's start-up
  fitness checks (4 GB free memory, a connection to 8.8.8.8:53) test a RunPod host,
  not a developer's machine, and would kill the worker offline.
- ``PYTHONUNBUFFERED=1`` unless already set, so the worker's prints arrive as they
  happen. Everything else is inherited from the emulator; ``RUNPOD_REALTIME_*`` (the
  runtime's other serving mode) is removed.

The worker's stdout and stderr go to the emulator's stderr (its stdout carries only
the READY line).

Cancellation: RunPod tells a worker to stop a job through the stop channel (a long
poll on ``/job-stop/`` answering ``{"jobsToStop": [ids]}``); the runtime cancels that
job's task and posts nothing for it. The runtime ignores a signal for a job it took
but has not started yet, so the signal is repeated while the worker's heartbeat still
lists the job. A sync handler blocks the runtime's event loop, so the runtime cannot
stop it: a worker whose heartbeat still lists the job
`WorkerSettings.stop_grace_seconds` after the first signal is killed and restarted
(a blocked runtime cannot act on SIGTERM either).

A worker that exits unasked fails the jobs it held (with the exit code or signal in
the error) and is restarted, after a delay that doubles while it keeps exiting early.
A result with ``stopPod`` (``refresh_worker``) restarts the worker after the job.
Stopping: SIGTERM (the runtime finishes its loops), then SIGKILL to the process group
after `WorkerSettings.terminate_grace_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runpod_typed.emulator._queue import Job
from runpod_typed.emulator._settings import WorkerSettings

_LOG = logging.getLogger("runpod_typed.emulator.workers")

#: Variables of the runtime's other modes, never passed on to a worker.
_REMOVED_VARIABLES = ("RUNPOD_REALTIME_PORT", "RUNPOD_REALTIME_CONCURRENCY")
#: A worker that ran at least this long before exiting restarts without delay growth.
_STABLE_SECONDS = 10.0
#: A heartbeat must be this much younger than a stop signal to show the job still held.
_PING_SETTLE_SECONDS = 1.0

_POSIX = os.name == "posix"


@dataclass(frozen=True)
class WorkerCommand:
    """A worker file and its arguments: the process is ``PYTHON FILE *ARGS``."""

    file: Path
    args: tuple[str, ...] = ()

    @classmethod
    def from_parts(cls, parts: Sequence[str]) -> WorkerCommand:
        if not parts or not parts[0]:
            raise ValueError("a worker needs a file: [ENDPOINT_ID=]FILE [ARGS...]")
        path = Path(parts[0]).expanduser().resolve()
        if not path.is_file():
            raise ValueError(f"worker file {parts[0]!r} does not exist")
        return cls(path, tuple(parts[1:]))

    def __str__(self) -> str:
        return shlex.join([str(self.file), *self.args])


def parse_worker_spec(spec: str) -> tuple[str | None, WorkerCommand]:
    """``"[ENDPOINT_ID=]FILE [ARGS...]"`` (shell-quoted) -> (endpoint id or None, command)."""
    parts = shlex.split(spec)
    if not parts:
        raise ValueError("empty worker spec: expected [ENDPOINT_ID=]FILE [ARGS...]")
    endpoint_id: str | None = None
    name, sep, file = parts[0].partition("=")
    if sep and name and "/" not in name and os.sep not in name:
        endpoint_id, parts[0] = name, file
    return endpoint_id, WorkerCommand.from_parts(parts)


def parse_worker_files(
    worker_files: Mapping[str, str | Sequence[str]] | Sequence[str],
) -> tuple[dict[str, WorkerCommand], WorkerCommand | None]:
    """Per-endpoint commands and the default one (for ids without their own).

    A mapping is endpoint id -> ``"FILE ARGS"`` (shell-quoted) or ``[FILE, *ARGS]``;
    a sequence holds CLI specs, ``"[ENDPOINT_ID=]FILE [ARGS...]"``.
    """
    commands: dict[str, WorkerCommand] = {}
    default: WorkerCommand | None = None
    if isinstance(worker_files, Mapping):
        for name, spec in worker_files.items():
            if not name:
                raise ValueError("a worker's endpoint id must be a non-empty string")
            parts = shlex.split(spec) if isinstance(spec, str) else list(spec)
            commands[name] = WorkerCommand.from_parts(parts)
        return commands, default
    if isinstance(worker_files, str):
        raise TypeError("worker_files: a mapping or a list of specs, not one string")
    for item in worker_files:
        endpoint_id, command = parse_worker_spec(item)
        if endpoint_id is None:
            if default is not None:
                raise ValueError("only one worker may serve endpoints without their own")
            default = command
        else:
            commands[endpoint_id] = command
    return commands, default


def resolve_python(python: str | None) -> str:
    """The interpreter that runs worker files (default: the emulator's)."""
    if python is None:
        return sys.executable
    found = shutil.which(python)
    if found is None:
        raise ValueError(f"worker python {python!r} was not found")
    return str(Path(found).absolute())


class WorkerLost(Exception):
    """The worker process running a job ended or was restarted before its result."""


@dataclass(eq=False)
class Held:
    """A job a worker took and has not finished."""

    job: Job
    attempt: int
    outcome: asyncio.Future[dict[str, Any]]


@dataclass(eq=False)
class Worker:
    """One worker slot of an endpoint: the process running in it now, and its state."""

    endpoint_id: str
    index: int
    command: WorkerCommand
    id: str
    generation: int = 0
    """Bumped on every start; requests of an earlier process are refused."""
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    state: str = "idle"
    """starting -> ready -> (stopping ->) exited -> backoff -> starting ...; closed."""
    contacted: bool = False
    started_at: float = 0.0
    early_exits: int = 0
    restart_reason: str | None = None
    held: dict[str, Held] = field(default_factory=dict)
    stops: list[str] = field(default_factory=list)
    stop_waiters: list[asyncio.Future[None]] = field(default_factory=list)
    interrupt: asyncio.Future[None] | None = None
    """Resolved when the process is being stopped: held polls answer at once."""
    exited: asyncio.Future[None] | None = None
    last_ping: float = -1.0
    pinged_jobs: frozenset[str] = frozenset()
    stopping: dict[str, float] = field(default_factory=dict)
    """Jobs the worker was told to stop -> when; signalled again while its heartbeat
    lists them (a signal that came before the runtime started the job is ignored)."""
    restart_timer: asyncio.TimerHandle | None = None
    kill_timer: asyncio.TimerHandle | None = None

    def accepting(self, generation: int) -> bool:
        return self.generation == generation and self.state in ("starting", "ready")

    def wake_stop_polls(self) -> None:
        for waiter in self.stop_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.stop_waiters.clear()


class WorkerPool:
    """The worker processes of every endpoint served by worker files (a `WorkerHost`)."""

    def __init__(
        self,
        *,
        commands: Mapping[str, WorkerCommand],
        default: WorkerCommand | None,
        python: str,
        count: int,
        settings: WorkerSettings,
    ) -> None:
        self.commands = dict(commands)
        self.default = default
        self.python = python
        self.count = count
        self.settings = settings
        self.base_url: str | None = None
        self.closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: dict[str, list[Worker]] = {}
        self._by_token: dict[str, Worker] = {}

    def __repr__(self) -> str:
        return (
            f"WorkerPool(endpoints={sorted(self.commands)}, default={self.default is not None}, "
            f"count={self.count})"
        )

    # ------------------------------------------------------------------ WorkerHost

    def serves(self, endpoint_id: str) -> bool:
        return endpoint_id in self.commands or self.default is not None

    def open(self, endpoint_id: str) -> None:
        if endpoint_id in self._slots:
            return
        command = self.commands.get(endpoint_id, self.default)
        if command is None:
            raise KeyError(endpoint_id)
        slots = [
            Worker(endpoint_id, index, command, f"{endpoint_id}-worker-{index}")
            for index in range(self.count)
        ]
        self._slots[endpoint_id] = slots
        if self.base_url is not None and not self.closing:
            for worker in slots:
                self._spawn(worker)

    def worker_health(self, endpoint_id: str) -> dict[str, int]:
        counts = dict.fromkeys(("idle", "running", "initializing", "throttled", "unhealthy"), 0)
        for worker in self._slots.get(endpoint_id, ()):
            if worker.state == "ready" and worker.contacted:
                counts["running" if worker.held else "idle"] += 1
            elif worker.state in ("backoff", "idle"):
                counts["unhealthy"] += 1
            else:
                counts["initializing"] += 1
        counts["ready"] = counts["idle"]
        return counts

    def begin_shutdown(self) -> None:
        self.closing = True
        for worker in self._workers():
            self._stop_process(worker, None)

    async def aclose(self) -> None:
        self.begin_shutdown()
        exits = [w.exited for w in self._workers() if w.exited is not None and not w.exited.done()]
        if exits:
            await asyncio.wait(exits, timeout=self.settings.terminate_grace_seconds)
        for worker in self._workers():
            if worker.restart_timer is not None:
                worker.restart_timer.cancel()
            if worker.exited is not None and not worker.exited.done():
                self._kill(worker)
        exits = [w.exited for w in self._workers() if w.exited is not None and not w.exited.done()]
        if exits:
            await asyncio.wait(exits, timeout=5)
        self._slots.clear()
        self._by_token.clear()
        self.base_url = None

    # ------------------------------------------------------------------ serving

    def start(self, base_url: str) -> None:
        """Start the workers of every opened endpoint; `base_url` is the emulator's root
        (e.g. ``http://127.0.0.1:8000``) as the workers reach it. Call on the serving loop."""
        self._loop = asyncio.get_running_loop()
        self.base_url = base_url.rstrip("/")
        self.closing = False
        for worker in self._workers():
            if worker.process is None and worker.state in ("idle", "closed"):
                self._spawn(worker)

    def worker(self, token: str) -> Worker | None:
        """The live worker this request secret belongs to."""
        return self._by_token.get(token)

    def processes(self, endpoint_id: str) -> list[int | None]:
        """The process ids of the endpoint's workers (None: not running), for tests."""
        return [
            None if w.process is None or w.process.poll() is not None else w.process.pid
            for w in self._slots.get(endpoint_id, ())
        ]

    def _workers(self) -> Iterable[Worker]:
        for slots in self._slots.values():
            yield from slots

    def _environment(self, worker: Worker) -> dict[str, str]:
        assert self.base_url is not None
        env = {k: v for k, v in os.environ.items() if k not in _REMOVED_VARIABLES}
        base = f"{self.base_url}/_worker/{worker.endpoint_id}"
        query = f"?token={worker.token}"
        env.update(
            {
                "RUNPOD_WEBHOOK_GET_JOB": f"{base}/job-take/$ID{query}",
                "RUNPOD_WEBHOOK_POST_OUTPUT": f"{base}/job-done/$RUNPOD_POD_ID/$ID{query}",
                "RUNPOD_WEBHOOK_POST_STREAM": f"{base}/job-stream/$RUNPOD_POD_ID/$ID{query}",
                "RUNPOD_WEBHOOK_PING": f"{base}/ping/$RUNPOD_POD_ID{query}",
                "RUNPOD_AI_API_KEY": worker.token,
                "RUNPOD_POD_ID": worker.id,
                "RUNPOD_POD_HOSTNAME": worker.id,
                "RUNPOD_ENDPOINT_ID": worker.endpoint_id,
                "RUNPOD_PING_INTERVAL": str(self.settings.ping_interval_ms),
            }
        )
        env.setdefault("RUNPOD_SKIP_AUTO_SYSTEM_CHECKS", "true")
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def _spawn(self, worker: Worker) -> None:
        loop = self._loop
        assert loop is not None
        worker.restart_timer = None
        worker.generation += 1
        self._by_token.pop(worker.token, None)
        worker.token = secrets.token_hex(16)
        worker.contacted = False
        worker.restart_reason = None
        worker.stops.clear()
        worker.stopping.clear()
        worker.last_ping, worker.pinged_jobs = -1.0, frozenset()
        worker.interrupt = loop.create_future()
        worker.exited = loop.create_future()
        try:
            process = subprocess.Popen(
                [self.python, str(worker.command.file), *worker.command.args],
                cwd=worker.command.file.parent,
                env=self._environment(worker),
                stdin=subprocess.DEVNULL,
                stdout=_stderr_fd(),
                start_new_session=_POSIX,
            )
        except OSError as exc:
            _LOG.error("worker %s could not start %s: %s", worker.id, worker.command, exc)
            worker.exited.set_result(None)
            self._schedule_restart(worker, early=True)
            return
        worker.process = process
        worker.state = "starting"
        worker.started_at = loop.time()
        self._by_token[worker.token] = worker
        _LOG.info("worker %s started (pid %d): %s", worker.id, process.pid, worker.command)
        generation = worker.generation

        def wait() -> None:
            code = process.wait()
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self._exited, worker, generation, code)

        threading.Thread(target=wait, name=f"wait-{worker.id}", daemon=True).start()

    def _exited(self, worker: Worker, generation: int, code: int) -> None:
        """The process of `generation` ended: fail what it held, clean up, restart."""
        if worker.generation != generation:
            return
        process = worker.process
        worker.process = None
        self._by_token.pop(worker.token, None)
        if worker.kill_timer is not None:
            worker.kill_timer.cancel()
            worker.kill_timer = None
        if process is not None:
            _kill_group(process.pid)
        asked = worker.state == "stopping"
        reason = worker.restart_reason or _describe_exit(code)
        for job_id, held in list(worker.held.items()):
            del worker.held[job_id]
            if not held.outcome.done():
                held.outcome.set_exception(
                    WorkerLost(f"worker {worker.id} {reason} while running this job")
                )
        if worker.interrupt is not None and not worker.interrupt.done():
            worker.interrupt.set_result(None)
        worker.wake_stop_polls()
        if worker.exited is not None and not worker.exited.done():
            worker.exited.set_result(None)
        if self.closing or self._slots.get(worker.endpoint_id) is None:
            worker.state = "closed"
            return
        if asked and worker.restart_reason is not None:
            _LOG.info("worker %s %s; starting it again", worker.id, worker.restart_reason)
            self._spawn(worker)
            return
        assert self._loop is not None
        lived = self._loop.time() - worker.started_at
        _LOG.warning("worker %s %s; restarting it", worker.id, _describe_exit(code))
        self._schedule_restart(worker, early=lived < _STABLE_SECONDS)

    def _schedule_restart(self, worker: Worker, *, early: bool) -> None:
        assert self._loop is not None
        worker.state = "backoff"
        worker.early_exits = worker.early_exits + 1 if early else 0
        delay = min(
            self.settings.restart_delay_seconds * 2 ** max(worker.early_exits - 1, 0),
            self.settings.max_restart_delay_seconds,
        )
        worker.restart_timer = self._loop.call_later(delay, self._restart_now, worker)

    def _restart_now(self, worker: Worker) -> None:
        if not self.closing and worker.state == "backoff":
            self._spawn(worker)

    def _stop_process(self, worker: Worker, reason: str | None, *, kill: bool = False) -> None:
        """SIGTERM now, SIGKILL (the group) after the grace, or at once with `kill`;
        with a `reason`, a new process starts once this one has exited."""
        if worker.process is None or worker.state == "stopping":
            if reason is None and worker.state == "stopping":
                worker.restart_reason = None  # shutting down: no restart after all
            return
        worker.state = "stopping"
        worker.restart_reason = reason
        if worker.interrupt is not None and not worker.interrupt.done():
            worker.interrupt.set_result(None)
        worker.wake_stop_polls()
        if kill:
            self._kill(worker)
            return
        with contextlib.suppress(ProcessLookupError):
            worker.process.send_signal(signal.SIGTERM)
        assert self._loop is not None
        worker.kill_timer = self._loop.call_later(
            self.settings.terminate_grace_seconds, self._kill, worker
        )

    def _kill(self, worker: Worker) -> None:
        worker.kill_timer = None
        if worker.process is not None:
            _kill_group(worker.process.pid)
            with contextlib.suppress(ProcessLookupError):
                worker.process.kill()

    def restart(self, worker: Worker, reason: str, *, kill: bool = False) -> None:
        """Stop the worker's process and start a new one (refresh; `kill`: a stuck job)."""
        if not self.closing:
            self._stop_process(worker, reason, kill=kill)

    # ------------------------------------------------------------------ requests

    def contact(self, worker: Worker) -> None:
        """The worker's runtime is up (it polled or pinged)."""
        worker.contacted = True
        if worker.state == "starting":
            worker.state = "ready"

    def hold(self, worker: Worker, held: Held) -> None:
        worker.held[held.job.id] = held

    def finished(self, worker: Worker, job_id: str, result: dict[str, Any]) -> bool:
        """The worker posted the final result of a job it held; False if it holds none
        such (a late result of a stopped job)."""
        held = worker.held.pop(job_id, None)
        if held is None:
            return False
        if not held.outcome.done():
            held.outcome.set_result(result)
        if result.get("stopPod"):
            self.restart(worker, "was restarted by refresh_worker")
        return True

    def drop_forgotten(self, worker: Worker) -> None:
        """The worker says it runs no job: any job it still holds lost its result
        (e.g. the runtime's post failed after its retries)."""
        for job_id, held in list(worker.held.items()):
            del worker.held[job_id]
            if not held.outcome.done():
                held.outcome.set_exception(
                    WorkerLost(
                        f"worker {worker.id} finished this job without posting a result "
                        "(see the worker's log)"
                    )
                )

    def stop_job(self, worker: Worker, generation: int, job_id: str) -> None:
        """The job ended without the worker (cancel, timeout, expiry): signal the worker
        to stop it, and restart the worker if it still runs it after the grace."""
        held = worker.held.pop(job_id, None)
        if held is None or worker.generation != generation or worker.process is None:
            return
        worker.stops.append(job_id)
        worker.wake_stop_polls()
        loop = self._loop
        assert loop is not None
        worker.stopping[job_id] = loop.time()
        loop.call_later(
            self.settings.stop_grace_seconds, self._check_stopped, worker, generation, job_id
        )

    def _check_stopped(self, worker: Worker, generation: int, job_id: str) -> None:
        since = worker.stopping.pop(job_id, None)
        if since is None or worker.generation != generation or worker.state != "ready":
            return
        if worker.last_ping >= since + _PING_SETTLE_SECONDS and job_id in worker.pinged_jobs:
            _LOG.warning(
                "worker %s still runs job %s %.0f s after its stop signal (a sync handler "
                "cannot be stopped by the runtime); killing and restarting the worker",
                worker.id,
                job_id,
                self.settings.stop_grace_seconds,
            )
            # Its loop is blocked: SIGTERM would only wait out the grace.
            self.restart(
                worker, f"was restarted: it did not stop job {job_id} when told to", kill=True
            )

    async def stop_signals(self, worker: Worker, hold: float) -> list[str]:
        """The job ids the worker must stop, waiting up to `hold` seconds for one."""
        loop = asyncio.get_running_loop()
        if not worker.stops and worker.state in ("starting", "ready") and not self.closing:
            waiter = loop.create_future()
            worker.stop_waiters.append(waiter)
            try:
                await asyncio.wait((waiter,), timeout=hold)
            finally:
                if not waiter.done():
                    waiter.cancel()
                with contextlib.suppress(ValueError):
                    worker.stop_waiters.remove(waiter)
        stops, worker.stops = worker.stops, []
        return stops

    def ping(self, worker: Worker, job_ids: str | None) -> None:
        """A heartbeat, with the ids of the jobs the worker's runtime still runs."""
        assert self._loop is not None
        worker.last_ping = self._loop.time()
        worker.pinged_jobs = frozenset(filter(None, (job_ids or "").split(",")))
        repeat = [
            job_id
            for job_id in worker.stopping
            if job_id in worker.pinged_jobs and job_id not in worker.stops
        ]
        if repeat:
            worker.stops.extend(repeat)
            worker.wake_stop_polls()


def _describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by signal {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _kill_group(pid: int) -> None:
    """SIGKILL what is left of a worker's process group (its heartbeat process)."""
    if _POSIX:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def _stderr_fd() -> int | None:
    """The emulator's stderr as a file descriptor for a worker's stdout (None: inherit)."""
    try:
        os.fstat(2)
    except OSError:
        return None
    return 2
