"""The log streams of pods and serverless workers, as server-sent events.

Each pod has a log: a few synthetic lines per lifecycle change, written when the
change is first seen (by any v2 request or open stream): scheduling and the image
pull (system), the container starting (system) and saying it is up (container),
an error, a stop, the termination. Each line is one event:

    id: 2026-08-18T12:00:00.123456Z
    data: {"source":"system","line":"Pulling image ...","ts":"2026-08-18T12:00:00.123456Z"}

The id is the line's timestamp (v2's ``Last-Event-ID`` is a date-time): a client
that reconnects with it gets the lines after it, none twice. ``since`` and
``tail`` pick the backlog, ``source`` filters. After the backlog the stream stays
open, sends a heartbeat comment when quiet, and ends once the pod is terminated
(or the emulator stops). A worker's log is a few lines about its start; its stream
stays open until the endpoint is deleted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from runpod_typed.emulator.control_plane._pods import settle
from runpod_typed.emulator.control_plane._state import Endpoint, Pod, State
from runpod_typed.emulator.rest_v2._spec import Problem, parse_time
from runpod_typed.emulator.rest_v2._views import port_list, worker_ids

#: Seconds between looks at the state while a stream is open.
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class LogLine:
    ts: float
    source: str
    line: str

    @property
    def id(self) -> str:
        moment = datetime.fromtimestamp(self.ts, timezone.utc)
        return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")

    def event(self) -> bytes:
        data = {"source": self.source, "line": self.line, "ts": self.id}
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return f"id: {self.id}\ndata: {payload}\n\n".encode()


@dataclass
class _PodLog:
    lines: list[LogLine] = field(default_factory=list)
    seen: tuple[str, float] | None = None

    def add(self, source: str, line: str) -> None:
        now = time.time()
        if self.lines and now <= self.lines[-1].ts:
            now = self.lines[-1].ts + 1e-6  # ids stay unique and ordered
        self.lines.append(LogLine(now, source, line))


def _transition_lines(pod: Pod) -> list[tuple[str, str]]:
    if pod.phase == "starting" and not pod.started_before:
        return [
            (
                "system",
                f"Pod {pod.id} scheduled on machine {pod.machine_id} in {pod.data_center_id}",
            ),
            ("system", f"Pulling image {pod.image_name}"),
        ]
    if pod.phase == "starting":
        return [("system", "Starting container")]
    if pod.phase == "running":
        ports = ", ".join(port_list(pod.ports)) or "no ports"
        return [
            ("system", "Container started"),
            ("container", f"{pod.name}: up ({ports})"),
            ("container", f"{pod.name}: ready"),
        ]
    if pod.phase == "error":
        return [
            ("container", f"{pod.name}: exec failed: the image {pod.image_name} cannot start"),
            ("system", "Container exited with code 1 while starting"),
        ]
    if pod.phase == "exited":
        return [("system", "Container stopped")]
    return [("system", f"Pod {pod.id} terminated")]


class Logs:
    """Every pod's log, kept beside the state (lines are written as changes are seen)."""

    def __init__(self) -> None:
        self._pods: dict[str, _PodLog] = {}

    def sync(self, state: State) -> None:
        """Write the lines of each pod's changes since the last look (under the lock)."""
        for pod in state.pods.values():
            log = self._pods.setdefault(pod.id, _PodLog())
            key = (pod.phase, pod.since)
            if log.seen != key:
                if log.seen is None and pod.phase != "starting":
                    log.add("system", f"Pod {pod.id} scheduled on machine {pod.machine_id}")
                for source, line in _transition_lines(pod):
                    log.add(source, line)
                log.seen = key
        for pod_id in [p for p in self._pods if p not in state.pods]:
            del self._pods[pod_id]

    def pod_lines(self, pod_id: str) -> list[LogLine]:
        log = self._pods.get(pod_id)
        return list(log.lines) if log else []


