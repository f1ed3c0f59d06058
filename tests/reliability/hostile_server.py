"""A small HTTP/1.1 server on loopback that misbehaves on purpose, route by route.

The emulator injects faults RunPod could produce; this server produces byte
patterns and answers no honest server would: it accepts a request and never
answers, sends headers and stalls, trickles its answer one byte at a time, sends
an endless body, answers about another job, loses a `/stream` answer, sets
cookies, and echoes the caller's key back in a 401. It speaks just enough of
RunPod's job API and GraphQL for the SDK's calls to get to the route under test.

Every trial is a *tenant*: its client uses its own API key, and the server picks
the behaviour of each route by that key (`Authorization: Bearer KEY`) and keeps
a log of what each tenant sent. So one server serves every trial at once, also
through shared connection pools (`RunpodFactory`), and a cookie set for one
tenant is seen if any request brings it back. Raw asyncio streams, one thread.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The behaviours a route can have (anything else answers like RunPod would).
OK = "ok"
#: Read the request, never answer (the connection stays open).
HANG = "hang"
#: Send the status line and headers (promising a body), then nothing.
STALL = "stall"
#: Send the whole answer, head included, one byte every `trickle` seconds.
TRICKLE_HEAD = "trickle-head"
#: Send the head at once, then the body one byte every `trickle` seconds.
TRICKLE_BODY = "trickle-body"
#: A 200 with a chunked body that never ends (JSON whitespace, as fast as it is read).
ENDLESS = "endless"
#: A status answer about another job (COMPLETED, with that job's output).
WRONG_ID = "wrong-id"
#: Read the request, then close the connection without a byte (a lost answer).
LOST = "lost"
#: 401 whose JSON error message quotes the key the request carried.
ECHO_401 = "echo-401"
#: 503 whose JSON error message quotes the key (a proxy's debugging page).
ECHO_503 = "echo-503"
#: 200 with an HTML page (not JSON) that quotes the key.
ECHO_HTML = "echo-html"
#: 502 with a proxy's error page of `HUGE_PAGE_BYTES`, quoting the key at both ends.
HUGE_502 = "huge-502"
HUGE_PAGE_BYTES = 20 * 1024 * 1024

BEHAVIOURS = (
    OK,
    HANG,
    STALL,
    TRICKLE_HEAD,
    TRICKLE_BODY,
    ENDLESS,
    WRONG_ID,
    LOST,
    ECHO_401,
    ECHO_503,
    ECHO_HTML,
    HUGE_502,
)

#: Routes of the job API (the path segment after the endpoint id) and the GraphQL route.
JOB_ROUTES = (
    "run",
    "runsync",
    "status",
    "status-sync",
    "stream",
    "cancel",
    "retry",
    "purge-queue",
    "health",
)
GRAPHQL = "graphql"
#: RunPod's REST API v2 for pods (`/v2/pods`, `/v2/pods/{id}`): the pod helpers use it.
PODS = "pods"


@dataclass
class Plan:
    """How the server treats one tenant (one API key)."""

    #: Route name -> behaviour; routes not named answer `OK`.
    routes: Mapping[str, str] = field(default_factory=dict)
    #: State of every job in `OK` answers: IN_PROGRESS (runs for ever), COMPLETED or FAILED.
    state: str = "IN_PROGRESS"
    #: Output of a COMPLETED job (RunPod's default for a generator worker is []), or the
    #: error of a FAILED one ("{key}" is replaced by the key the request carried).
    output: Any = None
    #: A `Set-Cookie` header on every answer.
    cookies: bool = False
    #: Seconds between two bytes of a trickled answer.
    trickle: float = 0.4

    def behaviour(self, route: str) -> str:
        return self.routes.get(route, OK)


@dataclass
class Seen:
    """What one tenant sent: each request's route and headers (lower-case names)."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    #: Jobs this tenant submitted (ids handed out by /run and /runsync).
    issued: list[str] = field(default_factory=list)
    #: Jobs this tenant cancelled (a `/cancel` answered CANCELLED).
    cancelled: list[str] = field(default_factory=list)
    #: Bytes of endless bodies written to this tenant.
    endless_bytes: int = 0

    def count(self, route: str) -> int:
        return sum(1 for _, name, _ in self.requests if name == route)

    def cookies_sent(self) -> list[str]:
        return [headers["cookie"] for _, _, headers in self.requests if "cookie" in headers]


