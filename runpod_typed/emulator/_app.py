"""The emulator's ASGI application: routing, auth, rate limits and the job API routes.

Paths: the job API's routes under ``/v2``, as the generated route table declares
them (``/v2/{endpoint_id}/run``, ``/v2/{endpoint_id}/status/{job_id}``, ...; the
methods each accepts: anything else is 405), ``/graphql`` (the control plane,
built on first use), REST v2 under ``/v2/<collection>`` (``rest_v2``: ``/v2/pods``,
``/v2/serverless``, ...; on the control plane's state) and the admin routes
``/_emulator/...`` (with an API key set, they need it too, in the same forms).
Anything else is a plain-text ``404 page not found``, as RunPod's Go server
answers. Each request passes, in order: counters, fault injection, auth, rate
limit, route.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from runpod_typed._generated.serverless.routes import ROUTES, Route
from runpod_typed.emulator import _json as wire
from runpod_typed.emulator import rest_v2
from runpod_typed.emulator._counters import Counters
from runpod_typed.emulator._faults import (
    ASGIApp,
    FaultInjector,
    FaultSpec,
    Message,
    Receive,
    Scope,
    Send,
)
from runpod_typed.emulator._queue import FINAL_STATES, EndpointQueue, Job, JobStore
from runpod_typed.emulator._ratelimit import RateLimiter
from runpod_typed.emulator._requests import BadRequest, parse_job_request, parse_wait
from runpod_typed.emulator._settings import JobSettings

if TYPE_CHECKING:
    from runpod_typed.emulator._openai import OpenAIRoute
    from runpod_typed.emulator.control_plane import ControlPlane

#: The route a server without long polling does not have (clients then poll /status).
_LONG_POLL_ONLY = "status-sync"
#: Route name -> the value of its 405 answer's Allow header.
_ALLOW = {name: ", ".join(sorted(route.methods)) for name, route in ROUTES.items()}
_NO_JOB = "request does not exist"

Target = tuple[str, str | None, str | None]
"""(route, endpoint id, job id) of a request."""
RouteHandler = Callable[[Request, str, str], Awaitable[Response]]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(wire.dumps(body), status, headers, media_type="application/json")


def _is_final(job: Job) -> bool:
    return job.status in FINAL_STATES


def _has_news(job: Job) -> bool:
    return job.status in FINAL_STATES or len(job.chunks) > job.stream_cursor


_NOT_FOUND = PlainTextResponse("404 page not found", 404)
_UNAUTHORIZED = PlainTextResponse("Unauthorized", 401)


class EmulatorApp:
    """The ASGI callable; every piece of state it uses lives on the server's event loop."""

    def __init__(
        self,
        *,
        api_key: str | None,
        store: JobStore,
        counters: Counters,
        faults: FaultInjector,
        limiter: RateLimiter | None,
        long_poll: bool,
        settings: JobSettings,
        control_plane_factory: Callable[[], ControlPlane],
        on_reset: Callable[[], None],
    ) -> None:
        self._api_key = api_key
        self.store = store
        self.counters = counters
        self.faults = faults
        self.limiter = limiter
        self.long_poll = long_poll
        self.settings = settings
        self._control_plane_factory = control_plane_factory
        self.control_plane: ControlPlane | None = None
        self._graphql_app: ASGIApp | None = None
        self._rest_app: ASGIApp | None = None
        self._on_reset = on_reset
        self.loop: asyncio.AbstractEventLoop | None = None
        #: Serves ``/_worker/...`` (worker processes' routes, see _worker_api.py) when set.
        self.worker_api: ASGIApp | None = None
        #: Serves ``/v2/{endpoint_id}/openai/...`` (RunPod's OpenAI route, _openai.py) when set.
        self.openai_route: OpenAIRoute | None = None
        self._routes: dict[str, RouteHandler] = {
            "run": self._run,
            "runsync": self._runsync,
            "health": self._health,
            "purge-queue": self._purge,
            "status": self._status,
            "status-sync": self._status_sync,
            "stream": self._stream,
            "cancel": self._cancel,
            "retry": self._retry,
        }
        if self._routes.keys() != ROUTES.keys():
            raise RuntimeError(
                f"the emulator serves {sorted(self._routes)} but the route table declares "
                f"{sorted(ROUTES)}: every route needs a handler"
            )

    def __repr__(self) -> str:
        return f"EmulatorApp(long_poll={self.long_poll}, rate_limits={self.limiter is not None})"

    # ------------------------------------------------------------------ ASGI entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        path: str = scope["path"]
        if path.startswith("/_worker/") and self.worker_api is not None:
            await self.worker_api(scope, receive, send)
            return
        if self.openai_route is not None and self.openai_route.matches(path):
            await self.openai_route(scope, receive, send)
            return
        if path.startswith("/_emulator/"):
            # With a key set, the admin routes take it too: they read every job's output,
            # inject faults and reset the server.
            if self._api_key is not None and not self._authorized(scope, "admin"):
                await _UNAUTHORIZED(scope, receive, send)
                return
            await self._admin(path.removeprefix("/_emulator/"), scope, receive, send)
            return
        target = self._classify(path)
        if target is None:
            self.counters.request("unknown", None)
            self.counters.response("unknown", 404)
            await _NOT_FOUND(scope, receive, send)
            return
        route, endpoint_id, _ = target
        self.counters.request(route, endpoint_id)
        scope["runpod_emulator.target"] = target

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counters.response(route, message["status"])
            await send(message)

        await self.faults(route, scope, receive, counting_send, self._serve)

    def _classify(self, path: str) -> Target | None:
        if path == "/graphql" or path.startswith("/graphql/"):
            return ("graphql", None, None)
        if rest_v2.owns(path):  # /v2/<one of v2's collections>/...: REST v2, not the job API
            return ("rest", None, None)
        # "/v2/{endpoint_id}/{route}" or "/v2/{endpoint_id}/{route}/{job_id}": a route's
        # name is its path segment, and the table says whether a job id follows.
        parts = path.split("/")
        if len(parts) < 4 or parts[0] or parts[1] != "v2" or not parts[2]:
            return None
        route: Route | None = ROUTES.get(parts[3])
        if route is None or (route.name == _LONG_POLL_ONLY and not self.long_poll):
            return None
        if route.job_scoped:
            return (route.name, parts[2], parts[4]) if len(parts) == 5 and parts[4] else None
        return (route.name, parts[2], None) if len(parts) == 4 else None

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        route, endpoint_id, job_id = scope["runpod_emulator.target"]
        if not self._authorized(scope, route):
            await _UNAUTHORIZED(scope, receive, send)
            return
        if route == "graphql":
            await self._graphql()(scope, receive, send)
            return
        if route == "rest":
            await self._rest()(scope, receive, send)
            return
        assert endpoint_id is not None
        response = await self._answer(Request(scope, receive), route, endpoint_id, job_id or "")
        await response(scope, receive, send)

    async def _answer(
        self, request: Request, route: str, endpoint_id: str, job_id: str
    ) -> Response:
        if request.method not in ROUTES[route].methods:
            return PlainTextResponse("405 method not allowed", 405, {"Allow": _ALLOW[route]})
        token: tuple[str, str] | None = None
        if self.limiter is not None:
            admitted = self.limiter.acquire(endpoint_id, route, asyncio.get_running_loop().time())
            if isinstance(admitted, float):
                return _json(
                    {"error": f"rate limit of /{route} exceeded for endpoint {endpoint_id}"},
                    429,
                    {"Retry-After": f"{admitted:.0f}"},
                )
            token = admitted
        try:
            return await self._routes[route](request, endpoint_id, job_id)
        except BadRequest as exc:
            return _json({"error": exc.message}, exc.status)
        finally:
            if token is not None and self.limiter is not None:
                self.limiter.release(token)

    def _authorized(self, scope: Scope, route: str) -> bool:
        key = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                key = value.decode("latin-1").strip()
                if key[:7].lower() == "bearer ":
                    key = key[7:].strip()
                break
        if not key and route == "graphql" and scope.get("query_string"):
            values = parse_qs(scope["query_string"].decode("latin-1")).get("api_key")
            key = values[0] if values else ""
        if not key:
            return False
        if self._api_key is None:
            return True
        return hmac.compare_digest(key.encode(), self._api_key.encode())

    def _graphql(self) -> ASGIApp:
        if self._graphql_app is None:
            self._graphql_app = self._control_plane().asgi_app()
        return self._graphql_app

    def _control_plane(self) -> ControlPlane:
        """The control plane (GraphQL and REST v2 share its state), built on first use."""
        if self.control_plane is None:
            self.control_plane = self._control_plane_factory()
        return self.control_plane

    def _rest(self) -> ASGIApp:
        if self._rest_app is None:
            from runpod_typed.emulator.rest_v2._app import RestV2

            self._rest_app = RestV2(
                lambda: self._control_plane().state, stopping=lambda: self.store.closing
            )
        return self._rest_app

    # ------------------------------------------------------------------ helpers

    def _endpoint(self, endpoint_id: str) -> EndpointQueue:
        endpoint = self.store.endpoint(endpoint_id)
        if endpoint is None:
            raise BadRequest(f"endpoint {endpoint_id} not found", 404)
        return endpoint

    def _job(self, endpoint_id: str, job_id: str) -> Job:
        job = self.store.get(endpoint_id, job_id)
        if job is None:
            raise BadRequest(_NO_JOB, 404)
        return job

    def _wait(self, request: Request, default_ms: int | None) -> float | None:
        if not self.long_poll:
            return None
        return parse_wait(request.query_params.get("wait"), self.settings, default_ms)

    async def _body(self, request: Request, route: str, limit: int) -> bytes:
        """The request body, refused with 413 past `limit` (read to the end either way,
        so the client gets the answer instead of a reset connection)."""
        parts: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size <= limit:
                parts.append(chunk)
        if size > limit:
            raise BadRequest(
                f"request body of {size} bytes is over the {limit // (1024 * 1024)} MB limit "
                f"of /{route}; send large inputs by URL (e.g. S3) instead",
                413,
            )
        return b"".join(parts)

    # ------------------------------------------------------------------ routes

    async def _submit(self, request: Request, endpoint_id: str, *, sync: bool) -> Job:
        endpoint = self._endpoint(endpoint_id)
        route = "runsync" if sync else "run"
        limit = self.settings.max_runsync_bytes if sync else self.settings.max_run_bytes
        job_request = parse_job_request(await self._body(request, route, limit), self.settings)
        return self.store.submit(endpoint, job_request, sync=sync)

    async def _run(self, request: Request, endpoint_id: str, _: str) -> Response:
        job = await self._submit(request, endpoint_id, sync=False)
        return _json(job.short_body())

    async def _runsync(self, request: Request, endpoint_id: str, _: str) -> Response:
        wait = self._wait(request, self.settings.default_wait_ms)
        job = await self._submit(request, endpoint_id, sync=True)
        if wait is not None:
            await self.store.wait(job, _is_final, wait)
        if job.removed:
            raise BadRequest(_NO_JOB, 404)
        return _json(job.status_body() if _is_final(job) else job.short_body())

    async def _status(self, request: Request, endpoint_id: str, job_id: str) -> Response:
        return _json(self._job(endpoint_id, job_id).status_body())

    async def _status_sync(self, request: Request, endpoint_id: str, job_id: str) -> Response:
        wait = self._wait(request, self.settings.default_wait_ms)
        job = self._job(endpoint_id, job_id)
        if wait is not None:
            await self.store.wait(job, _is_final, wait)
        if job.removed:
            raise BadRequest(_NO_JOB, 404)
        return _json(job.status_body())

    async def _stream(self, request: Request, endpoint_id: str, job_id: str) -> Response:
        wait = self._wait(request, None)
        job = self._job(endpoint_id, job_id)
        if wait is not None:
            await self.store.wait(job, _has_news, wait)
        if job.removed:
            raise BadRequest(_NO_JOB, 404)
        return _json(self.store.take_stream(job))

    async def _cancel(self, request: Request, endpoint_id: str, job_id: str) -> Response:
        job = self._job(endpoint_id, job_id)
        self.store.cancel(job)
        return _json(job.short_body())

    async def _retry(self, request: Request, endpoint_id: str, job_id: str) -> Response:
        job = self._job(endpoint_id, job_id)
        self.store.retry(job)
        return _json(job.short_body())

    async def _purge(self, request: Request, endpoint_id: str, _: str) -> Response:
        removed = self.store.purge(self._endpoint(endpoint_id))
        return _json({"removed": removed, "status": "completed"})

    async def _health(self, request: Request, endpoint_id: str, _: str) -> Response:
        return _json(self._endpoint(endpoint_id).health())

    # ------------------------------------------------------------------ admin and lifespan

    async def _admin(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response: Response = _NOT_FOUND
        if path == "counters" and request.method == "GET":
            response = _json(self.counters.snapshot())
        elif path == "faults" and request.method == "GET":
            response = _json(self.faults.spec.to_dict())
        elif path == "faults" and request.method == "POST":
            response = await self._set_faults(await request.body())
        elif path == "reset" and request.method == "POST":
            self._on_reset()
            response = _json({"status": "reset"})
        elif path.startswith("jobs/") and request.method == "GET":
            _, endpoint_id, job_id = [*path.split("/", 2), "", ""][:3]
            job = self.store.get(endpoint_id, job_id)
            response = _json({"error": _NO_JOB}, 404) if job is None else _json(job.status_body())
        await response(scope, receive, send)

    async def _set_faults(self, body: bytes) -> Response:
        try:
            data = wire.loads(body) if body.strip() else None
            if data is not None and not isinstance(data, dict):
                raise ValueError("expected a JSON object or null")
            spec = None if data is None else FaultSpec.from_dict(data)
        except ValueError as exc:
            return _json({"error": f"invalid fault spec: {exc}"}, 400)
        self.faults.set_spec(spec)
        return _json(self.faults.spec.to_dict())

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.loop = asyncio.get_running_loop()
                self.store.closing = False
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.store.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return
