"""The ASGI app of REST v2's paths (see the package doc)."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from runpod_typed._generated.rest.operations import OPERATIONS, ROOT
from runpod_typed.emulator import _json as wire
from runpod_typed.emulator.control_plane._pods import settle
from runpod_typed.emulator.control_plane._state import State
from runpod_typed.emulator.rest_v2 import _spec
from runpod_typed.emulator.rest_v2._logs import (
    Logs,
    Window,
    pod_stream,
    worker_exists,
    worker_stream,
)
from runpod_typed.emulator.rest_v2._resources import HANDLERS, Call
from runpod_typed.emulator.rest_v2._spec import MethodNotAllowed, Problem, owns

__all__ = ["RestV2"]

Scope = MutableMapping[str, Any]
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _json(status: int, body: Any, media_type: str = "application/json", **headers: str) -> Response:
    return Response(wire.dumps(body), status, headers or None, media_type=media_type)


def _problem(problem: Problem) -> Response:
    headers = {"Allow": ", ".join(problem.allowed)} if isinstance(problem, MethodNotAllowed) else {}
    return _json(problem.status, problem.body(), "application/problem+json", **headers)


class RestV2:
    """The ASGI app of v2's paths. `state` gives the control plane's state (built on first
    use); `stopping` says the server is shutting down (open log streams then end);
    `heartbeat` is how many quiet seconds pass before a stream sends a comment."""

    def __init__(
        self,
        state: Callable[[], State],
        *,
        stopping: Callable[[], bool] = lambda: False,
        heartbeat: float = 1.0,
    ) -> None:
        self._state = state
        self._stopping = stopping
        self.heartbeat = heartbeat
        self.logs = Logs()
        missing = {op.id for op in OPERATIONS.values() if not op.stream} - HANDLERS.keys()
        if missing:
            raise RuntimeError(f"REST v2 operations without a handler: {sorted(missing)}")

    owns = staticmethod(owns)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        response = await self._answer(Request(scope, receive))
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        raw_path = raw_path.split("?", 1)[0]
        if raw_path == f"{ROOT}/openapi.json" and request.method == "GET":
            text = resources.files("runpod_typed._generated.rest").joinpath("openapi.json")
            return Response(text.read_bytes(), media_type="application/json")
        try:
            operation, path = _spec.match(request.method, raw_path)
            query = _spec.query(operation, request.query_params)
            body = _spec.body(operation, await request.body())
            state = self._state()
            if operation.stream:
                return self._stream(state, operation.id, path, query, request)
            with state.lock:
                call = Call(state, path, query, body, str(request.base_url).rstrip("/") + ROOT)
                status, payload = HANDLERS[operation.id](call)
                self.logs.sync(state)
        except Problem as problem:
            return _problem(problem)
        if payload is None:
            return Response(status_code=status)
        return _json(status, payload)

    def _stream(
        self,
        state: State,
        operation_id: str,
        path: dict[str, str],
        query: dict[str, Any],
        request: Request,
    ) -> Response:
        window = Window.of(query, request.headers.get("last-event-id"))
        with state.lock:
            settle(state)
            if operation_id == "getPodLogs":
                if path["id"] not in state.pods:
                    raise Problem(404, f"pod {path['id']} not found")
                events = pod_stream(
                    state, self.logs, path["id"], window, self._stopping, self.heartbeat
                )
            else:
                endpoint = worker_exists(state, path["id"], path["workerId"])
                events = worker_stream(
                    state, endpoint, path["workerId"], window, self._stopping, self.heartbeat
                )
        return StreamingResponse(events, media_type="text/event-stream", headers=_STREAM_HEADERS)