class _Closed(Exception):
    """The client went away mid-request."""


class HostileServer:
    """Serve on 127.0.0.1 in a background thread; `with HostileServer() as server: ...`.

    `plan(key, Plan(...))` sets a tenant's behaviour; `seen(key)` is its log. The
    job API is under `server.endpoint_base_url` and GraphQL under `server.api_base_url`.
    """

    def __init__(self) -> None:
        self._plans: dict[str, Plan] = {}
        self._seen: dict[str, Seen] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._ids = itertools.count(1)
        self.port = 0

    # -- set-up and inspection (any thread) ----------------------------------------------------

    def plan(self, key: str, plan: Plan) -> None:
        with self._lock:
            self._plans[key] = plan
            self._seen.setdefault(key, Seen())

    def seen(self, key: str) -> Seen:
        with self._lock:
            return self._seen.setdefault(key, Seen())

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def urls(self) -> dict[str, str]:
        """Client options that point both APIs here."""
        return {"api_base_url": self.api_base_url, "endpoint_base_url": self.endpoint_base_url}

    def __enter__(self) -> HostileServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._shutdown()))
        self._thread.join(10)

    # -- the server (its own thread and loop) --------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=1024)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop.stop()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                if not await self._answer(request, writer):
                    return  # the behaviour ended the connection's usefulness
        except (_Closed, ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # the client left, or the server is stopping
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, request: _Request, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must not be reused."""
        key = request.key()
        with self._lock:
            plan = self._plans.get(key)
            seen = self._seen.setdefault(key, Seen())
            seen.requests.append((request.method, request.route, dict(request.headers)))
        if plan is None:
            await _write(writer, _response(401, {"error": "unknown key"}))
            return True
        behaviour = plan.behaviour(request.route)
        extra = [("Set-Cookie", f"session=cookie-of-{key[-12:]}; Path=/")] if plan.cookies else []
        if behaviour == HANG:
            await _forever()
        if behaviour == LOST:
            return False
        if behaviour in (ECHO_401, ECHO_503):
            status = 401 if behaviour == ECHO_401 else 503
            body = {"error": f"the API key {key} is not valid"}
            await _write(writer, _response(status, body, extra))
            return True
        if behaviour == HUGE_502:
            line = b"<p>502 Bad Gateway: upstream_connect_error reset_before_headers</p>\n"
            filler = line * (HUGE_PAGE_BYTES // len(line))
            page = f"<html><!-- {key} -->".encode() + filler + f"{key}</html>".encode()
            await _write(writer, _raw(502, "text/html", page, extra))
            return True
        if behaviour == ECHO_HTML:
            page = f"<html><body>Signed in as {key}</body></html>".encode()
            await _write(writer, _raw(200, "text/html", page, extra))
            return True
        if behaviour == ENDLESS:
            await self._endless(writer, seen, extra)
            return False
        status, body = self._ok_answer(request, plan, seen, wrong_id=behaviour == WRONG_ID)
        raw = _response(status, body, extra)
        if behaviour == STALL:
            head = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            await _write(writer, head)
            await _forever()
        if behaviour == TRICKLE_HEAD:
            await _trickle(writer, raw, plan.trickle)
            return False
        if behaviour == TRICKLE_BODY:
            head, body_bytes = raw.split(b"\r\n\r\n", 1)
            await _write(writer, head + b"\r\n\r\n")
            await _trickle(writer, body_bytes, plan.trickle)
            return False
        await _write(writer, raw)
        return True

    async def _endless(
        self, writer: asyncio.StreamWriter, seen: Seen, extra: list[tuple[str, str]]
    ) -> None:
        head = [
            "HTTP/1.1 200 OK",
            "Content-Type: application/json",
            "Transfer-Encoding: chunked",
            *(f"{name}: {value}" for name, value in extra),
        ]
        await _write(writer, ("\r\n".join(head) + "\r\n\r\n").encode())
        chunk = b" " * 65536
        framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        while True:
            writer.write(framed)
            await writer.drain()  # as fast as the client reads, never faster
            seen.endless_bytes += len(chunk)

    def _ok_answer(
        self, request: _Request, plan: Plan, seen: Seen, *, wrong_id: bool
    ) -> tuple[int, Any]:
        """What RunPod would answer (job states per the plan)."""
        route = request.route
        if route == GRAPHQL:
            operation = request.json().get("operationName")
            if operation == "Pods":
                return 200, {"data": {"myself": {"pods": []}}}
            message = f"{operation} is not allowed for the key {request.key()}"
            return 200, {"data": None, "errors": [{"message": message}]}
        if route == PODS:
            if request.path.split("?", 1)[0].rstrip("/").endswith(f"/{PODS}"):
                return 200, {"pods": []}
            return 404, {"error": "pod not found"}
        if route in ("run", "runsync"):
            job_id = f"job-{next(self._ids)}"
            with self._lock:
                seen.issued.append(job_id)
            if route == "runsync" and plan.state == "COMPLETED":
                return 200, {"id": job_id, "status": "COMPLETED", "output": plan.output}
            return 200, {"id": job_id, "status": "IN_QUEUE" if route == "run" else "IN_PROGRESS"}
        if route == "health":
            return 200, {
                "jobs": {"completed": 0, "failed": 0, "inProgress": 1, "inQueue": 0, "retried": 0},
                "workers": {"idle": 0, "running": 1},
            }
        if route == "purge-queue":
            return 200, {"removed": 0, "status": "completed"}
        job_id = request.job_id or "?"
        if wrong_id:
            return 200, {
                "id": f"{job_id}-someone-else",
                "status": "COMPLETED",
                "output": "another job's output",
            }
        if route == "cancel":
            with self._lock:
                seen.cancelled.append(job_id)
            return 200, {"id": job_id, "status": "CANCELLED"}
        if route == "stream":
            return 200, {"status": plan.state, "stream": []}
        answer: dict[str, Any] = {"id": job_id, "status": plan.state}
        if plan.state == "COMPLETED":
            answer["output"] = plan.output
        if plan.state == "FAILED":
            answer["error"] = str(plan.output).replace("{key}", request.key())
        return 200, answer


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def key(self) -> str:
        value = self.headers.get("authorization", "")
        return value[7:].strip() if value.lower().startswith("bearer ") else value.strip()

    @property
    def route(self) -> str:
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if parts[-1] == GRAPHQL:
            return GRAPHQL
        if parts[:2] == ["v2", PODS]:  # like RunPod, no endpoint is named after a collection
            return PODS
        # /v2/{endpoint_id}/{route}[/{job_id}]
        return parts[2] if len(parts) >= 3 and parts[0] == "v2" else "?"

    @property
    def job_id(self) -> str | None:
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        return parts[3] if len(parts) >= 4 and parts[0] == "v2" else None

    def json(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None  # the client closed a kept-alive connection
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return _Request(method, path, headers, body)


_REASONS = {
    200: "OK",
    401: "Unauthorized",
    404: "Not Found",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _response(status: int, body: Any, extra: list[tuple[str, str]] | None = None) -> bytes:
    return _raw(status, "application/json", json.dumps(body).encode(), extra)


def _raw(
    status: int, content_type: str, payload: bytes, extra: list[tuple[str, str]] | None = None
) -> bytes:
    head = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(payload)}",
        *(f"{name}: {value}" for name, value in extra or []),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


async def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    if writer.is_closing():
        raise _Closed
    writer.write(data)
    await writer.drain()


async def _trickle(writer: asyncio.StreamWriter, data: bytes, every: float) -> None:
    for byte in data:
        await _write(writer, bytes([byte]))
        await asyncio.sleep(every)


async def _forever() -> None:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")
