"""Streaming a job's chunks: long-poll /stream, emit each chunk once, end on a final state."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from runpod_typed._deadline import Deadline, remaining
from runpod_typed._errors import StreamInterrupted
from runpod_typed._flow import Emit, Flow, Sleep
from runpod_typed._logging import logger
from runpod_typed._outputs import validate_output
from runpod_typed._polling import (
    Backoff,
    PollingOptions,
    ReadFailures,
    StatusWatcher,
    wait_until_final,
)
from runpod_typed._serverless import MIN_WAIT_MS, EndpointRoutes
from runpod_typed._status import FINAL_STATES, JobState


def stream_chunks(
    routes: EndpointRoutes,
    job_id: str,
    options: PollingOptions,
    *,
    chunk_type: Any,
    deadline: Deadline | None,
    watcher: StatusWatcher,
) -> Flow[None]:
    """Emit every chunk once, in order; raise the job's error after the chunks it produced.

    The server hands out the chunks produced since the previous call, so a read
    whose answer is lost takes its chunks with it: /stream is never resent. After
    such a failure the stream stops reading pages and recovers the rest from the
    job's final output (see `_recover`). A page that comes back empty before the
    wait ran out means the server does not hold the request: then back off.
    """
    backoff = Backoff(options)
    what = f"the stream of job {job_id}"
    delivered = _Delivered()
    while True:
        left = remaining(deadline)
        asked = min(options.long_poll_window, left)
        wait = asked if routes.transport.long_poll and asked * 1000 >= MIN_WAIT_MS else None
        started = time.monotonic()
        try:
            page = yield from routes.stream(job_id, wait)
        except ReadFailures.TRANSIENT as exc:
            logger.info("reading %s failed (%s): recovering from its output", what, exc)
            yield from _recover(routes, job_id, options, delivered, chunk_type, deadline, watcher)
            return
        for chunk in page.chunks:
            yield Emit(validate_output(chunk, chunk_type, job_id=job_id, what="stream chunk"))
            delivered.add(chunk)
        if page.state in FINAL_STATES:
            if page.state is not JobState.COMPLETED:
                final = yield from routes.status(job_id)  # the worker's error message
                watcher.see(final)
                final.raise_for_state(routes.endpoint_id)
            return
        if page.chunks or (wait is not None and time.monotonic() - started >= wait / 2):
            backoff.reset()
            continue
        yield Sleep(min(backoff.delay(), remaining(deadline)))


class _Delivered:
    """What a stream has handed out: a count and a digest of the raw chunks, in order.

    The digest lets recovery check that a final output starts with exactly these
    chunks without keeping them (a long stream of large chunks would).
    """

    def __init__(self) -> None:
        self.count = 0
        self._digest = hashlib.sha256()

    def add(self, chunk: Any) -> None:
        self.count += 1
        _absorb(self._digest, chunk)

    def is_start_of(self, output: list[Any]) -> bool:
        if len(output) < self.count:
            return False
        digest = hashlib.sha256()
        for chunk in output[: self.count]:
            _absorb(digest, chunk)
        return digest.digest() == self._digest.digest()


def _absorb(digest: Any, chunk: Any) -> None:
    digest.update(json.dumps(chunk, sort_keys=True, separators=(",", ":")).encode())
    digest.update(b"\n")


def _recover(
    routes: EndpointRoutes,
    job_id: str,
    options: PollingOptions,
    delivered: _Delivered,
    chunk_type: Any,
    deadline: Deadline | None,
    watcher: StatusWatcher,
) -> Flow[None]:
    """Deliver the chunks after those already delivered from the job's final output.

    With `return_aggregate_stream` a generator worker's output is the list of all
    its chunks, and the chunks delivered so far came from pages read in order, so
    they must be that list's first items. Without it (RunPod's default) the output
    is `[]`, which cannot show what the lost page held. Only a non-empty list that
    starts with exactly the delivered chunks is trusted; anything else raises
    StreamInterrupted, which keeps the output and says how many chunks arrived.
    """
    final = yield from wait_until_final(routes, job_id, options, deadline=deadline, watcher=watcher)
    final.raise_for_state(routes.endpoint_id)
    output = final.output
    if not (isinstance(output, list) and output and delivered.is_start_of(output)):
        raise StreamInterrupted(
            f"job {job_id} completed, but stream chunks were lost in transit and its output "
            f"cannot replace them (it is not the list of every chunk: a worker returns that "
            f"only with return_aggregate_stream=True); {delivered.count} chunk(s) were "
            "delivered, and the job's output is kept in .output",
            job_id=job_id,
            delivered=delivered.count,
            output=output,
        )
    for chunk in output[delivered.count :]:
        yield Emit(validate_output(chunk, chunk_type, job_id=job_id, what="stream chunk"))