def _worker_lines(endpoint: Endpoint, worker_id: str) -> list[LogLine]:
    start = endpoint.created_at
    return [
        LogLine(start, "system", f"Worker {worker_id} of endpoint {endpoint.id} starting"),
        LogLine(start + 0.001, "container", "--- Starting Serverless Worker ---"),
        LogLine(start + 0.002, "container", "Jobs will be taken from the queue"),
    ]


@dataclass(frozen=True)
class Window:
    """Which lines a stream starts with: those after `after` (Last-Event-ID or since),
    else the last `tail` ones; only `source`'s if given."""

    after: float | None
    tail: int
    source: str | None

    @classmethod
    def of(cls, query: dict[str, object], last_event_id: str | None) -> Window:
        after = None
        if last_event_id:
            try:
                after = parse_time(last_event_id).timestamp()
            except ValueError as exc:
                raise Problem(400, f"invalid Last-Event-ID header: {exc}") from None
        elif isinstance(query.get("since"), str):
            after = parse_time(str(query["since"])).timestamp()
        tail = query.get("tail", 100)
        source = query.get("source")
        return cls(after, tail if isinstance(tail, int) else 100, str(source) if source else None)

    def backlog(self, lines: list[LogLine]) -> list[LogLine]:
        chosen = [line for line in lines if self.source in (None, line.source)]
        if self.after is not None:
            return [line for line in chosen if line.ts > self.after + 5e-7]
        return chosen[-self.tail :] if self.tail else []

    def fresh(self, lines: list[LogLine], sent: float) -> list[LogLine]:
        return [line for line in lines if line.ts > sent and self.source in (None, line.source)]


async def pod_stream(
    state: State,
    logs: Logs,
    pod_id: str,
    window: Window,
    stopping: Callable[[], bool],
    heartbeat: float,
) -> AsyncIterator[bytes]:
    """The events of one pod's log (the pod exists: the caller checked), then follow it."""
    with state.lock:
        settle(state)
        logs.sync(state)
        lines = logs.pod_lines(pod_id)
    # Everything already written is sent now (the backlog) or was not asked for.
    sent = max(lines[-1].ts if lines else 0.0, window.after or 0.0)
    for line in window.backlog(lines):
        yield line.event()

    def poll() -> tuple[list[bytes], bool]:
        nonlocal sent
        with state.lock:
            settle(state)
            logs.sync(state)
            pod = state.pods.get(pod_id)
            fresh = window.fresh(logs.pod_lines(pod_id), sent)
        if fresh:
            sent = fresh[-1].ts
        return [line.event() for line in fresh], pod is None or pod.phase == "terminated"

    async for event in _follow(poll, stopping, heartbeat):
        yield event


def worker_exists(state: State, endpoint_id: str, worker_id: str) -> Endpoint:
    endpoint = state.endpoints.get(endpoint_id)
    if endpoint is None:
        raise Problem(404, f"endpoint {endpoint_id} not found")
    if worker_id not in worker_ids(endpoint):
        raise Problem(404, f"worker {worker_id} of endpoint {endpoint_id} not found")
    return endpoint


async def worker_stream(
    state: State,
    endpoint: Endpoint,
    worker_id: str,
    window: Window,
    stopping: Callable[[], bool],
    heartbeat: float,
) -> AsyncIterator[bytes]:
    lines = _worker_lines(endpoint, worker_id)
    for line in window.backlog(lines):
        yield line.event()

    def poll() -> tuple[list[bytes], bool]:
        with state.lock:
            return [], endpoint.id not in state.endpoints

    async for event in _follow(poll, stopping, heartbeat):
        yield event


async def _follow(
    poll: Callable[[], tuple[list[bytes], bool]], stopping: Callable[[], bool], heartbeat: float
) -> AsyncIterator[bytes]:
    """Follow a stream: `poll` every POLL_SECONDS for (new events, whether the stream ended);
    a heartbeat comment after `heartbeat` quiet seconds."""
    quiet_since = time.monotonic()
    while not stopping():
        await asyncio.sleep(POLL_SECONDS)
        events, ended = poll()
        for event in events:
            yield event
        if ended:
            return
        if events:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= heartbeat:
            yield b": heartbeat\n\n"
            quiet_since = time.monotonic()
