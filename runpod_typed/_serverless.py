"""The job API's routes as flows: one request each, parsed into typed answers.

What each route is (its path, the method sent, whether it may be resent, whether
it long-polls) comes from the generated route table, `ROUTES`, which
schema/serverless.openapi.yaml declares; the flows here only pick the route,
fill in its path and parse the answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from runpod_typed._errors import InvalidRequestError, NotFoundError
from runpod_typed._flow import Flow
from runpod_typed._generated.serverless.models import PurgeQueueResponse
from runpod_typed._generated.serverless.routes import ROUTES, WAIT_MAX_MS, WAIT_MIN_MS, Route
from runpod_typed._retry import RetryPolicy
from runpod_typed._status import Health, JobStatus, PurgeResult, StreamPage, parse_wire
from runpod_typed._transport import LONG_POLL_MARGIN_SECONDS, ApiCall, Transport

#: RunPod accepts `wait` between 1 s and 300 s on its long-poll routes.
MIN_WAIT_MS, MAX_WAIT_MS = WAIT_MIN_MS, WAIT_MAX_MS

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


def check_id(kind: str, value: str) -> str:
    """Refuse ids that could not be RunPod's (and could smuggle a path into the URL)."""
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidRequestError(
            f"{kind} id {value!r} is not valid: use the id RunPod shows "
            "(letters, digits, '-', '_', '.', ':'; at most 128 characters)"
        )
    return value


def wait_ms(seconds: float) -> int:
    """A long-poll `wait` in RunPod's accepted range."""
    return max(MIN_WAIT_MS, min(MAX_WAIT_MS, int(seconds * 1000)))


def is_missing_route(exc: NotFoundError) -> bool:
    """A 404 from a server without the route (plain text), not RunPod's JSON 'no such job'."""
    try:
        body = json.loads(exc.body)
    except ValueError:
        return True
    return not isinstance(body, dict)


class EndpointRoutes:
    """Flows for the routes of one serverless endpoint."""

    def __init__(self, transport: Transport, endpoint_id: str) -> None:
        self.transport = transport
        self.endpoint_id: str = check_id("endpoint", endpoint_id)
        #: The job API root; a route's path template goes after it.
        self.root: str = transport.urls.endpoint_base_url

    def _call(
        self,
        route: Route,
        job_id: str | None = None,
        *,
        body: bytes | None = None,
        wait: float | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> Flow[Any]:
        """One request to `route`; `wait` (seconds) makes it a long-poll, with a timeout to match."""
        if wait is not None and not route.long_poll:
            raise ValueError(f"/{route.name} does not long-poll")  # a bug in the caller
        params = None
        if wait is not None:
            ms = wait_ms(wait)
            params = {"wait": str(ms)}
            timeout = ms / 1000 + LONG_POLL_MARGIN_SECONDS
        job = check_id("job", job_id or "") if route.job_scoped else None
        path = route.path.format(endpoint_id=self.endpoint_id, job_id=job)
        api = ApiCall(
            route.method,
            self.root + path,
            route.name,
            self.endpoint_id,
            params,
            body,
            route.idempotent,
            timeout,
        )
        return self.transport.call_json(api, retry=retry)

    def run(self, body: bytes) -> Flow[JobStatus]:
        raw = yield from self._call(ROUTES["run"], body=body)
        return JobStatus.from_json(raw)

    def run_sync(self, body: bytes, wait_seconds: float) -> Flow[JobStatus]:
        raw = yield from self._call(ROUTES["runsync"], body=body, wait=wait_seconds)
        return JobStatus.from_json(raw)

    def status(self, job_id: str) -> Flow[JobStatus]:
        raw = yield from self._call(ROUTES["status"], job_id)
        return JobStatus.from_json(raw, job_id=job_id)

    def status_sync(self, job_id: str, wait_seconds: float) -> Flow[JobStatus]:
        raw = yield from self._call(ROUTES["status-sync"], job_id, wait=wait_seconds)
        return JobStatus.from_json(raw, job_id=job_id)

    def stream(self, job_id: str, wait_seconds: float | None) -> Flow[StreamPage]:
        raw = yield from self._call(ROUTES["stream"], job_id, wait=wait_seconds)
        return StreamPage.from_json(raw)

    def cancel(
        self, job_id: str, *, retry: RetryPolicy | None = None, timeout: float | None = None
    ) -> Flow[JobStatus]:
        raw = yield from self._call(ROUTES["cancel"], job_id, retry=retry, timeout=timeout)
        return JobStatus.from_json(raw, job_id=job_id)

    def retry(self, job_id: str) -> Flow[JobStatus]:
        raw = yield from self._call(ROUTES["retry"], job_id)
        return JobStatus.from_json(raw, job_id=job_id)

    def health(self) -> Flow[Health]:
        raw = yield from self._call(ROUTES["health"])
        return parse_wire(Health, raw, "health")

    def purge_queue(self) -> Flow[PurgeResult]:
        raw = yield from self._call(ROUTES["purge-queue"])
        return parse_wire(PurgeQueueResponse, raw, "purge-queue")
