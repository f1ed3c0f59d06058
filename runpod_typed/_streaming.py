"""Streaming a job's chunks: long-poll /stream, emit each chunk once, end on a final state."""

from __future__ import annotations

import time
from typing import Any

from runpod_typed._errors import RunpodError
from runpod_typed._flow import Emit, Flow, Sleep
from runpod_typed._outputs import validate_output
from runpod_typed._polling import Backoff, PollingOptions, ReadFailures, StatusWatcher, remaining
from runpod_typed._serverless import MIN_WAIT_MS, EndpointRoutes
from runpod_typed._status import FINAL_STATES, JobState


def stream_chunks(
    routes: EndpointRoutes,
    job_id: str,
    options: PollingOptions,
    *,
    chunk_type: Any,
    deadline: float | None,
    watcher: StatusWatcher,
) -> Flow[None]:
    """Emit every chunk in order; raise the job's error after the chunks it produced.

    The server returns the chunks produced since the previous call, so each is
    seen once. A page that comes back empty before the wait ran out means the
    server does not hold the request: then back off between calls.
    """
    backoff = Backoff(options)
    failures = ReadFailures()
    what = f"the stream of job {job_id}"
    while True:
        left = remaining(deadline, what, job_id)
        asked = min(options.long_poll_window, left)
        wait = asked if routes.transport.long_poll and asked * 1000 >= MIN_WAIT_MS else None
        started = time.monotonic()
        try:
            page = yield from routes.stream(job_id, wait)
        except RunpodError as exc:
            if not failures.tolerate(exc, what):
                raise
            yield Sleep(min(backoff.delay(), remaining(deadline, what, job_id)))
            continue
        failures.reset()
        for chunk in page.chunks:
            yield Emit(validate_output(chunk, chunk_type, job_id=job_id, what="stream chunk"))
        if page.state in FINAL_STATES:
            if page.state is not JobState.COMPLETED:
                final = yield from routes.status(job_id)  # the worker's error message
                watcher.see(final)
                final.raise_for_state(routes.endpoint_id)
            return
        if page.chunks or (wait is not None and time.monotonic() - started >= wait / 2):
            backoff.reset()
            continue
        yield Sleep(min(backoff.delay(), remaining(deadline, what, job_id)))
