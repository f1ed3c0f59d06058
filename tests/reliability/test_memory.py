"""Endless answers: what a server that never stops sending costs the client in memory.

The hostile server answers with a chunked body that never ends, as fast as the
client reads. The client must refuse it once it has read `max_response_bytes`
(100 MB by default: five times RunPod's largest payload) with a
ResponseTooLargeError, and its memory must grow by about that cap, not without
bound. The resident set size (psutil) is sampled every few milliseconds while
the call runs; the trials run one at a time, with nothing else in flight.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from runpod_typed import AsyncRunpod, ResponseTooLargeError, Runpod
from runpod_typed._flow import MAX_ANSWER_BYTES

from . import hostile_server as hs
from .recorder import Case, Results, SecretWitness

psutil = pytest.importorskip("psutil")

SECTION = "memory"
pytestmark = pytest.mark.reliability

MB = 1024 * 1024
#: What the client may hold beyond the cap: the last chunk, httpx's buffers, the
#: interpreter's own allocations meanwhile.
SLACK = 60 * MB
#: The cap of the second pair of trials (a client option).
SMALL_CAP = 8 * MB


@dataclass
class Measured:
    client: str
    cap: int
    elapsed: float = 0.0
    peak_growth: int = 0
    written: int = 0
    error: BaseException | None = None


class _RssSampler:
    """Samples this process's resident set size in a thread; keeps the peak."""

    def __init__(self, every: float = 0.002) -> None:
        self.process = psutil.Process()
        self.every = every
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.every)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def _measure(
    server: hs.HostileServer, key: str, client: str, cap: int, witness: SecretWitness
) -> Measured:
    server.plan(key, hs.Plan({"health": hs.ENDLESS}))
    options: dict[str, Any] = {**server.urls(), "retry": None}
    if cap != MAX_ANSWER_BYTES:
        options["max_response_bytes"] = cap
    measured = Measured(client, cap)
    gc.collect()
    call: Callable[[], Any]
    if client == "sync":
        rp = Runpod(key, **options)

        def call() -> Any:
            try:
                return rp.endpoint("mem").health()
            finally:
                rp.close()

    else:

        def call() -> Any:
            async def main() -> Any:
                async with AsyncRunpod(key, **options) as arp:
                    return await arp.endpoint("mem").health()

            return asyncio.run(main())

    with _RssSampler() as rss:
        started = time.monotonic()
        try:
            call()
        except Exception as exc:
            measured.error = exc
            witness.check_exception(exc)
        measured.elapsed = time.monotonic() - started
    measured.peak_growth = rss.peak - rss.baseline
    measured.written = server.seen(key).endless_bytes
    return measured


TRIALS = [
    ("sync", MAX_ANSWER_BYTES),
    ("async", MAX_ANSWER_BYTES),
    ("sync", SMALL_CAP),
    ("async", SMALL_CAP),
]


@pytest.fixture(scope="module")
def measured(secret_witness: SecretWitness) -> Iterator[dict[tuple[str, int], Measured]]:
    with hs.HostileServer() as server:
        yield {
            (client, cap): _measure(
                server, f"sk-memory-{client}-{cap}", client, cap, secret_witness
            )
            for client, cap in TRIALS
        }


def _record(results: Results, measured: dict[tuple[str, int], Measured]) -> None:
    results.figure(SECTION, "default max_response_bytes", f"{MAX_ANSWER_BYTES // MB} MiB")
    results.figure(SECTION, "allowed growth beyond the cap", f"{SLACK // MB} MiB")
    results.figure(
        SECTION,
        "endless answers",
        [
            {
                "client": m.client,
                "max_response_bytes": f"{m.cap // MB} MiB",
                "raised": type(m.error).__name__ if m.error else "nothing",
                "after (s)": f"{m.elapsed:.2f}",
                "server wrote (MiB)": f"{m.written / MB:.0f}",
                "peak RSS growth (MiB)": f"{m.peak_growth / MB:.0f}",
            }
            for m in measured.values()
        ],
    )


@pytest.mark.parametrize(
    ("client", "cap"), TRIALS, ids=[f"{c}-{cap // MB}MiB" for c, cap in TRIALS]
)
def test_endless_answer_is_refused_within_memory_bound(
    client: str,
    cap: int,
    measured: dict[tuple[str, int], Measured],
    case: Case,
    results: Results,
) -> None:
    """An endless body: ResponseTooLargeError at the cap; RSS grows by at most cap + slack."""
    _record(results, measured)
    m = measured[(client, cap)]
    case.expected = (
        f"ResponseTooLargeError after {cap // MB} MiB; peak RSS growth <= {(cap + SLACK) // MB} MiB"
    )
    case.observed = (
        f"{type(m.error).__name__ if m.error else 'nothing raised'} after {m.elapsed:.2f} s, "
        f"server wrote {m.written / MB:.0f} MiB, peak RSS growth {m.peak_growth / MB:.0f} MiB"
    )
    assert isinstance(m.error, ResponseTooLargeError), case.observed
    assert m.error.limit == cap
    assert m.peak_growth <= cap + SLACK, case.observed
