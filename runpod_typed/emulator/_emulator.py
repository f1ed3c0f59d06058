"""`Emulator`: a local RunPod (GraphQL control plane + serverless job API) as one object.

    from runpod_typed.emulator import Emulator

    with Emulator(handlers={"my-endpoint": my_handler}).serve() as server:
        ...  # point a client at server.graphql_url / server.endpoint_base_url

Real worker files run as their own processes, the way RunPod runs them:

    with Emulator(worker_files={"mock": "handler.py --generator"}).serve() as server:
        ...  # jobs of endpoint "mock" are taken by `python handler.py --generator`

`.app` is the ASGI application for other servers (call `start_workers(url)` once it
serves, if there are worker files); `.serve()` runs it with uvicorn in a background
thread. Jobs live on the serving loop and do not survive a restart; counters do (until
`reset`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from runpod_typed.emulator._app import EmulatorApp
from runpod_typed.emulator._counters import Counters
from runpod_typed.emulator._faults import FaultInjector, FaultSpec
from runpod_typed.emulator._openai import OpenAIRoute
from runpod_typed.emulator._queue import JobStore, WorkerHost
from runpod_typed.emulator._ratelimit import RUNPOD_RATE_LIMITS, RateLimit, RateLimiter
from runpod_typed.emulator._settings import JobSettings, WorkerSettings
from runpod_typed.emulator._worker_api import WorkerApi
from runpod_typed.emulator._workers import WorkerPool, parse_worker_files, resolve_python
from runpod_typed.emulator.handlers import (
    BUILTIN_CONFIGS,
    HandlerConfig,
    HandlerSpec,
    load_handler,
)
from runpod_typed.emulator.rest_v2 import check_endpoint_id

if TYPE_CHECKING:
    from runpod_typed.emulator.control_plane import ControlPlane

T = TypeVar("T")


class ExposedEmulatorWarning(UserWarning):
    """The emulator serves on an address other machines can reach."""


def _is_loopback(host: str) -> bool:
    name = host.strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None)
    except (OSError, UnicodeError):
        return False
    addresses = {str(info[4][0]).split("%")[0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def exposure_warning(host: str, api_key: str | None, key_option: str = "api_key") -> str | None:
    """What to warn about when serving on `host` (None for a loopback address)."""
    if _is_loopback(host):
        return None
    if api_key is None:
        who, why = "anyone on the network", f": without {key_option}, any non-empty key is accepted"
    else:
        who = f"anyone on the network with the {key_option} key"
        why = " (it travels in clear text: the emulator speaks plain HTTP)"
    return (
        f"the RunPod emulator serves on {host or 'every interface'}, which other machines can "
        f"reach. It is meant for tests: {who} can submit jobs that run your handlers, read "
        f"their outputs and use the /_emulator/ admin routes{why}. Serve on 127.0.0.1 "
        "unless you mean to share it."
    )


class Emulator:
    """A local RunPod.

    Args:
        api_key: the only key accepted; None accepts any non-empty key.
        handlers: endpoint id -> in-process handler: a callable, a built-in name,
            ``"module:function"``, ``"module"`` or ``"path/handler.py[:function] [ARGS]"``
            (a worker file; its ``runpod.serverless.start`` config is captured), a
            mapping shaped like that config (``{"handler": f, "return_aggregate_stream":
            True}``) or a `HandlerConfig`; run with the official runtime's semantics
            (see handlers.py).
        default_handler: serves endpoint ids without a handler of their own. With none of
            `handlers`, `default_handler` and `worker_files`, the ids echo/sleep/tokens/fail
            get those built-ins and every other id the `demo` handler; otherwise an
            endpoint id without a handler or worker answers 404.
        workers: workers per endpoint, in-process or worker processes (0: jobs stay queued).
        worker_files: real worker files, run as processes the way RunPod runs them (the
            official runtime in them takes the jobs): endpoint id -> ``"FILE ARGS"``
            (shell-quoted) or ``[FILE, *ARGS]``, or a list of CLI specs
            ``"[ENDPOINT_ID=]FILE [ARGS...]"`` (without an id: every endpoint id that has
            no handler or worker of its own). See _workers.py for the environment.
        worker_python: the interpreter that runs worker files (default: this one); it
            needs the `runpod` package.
        worker_settings: heartbeat, poll and restart timings of worker processes.
        faults: faults to inject (see `FaultSpec`).
        rate_limits: True for RunPod's limits, False for none, or a mapping of route ->
            `RateLimit` replacing RunPod's numbers for those routes.
        long_poll: False makes /status-sync answer 404 and ignores `wait` elsewhere.
        pod_transition_seconds: how long control-plane pods take per state change.
        webhook_retry_delay: seconds between webhook delivery attempts (RunPod: 10).
        settings: job limits and retention (see `JobSettings`).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        handlers: Mapping[str, HandlerSpec] | None = None,
        default_handler: HandlerSpec | None = None,
        workers: int = 4,
        faults: FaultSpec | str | None = None,
        rate_limits: bool | Mapping[str, RateLimit] = True,
        long_poll: bool = True,
        pod_transition_seconds: float = 0.2,
        webhook_retry_delay: float = 10.0,
        settings: JobSettings | None = None,
        worker_files: Mapping[str, str | Sequence[str]] | Sequence[str] | None = None,
        worker_python: str | None = None,
        worker_settings: WorkerSettings | None = None,
    ) -> None:
        if workers < 0:
            raise ValueError("workers must be 0 or more")
        if api_key is not None and not api_key:
            raise ValueError("api_key must be a non-empty string or None")
        self._api_key = api_key
        self._handlers = {
            endpoint_id: load_handler(spec) for endpoint_id, spec in (handlers or {}).items()
        }
        check_endpoint_id(self._handlers)  # /v2/pods/... is REST v2's, not an endpoint's
        self._default_handler = None if default_handler is None else load_handler(default_handler)
        self._builtins = handlers is None and default_handler is None and not worker_files
        self._pool: WorkerPool | None = None
        if worker_files:
            self._pool = self._worker_pool(
                worker_files, worker_python, workers, worker_settings or WorkerSettings()
            )
        self._faults = FaultSpec.parse(faults) if isinstance(faults, str) else faults
        self._pod_transition_seconds = pod_transition_seconds
        self.settings: JobSettings = settings or JobSettings()
        self._counters = Counters()
        if rate_limits is True:
            limiter: RateLimiter | None = RateLimiter(RUNPOD_RATE_LIMITS)
        elif rate_limits is False:
            limiter = None
        else:
            limiter = RateLimiter({**RUNPOD_RATE_LIMITS, **rate_limits})
        self._store = JobStore(
            settings=self.settings,
            resolve_handler=self._resolve_handler,
            workers=workers,
            counters=self._counters,
            webhook_retry_delay=webhook_retry_delay,
            resolve_host=self._resolve_host,
        )
        self.app: EmulatorApp = EmulatorApp(
            api_key=api_key,
            store=self._store,
            counters=self._counters,
            faults=FaultInjector(self._faults, self._counters),
            limiter=limiter,
            long_poll=long_poll,
            settings=self.settings,
            control_plane_factory=self._make_control_plane,
            on_reset=self._reset_now,
        )
        if self._pool is not None:
            self.app.worker_api = WorkerApi(self._store, self._pool)
        self.app.openai_route = OpenAIRoute(self.app)

    def __repr__(self) -> str:
        return f"Emulator(workers={self._store.worker_count}, app={self.app!r})"

    def _worker_pool(
        self,
        worker_files: Mapping[str, str | Sequence[str]] | Sequence[str],
        python: str | None,
        count: int,
        settings: WorkerSettings,
    ) -> WorkerPool:
        commands, default = parse_worker_files(worker_files)
        check_endpoint_id(commands)
        both = sorted(commands.keys() & self._handlers.keys())
        if both:
            raise ValueError(f"endpoint ids with both a handler and a worker file: {both}")
        if default is not None and self._default_handler is not None:
            raise ValueError("a default handler and a default worker file exclude each other")
        return WorkerPool(
            commands=commands,
            default=default,
            python=resolve_python(python),
            count=count,
            settings=settings,
        )

    def _resolve_host(self, endpoint_id: str) -> WorkerHost | None:
        pool = self._pool
        if pool is None or endpoint_id in self._handlers or not pool.serves(endpoint_id):
            return None
        if endpoint_id not in pool.commands and self._default_handler is not None:
            return None
        return pool

    def _resolve_handler(self, endpoint_id: str) -> HandlerConfig | None:
        handler = self._handlers.get(endpoint_id, self._default_handler)
        if handler is None and self._builtins:
            return BUILTIN_CONFIGS.get(endpoint_id, BUILTIN_CONFIGS["demo"])
        return handler

    def _make_control_plane(self) -> ControlPlane:
        from runpod_typed.emulator.control_plane import ControlPlane

        return ControlPlane(pod_transition_seconds=self._pod_transition_seconds)

    # ------------------------------------------------------------------ serving

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningEmulator]:
        """Serve on `host:port` (0: a free port) from a background thread while in the block.

        A `host` other machines can reach (``0.0.0.0``, a LAN address) warns
        (`ExposedEmulatorWarning`): the emulator is meant for tests, not for a network."""
        from runpod_typed.emulator._server import serve_in_thread

        message = exposure_warning(host, self._api_key)
        if message is not None:
            warnings.warn(message, ExposedEmulatorWarning, stacklevel=3)

        with serve_in_thread(self.app, host, port, self.prepare_stop) as bound_port:
            running = RunningEmulator(self, host, bound_port)
            self.start_workers(running.url)
            yield running

    def start_workers(self, url: str) -> None:
        """Start the worker processes (if there are worker files); `url` is the emulator's
        root as the workers reach it (``0.0.0.0``/``::`` become loopback). `serve()` and
        the command line call it once serving; call it yourself when serving `.app` with
        another server."""
        pool = self._pool
        if pool is None:
            return
        url = url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:")

        def start() -> None:
            pool.start(url)
            for endpoint_id in pool.commands:
                self._store.endpoint(endpoint_id)

        self._on_loop(start)

    def worker_processes(self, endpoint_id: str) -> list[int | None]:
        """Process ids of the endpoint's worker processes (None: not running now)."""
        pool = self._pool
        return [] if pool is None else self._on_loop(lambda: pool.processes(endpoint_id))

    def prepare_stop(self) -> None:
        """Answer pending long polls at once: the server is about to stop."""
        loop = self.app.loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._store.wake_all)

    # ------------------------------------------------------------------ for tests

    def _on_loop(self, call: Callable[[], T]) -> T:
        """Run `call` on the serving loop (state is only touched there), or here if none."""
        loop = self.app.loop
        if loop is None or not loop.is_running():
            return call()
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            return call()

        async def on_loop() -> T:
            return call()

        return asyncio.run_coroutine_threadsafe(on_loop(), loop).result(timeout=30)

    def counters(self) -> dict[str, Any]:
        """Requests per route and status, faults, jobs per input fingerprint, final states."""
        return self._on_loop(self._counters.snapshot)

    def set_faults(self, spec: FaultSpec | str | None) -> None:
        """Replace the injected faults (None: none); seeded generators restart."""
        parsed = FaultSpec.parse(spec) if isinstance(spec, str) else spec
        self._on_loop(lambda: self.app.faults.set_spec(parsed))

    def reset(self) -> None:
        """Forget all jobs, counters, rate-limit windows and control-plane state; faults go
        back to those given at construction."""
        self._on_loop(self._reset_now)

    def _reset_now(self) -> None:
        self._store.reset()
        self._counters.reset()
        self.app.faults.set_spec(self._faults)
        if self.app.limiter is not None:
            self.app.limiter.reset()
        if self.app.control_plane is not None:
            self.app.control_plane.reset()

    def job_state(self, endpoint_id: str, job_id: str) -> dict[str, Any] | None:
        """The job as /status would show it, or None if it does not exist (any more)."""

        def read() -> dict[str, Any] | None:
            job = self._store.get(endpoint_id, job_id)
            return None if job is None else job.status_body()

        return self._on_loop(read)


@dataclass(frozen=True)
class RunningEmulator:
    """A served emulator: its URLs, and the `Emulator` test helpers."""

    emulator: Emulator
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def endpoint_base_url(self) -> str:
        return f"{self.url}/v2"

    def counters(self) -> dict[str, Any]:
        return self.emulator.counters()

    def set_faults(self, spec: FaultSpec | str | None) -> None:
        self.emulator.set_faults(spec)

    def reset(self) -> None:
        self.emulator.reset()

    def job_state(self, endpoint_id: str, job_id: str) -> dict[str, Any] | None:
        return self.emulator.job_state(endpoint_id, job_id)

    def worker_processes(self, endpoint_id: str) -> list[int | None]:
        return self.emulator.worker_processes(endpoint_id)
