"""The routes worker processes call (``/_worker/...``), as RunPod serves them to its workers.

Every path is ``/_worker/{endpoint_id}/{route}/{worker_id}[/{job_id}]`` with the worker
process's secret as ``?token=`` (or as its ``Authorization`` header, the runtime's
``RUNPOD_AI_API_KEY``); a request of an earlier process of the slot is refused (401).

- ``GET job-take/{worker}?job_in_progress=0|1``: one job ``{"id", "input"}``, or 204
  after holding the poll (`WorkerSettings.poll_hold_seconds`) with nothing queued.
- ``GET job-take-batch/{worker}?batch_size=N&job_in_progress=0|1``: a list of up to N.
- ``GET job-stop/{worker}``: ``{"jobsToStop": [ids]}`` (cancelled, timed out or expired
  jobs the worker holds), or 204 after the hold.
- ``POST job-done/{worker}/{job}?isStream=...``: the runtime's result, a JSON body (sent
  as form data): ``{"output": ...}``, ``{"error": "..."}``, optionally ``"stopPod": true``;
  or a progress update ``{"status": "IN_PROGRESS", "output": ...}``.
- ``POST job-stream/{worker}/{job}``: one stream chunk ``{"output": ...}``.
- ``GET ping/{worker}?job_id=a,b&runpod_version=...``: the heartbeat (with
  ``status=unhealthy`` it reports a failed fitness check before the worker exits).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from runpod_typed.emulator import _json as wire
from runpod_typed.emulator._faults import Receive, Scope, Send
from runpod_typed.emulator._queue import JobStore
from runpod_typed.emulator._workers import _LOG, Held, Worker, WorkerPool

PREFIX = "/_worker/"
#: Largest batch one take hands out.
_MAX_BATCH = 64

_NO_CONTENT = Response(status_code=204)
_OK = PlainTextResponse("OK")
_NOT_FOUND = PlainTextResponse("404 page not found", 404)


def _json(body: Any, status: int = 200) -> Response:
    return Response(wire.dumps(body), status, media_type="application/json")


class WorkerApi:
    """ASGI app for the worker-facing routes (mounted under `PREFIX` by the job API app)."""

    def __init__(self, store: JobStore, pool: WorkerPool) -> None:
        self.store = store
        self.pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._answer(request)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        parts = request.url.path.removeprefix(PREFIX).split("/")
        if len(parts) not in (3, 4) or not all(parts):
            return _NOT_FOUND
        endpoint_id, route, worker_id = parts[:3]
        job_id = parts[3] if len(parts) == 4 else None
        worker = self._worker(request)
        if worker is None or worker.endpoint_id != endpoint_id or worker.id != worker_id:
            return PlainTextResponse("Unauthorized", 401)
        generation = worker.generation
        self.pool.contact(worker)
        params = request.query_params
        method = request.method
        if job_id is None and method == "GET":
            if route == "job-take":
                return await self._take(worker, generation, 1, params.get("job_in_progress"))
            if route == "job-take-batch":
                try:
                    size = min(max(int(params.get("batch_size", "1")), 1), _MAX_BATCH)
                except ValueError:
                    return PlainTextResponse("batch_size must be an integer", 400)
                return await self._take(worker, generation, size, params.get("job_in_progress"))
            if route == "job-stop":
                hold = self.pool.settings.poll_hold_seconds
                stops = await self.pool.stop_signals(worker, hold)
                return _json({"jobsToStop": stops}) if stops else _NO_CONTENT
            if route == "ping":
                self.pool.ping(worker, params.get("job_id"))
                if params.get("status") == "unhealthy":
                    _LOG.warning(
                        "worker %s reports a failed fitness check %s: %s",
                        worker.id,
                        params.get("check", "?"),
                        params.get("reason", ""),
                    )
                return _OK
        if job_id is not None and method == "POST" and route in ("job-done", "job-stream"):
            try:
                body = wire.loads(await request.body())  # as RunPod's: no NaN, Infinity, ...
            except ValueError as exc:
                return PlainTextResponse(f"the body is not JSON: {exc}", 400)
            if not isinstance(body, dict):
                return PlainTextResponse("the body is not a JSON object", 400)
            return self._post(worker, route, job_id, body)
        return _NOT_FOUND

    def _worker(self, request: Request) -> Worker | None:
        token = request.query_params.get("token") or request.headers.get("authorization", "")
        if token[:7].lower() == "bearer ":
            token = token[7:]
        worker = self.pool.worker(token)
        if worker is None or not hmac.compare_digest(worker.token, token):
            return None
        return worker

    async def _take(
        self, worker: Worker, generation: int, count: int, in_progress: str | None
    ) -> Response:
        if in_progress == "0":
            self.pool.drop_forgotten(worker)
        jobs = await self.store.take(
            worker.endpoint_id,
            count,
            self.pool.settings.poll_hold_seconds,
            functools.partial(worker.accepting, generation),
            worker.interrupt,
        )
        loop = asyncio.get_running_loop()
        for job in jobs:
            outcome: asyncio.Future[dict[str, Any]] = loop.create_future()
            on_stop = functools.partial(self.pool.stop_job, worker, generation, job.id)
            attempt = self.store.start_remote(job, worker.id, outcome, on_stop)
            self.pool.hold(worker, Held(job, attempt, outcome))
        if not jobs:
            return _NO_CONTENT
        bodies = [{"id": job.id, "input": job.input} for job in jobs]
        return _json(bodies if count > 1 else bodies[0])

    def _post(self, worker: Worker, route: str, job_id: str, body: dict[str, Any]) -> Response:
        held = worker.held.get(job_id)
        if held is None:
            # A late post for a job that was stopped, or one this worker never had.
            return _OK if job_id in self.store.jobs else PlainTextResponse("unknown job", 404)
        if route == "job-stream":
            self.store.remote_chunk(held.job, held.attempt, body.get("output"))
        elif body.get("status") == "IN_PROGRESS":
            self.store.remote_progress(held.job, held.attempt, body.get("output"))
        else:
            self.pool.finished(worker, job_id, body)
        return _OK
