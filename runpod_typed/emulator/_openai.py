"""RunPod's OpenAI-compatible route: ``/v2/{endpoint_id}/openai/v1/...``.

RunPod's vLLM workers (runpod-workers/worker-vllm) are called with the `openai`
package pointed at ``https://api.runpod.ai/v2/{endpoint_id}/openai/v1``. RunPod wraps
each request into a job for the endpoint's worker, whose input is

    {"openai_route": "/v1/chat/completions", "openai_input": <the request's JSON body>}

(``/v1/completions``, ``/v1/models``, ... likewise; a body-less request has
``openai_input`` null), and answers from what the worker *streams*:

- a request without ``"stream": true``: the first chunk the worker yields is the JSON
  answer (vLLM's worker yields one, the whole completion); a chunk shaped like an
  OpenAI error (``{"object": "error", "code": 400, ...}``) is answered with that code;
- a request with ``"stream": true``: server-sent events, written as the worker yields
  them. vLLM's worker yields strings already in that form (``"data: {...}\\n\\n"``,
  several at once, ending with ``"data: [DONE]\\n\\n"``); the emulator writes a string
  chunk as it is, a JSON chunk as ``data: <json>``, each item of a list chunk likewise,
  and ends with ``data: [DONE]`` if the worker did not.

What RunPod publishes stops there; the rest is the emulator's choice, stated so a
test can rely on it: a job that fails, times out or is cancelled is answered with
500 and ``{"error": {"message": <the job's error>, "type": <its state>}}`` (after
some events of a stream: one more event with that object); a job that completes
without streaming anything (a handler that returns instead of yields) is answered
with 500 and a message saying the handler must be a generator function; a client
that leaves a stream cancels its job. The route counts as ``openai`` in the
counters and fault specs and draws from the ``/runsync`` rate limit. The job is an
ordinary job of the endpoint (``/status`` shows it while it is kept, one minute as
for ``/runsync``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from runpod_typed._generated.rest.operations import COLLECTIONS
from runpod_typed.emulator import _json as wire
from runpod_typed.emulator._faults import Message, Receive, Scope, Send
from runpod_typed.emulator._queue import COMPLETED, FINAL_STATES, Job
from runpod_typed.emulator._requests import BadRequest, JobRequest, parse_json_body

if TYPE_CHECKING:
    from runpod_typed.emulator._app import EmulatorApp

#: The route's name in counters, fault specs and logs.
ROUTE = "openai"
#: The rate-limit budget it draws from.
_BUDGET = "runsync"
_DONE = "data: [DONE]\n\n"


def _json(body: Any, status: int = 200) -> Response:
    return Response(wire.dumps(body), status, media_type="application/json")


def _error(message: str, kind: str, status: int) -> Response:
    return _json({"error": {"message": message, "type": kind, "code": status}}, status)


def _is_final(job: Job) -> bool:
    return job.status in FINAL_STATES


def _newer_than(cursor: int) -> Callable[[Job], bool]:
    return lambda job: len(job.chunks) > cursor or _is_final(job)


def parse_path(path: str) -> tuple[str, str] | None:
    """``/v2/{endpoint_id}/openai/{rest}`` -> (endpoint id, ``/{rest}``), else None."""
    parts = path.split("/", 4)
    if len(parts) != 5 or parts[0] or parts[1] != "v2" or parts[3] != ROUTE:
        return None
    if parts[2] in COLLECTIONS:  # /v2/<collection>/... is REST v2's
        return None
    return (parts[2], "/" + parts[4]) if parts[2] and parts[4] else None


def events(chunk: Any) -> str:
    """A streamed chunk as server-sent event text."""
    if isinstance(chunk, str):
        return chunk
    if isinstance(chunk, list):
        return "".join(events(item) for item in chunk)
    return f"data: {wire.dumps(chunk).decode()}\n\n"


class OpenAIRoute:
    """Serves ``/v2/{endpoint_id}/openai/...`` for the job API app (its `openai_route`)."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app

    def matches(self, path: str) -> bool:
        return parse_path(path) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = parse_path(scope["path"])
        assert target is not None
        endpoint_id = target[0]
        counters = self.app.counters
        counters.request(ROUTE, endpoint_id)

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                counters.response(ROUTE, message["status"])
            await send(message)

        await self.app.faults(ROUTE, scope, receive, counting_send, self._serve)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        if not app._authorized(scope, ROUTE):
            await PlainTextResponse("Unauthorized", 401)(scope, receive, send)
            return
        endpoint_id, route = parse_path(scope["path"]) or ("", "")
        token: tuple[str, str] | None = None
        if app.limiter is not None:
            now = asyncio.get_running_loop().time()
            admitted = app.limiter.acquire(endpoint_id, _BUDGET, now)
            if isinstance(admitted, float):
                response: Response = _error(
                    f"rate limit of /{_BUDGET} exceeded for endpoint {endpoint_id}",
                    "rate_limit_exceeded",
                    429,
                )
                response.headers["Retry-After"] = f"{admitted:.0f}"
                await response(scope, receive, send)
                return
            token = admitted
        try:
            try:
                response = await self._answer(Request(scope, receive), endpoint_id, route)
            except BadRequest as exc:
                response = _error(exc.message, "invalid_request_error", exc.status)
            await response(scope, receive, send)
        finally:
            if token is not None and app.limiter is not None:
                app.limiter.release(token)

    async def _answer(self, request: Request, endpoint_id: str, route: str) -> Response:
        app = self.app
        settings = app.settings
        endpoint = app.store.endpoint(endpoint_id)
        if endpoint is None:
            return _error(f"endpoint {endpoint_id} not found", "not_found", 404)
        body = await app._body(request, _BUDGET, settings.max_runsync_bytes)
        openai_input: Any = None
        if body.strip():
            openai_input = parse_json_body(body)
        job_request = JobRequest(
            input={"openai_route": route, "openai_input": openai_input},
            webhook=None,
            execution_timeout=settings.default_execution_timeout_ms / 1000,
            ttl=settings.default_ttl_ms / 1000,
            low_priority=False,
        )
        job = app.store.submit(endpoint, job_request, sync=True)
        wait = settings.max_wait_ms / 1000
        streaming = isinstance(openai_input, dict) and openai_input.get("stream") is True
        if not streaming:
            await app.store.wait(job, _is_final, wait)
            return self._final_answer(job)
        await app.store.wait(job, lambda j: bool(j.chunks) or _is_final(j), wait)
        if not job.chunks:
            return self._final_answer(job)
        return StreamingResponse(
            self._events(job),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )

    def _final_answer(self, job: Job) -> Response:
        if job.removed:
            return _error("the job was removed before it finished", "job_removed", 500)
        if not _is_final(job):
            wait_s = self.app.settings.max_wait_ms // 1000
            return _error(f"the job did not finish within {wait_s} s", "timeout", 504)
        if job.status != COMPLETED:
            return _error(job.error or f"the job ended {job.status}", job.status.lower(), 500)
        if not job.chunks:
            return _error(
                "the worker streamed nothing: RunPod's OpenAI route answers with what the "
                "handler yields, so the handler must be a generator function (yield the "
                "response)",
                "no_stream",
                500,
            )
        first = job.chunks[0]
        if isinstance(first, str):
            return Response(first, 200, media_type="text/plain")
        status = 200
        if isinstance(first, dict) and first.get("object") == "error":
            code = first.get("code")
            if isinstance(code, int) and not isinstance(code, bool) and 400 <= code < 600:
                status = code
        return _json(first, status)

    async def _events(self, job: Job) -> AsyncIterator[str]:
        """The job's chunks as server-sent events, as they come; the client leaving
        cancels the job."""
        store = self.app.store
        wait = self.app.settings.max_wait_ms / 1000
        cursor = 0
        done = False
        try:
            while True:
                while cursor < len(job.chunks):
                    text = events(job.chunks[cursor])
                    cursor += 1
                    done = done or _DONE in text
                    yield text
                if _is_final(job) or job.removed or store.closing:
                    break
                await store.wait(job, _newer_than(cursor), wait)
            if job.status != COMPLETED:
                message = job.error or f"the job ended {job.status}"
                yield events({"error": {"message": message, "type": job.status.lower()}})
            if not done:
                yield _DONE
        finally:
            if not _is_final(job) and not job.removed:
                store.cancel(job)
