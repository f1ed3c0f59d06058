"""Fault soak: 1,000 jobs through `run` + `output` while a fifth of the requests fail.

What "none lost" means here. Faults on the status routes (5xx, 429, dropped
connections before or after the server acted, latency, truncated bodies) must
be invisible to the caller: the SDK retries reads. On `/run` the SDK may resend
only what certainly created no job (a 429); after a dropped connection, a 5xx
or a mangled answer it cannot know whether the job exists, so it raises a typed
error instead of risking a second job. So every input ends in exactly one of:
its correct output, delivered; or a typed submission error -- and the emulator
created at most one job for it, every job it created finished, and no input
was ever submitted twice.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from runpod_typed import (
    AsyncRunpod,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    RunpodError,
    ServerError,
    TransportError,
)
from runpod_typed.emulator import FaultSpec, RouteFaults, fingerprint

from .harness import await_until, emulator_urls, unfinished
from .recorder import Case, Results, describe

SECTION = "soak"
pytestmark = pytest.mark.reliability

JOBS = 1_000
CONCURRENCY = 50
SEED = 20_261_122

#: Reads fail in every way a network and RunPod can fail: 20% of requests in all.
READ_FAULTS = RouteFaults(
    http_500=0.03,
    http_502=0.03,
    http_503=0.03,
    http_429=0.03,
    drop=0.03,
    drop_after=0.02,
    malformed=0.03,
    latency=0.002,
    retry_after=0.2,
)
#: /run: 12% 429s (safe to resend), 8% faults that leave the job's existence unknown.
RUN_FAULTS = RouteFaults(
    http_429=0.12, drop=0.02, http_503=0.02, drop_after=0.02, malformed=0.02, retry_after=0.2
)
#: What the SDK may raise for a submission whose fate it cannot know.
FATE_UNKNOWN = (TransportError, ServerError, ResponseFormatError)

#: The SDK's log lines for a resent request, and for a wait riding out a failed read.
_RETRY_LINE = re.compile(r"retrying \S+ (?P<where>\S+) after (?P<why>.+?) \(attempt")
_REREAD_LINE = re.compile(r"reading job \S+ failed \((?P<why>\w+)\); still waiting")


def job_input(i: int, rng: random.Random) -> dict[str, Any]:
    """A unique input whose expected output is known (the emulator's demo handler)."""
    return {"sleep": round(rng.uniform(0.0, 0.05), 3), "output": expected_output(i)}


def expected_output(i: int) -> dict[str, Any]:
    return {"i": i, "token": hashlib.sha256(f"soak-{i}".encode()).hexdigest()[:16]}


class RetryCounter(logging.Handler):
    """Counts the retries the SDK logs, by where (route, or the wait) and cause."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.by_cause: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        match = _RETRY_LINE.match(message) or _REREAD_LINE.match(message)
        if match:
            where = match.groupdict().get("where") or "wait, after a failed read"
            self.by_cause[f"{where}: {match['why']}"] += 1


async def test_fault_soak(
    runpod_emulator_factory: Callable[..., Any],
    async_clients: Callable[..., AsyncRunpod],
    case: Case,
    results: Results,
) -> None:
    """1,000 jobs, 20% of requests faulted: outputs correct, none lost, none twice, none left running."""
    server = runpod_emulator_factory(
        workers=CONCURRENCY,
        faults=FaultSpec(
            {"status": READ_FAULTS, "status-sync": READ_FAULTS, "run": RUN_FAULTS}, seed=SEED
        ),
    )
    rp = async_clients(**emulator_urls(server))
    endpoint = rp.endpoint("soak")
    rng = random.Random(SEED)
    inputs = [job_input(i, rng) for i in range(JOBS)]
    outputs: dict[int, Any] = {}
    submit_errors: dict[int, RunpodError] = {}
    wait_errors: dict[int, RunpodError] = {}
    limit = anyio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with limit:
            try:
                job = await endpoint.run(inputs[i])
            except RunpodError as exc:
                submit_errors[i] = exc
                return
            try:
                outputs[i] = await job.output(timeout=120)
            except RunpodError as exc:
                wait_errors[i] = exc

    retries = RetryCounter()
    sdk_logger = logging.getLogger("runpod_typed")
    sdk_logger.addHandler(retries)
    try:
        with anyio.fail_after(600):  # a bound against hangs, not a speed target
            async with anyio.create_task_group() as group:
                for i in range(JOBS):
                    group.start_soon(one, i)
    finally:
        sdk_logger.removeHandler(retries)
    server.set_faults(None)
    all_final = await await_until(lambda: unfinished(server) == 0, bound=30)
    counters = server.counters()

    created = Counter({fp: n for fp, n in counters["jobs_by_input"].items()})
    problems: list[str] = []
    wrong = [i for i, out in outputs.items() if out != expected_output(i)]
    if wrong:
        problems.append(f"{len(wrong)} wrong outputs (first: input {wrong[0]})")
    for i in outputs:
        if created[fingerprint(inputs[i])] != 1:
            problems.append(f"input {i} delivered but created {created[fingerprint(inputs[i])]}x")
    unclear = Counter(
        type(exc).__name__
        for exc in submit_errors.values()
        if not (isinstance(exc, FATE_UNKNOWN) and says_fate_unknown(exc))
        and not isinstance(exc, RateLimitError)
    )
    if unclear:
        problems.append(f"submission errors that do not say the job may exist: {dict(unclear)}")
    # A 429 that outlasted the retries is a definite refusal: RunPod created nothing.
    refused_but_created = [
        i
        for i, exc in submit_errors.items()
        if isinstance(exc, RateLimitError) and created[fingerprint(inputs[i])] != 0
    ]
    if refused_but_created:
        problems.append(f"{len(refused_but_created)} inputs refused with 429 were created anyway")
    if wait_errors:
        kinds = Counter(type(exc).__name__ for exc in wait_errors.values())
        first = next(iter(wait_errors.values()))
        problems.append(f"{len(wait_errors)} outputs lost while waiting {dict(kinds)}: {first}")
    if counters["duplicate_inputs"]:
        problems.append(f"{len(counters['duplicate_inputs'])} inputs submitted twice")
    unknown_but_created = sum(1 for i in submit_errors if created[fingerprint(inputs[i])])
    accounted = len(outputs) + unknown_but_created + len(wait_errors)
    if counters["jobs_created"] != accounted:
        problems.append(f"{counters['jobs_created']} jobs created, {accounted} accounted for")
    if not all_final:
        problems.append(f"{unfinished(server)} jobs still unfinished after the soak")
    states = Counter(counters["final_states"].values())

    faults = counters["faults"]
    injected = sum(sum(kinds.values()) for kinds in faults.values())
    requests = sum(counters["requests"].values())
    results.figure(SECTION, "jobs submitted (concurrency)", f"{JOBS} ({CONCURRENCY})")
    results.figure(SECTION, "requests the emulator received", requests)
    results.figure(SECTION, "requests by route", dict(sorted(counters["requests"].items())))
    results.figure(
        SECTION, "faults injected", f"{injected} ({100 * injected / max(requests, 1):.1f}%)"
    )
    for route in sorted(faults):
        results.figure(SECTION, f"faults on {route}", dict(sorted(faults[route].items())))
    results.figure(SECTION, "SDK retries (from its log)", sum(retries.by_cause.values()))
    results.figure(
        SECTION, "SDK retries by route and cause", dict(sorted(retries.by_cause.items()))
    )
    results.figure(SECTION, "outputs delivered and correct", len(outputs) - len(wrong))
    results.figure(
        SECTION,
        "submissions ended in a typed 'fate unknown' error",
        dict(sorted(Counter(type(exc).__name__ for exc in submit_errors.values()).items())),
    )
    results.figure(
        SECTION,
        "... of which the emulator had created the job (it ran to the end)",
        unknown_but_created,
    )
    results.figure(SECTION, "outputs lost while waiting", len(wait_errors))
    results.figure(SECTION, "inputs submitted twice", len(counters["duplicate_inputs"]))
    results.figure(
        SECTION, "jobs created; their final states", {"created": counters["jobs_created"], **states}
    )
    case.observed = (
        f"{len(outputs)} delivered, {len(submit_errors)} typed submission errors, "
        f"{len(wait_errors)} lost, {len(counters['duplicate_inputs'])} duplicated, "
        f"{unfinished(server)} unfinished"
    )
    assert not problems, "; ".join(problems)


def says_fate_unknown(exc: BaseException) -> bool:
    """Whether a failed submission's message warns that the job may exist anyway."""
    text = str(exc).lower()
    return any(words in text for words in ("may have", "may exist", "duplicate", "unknown"))


async def test_wait_survives_a_burst_of_failed_reads(
    async_clients: Callable[..., AsyncRunpod], case: Case
) -> None:
    """A job's wait outlasts a burst of 503s longer than one read's retry budget."""
    answers = [httpx.Response(503, text="busy")] * 4 + [
        httpx.Response(200, json={"id": "job-1", "status": "COMPLETED", "output": 7})
    ]
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return answers[min(len(seen), len(answers)) - 1]

    rp = async_clients(
        transport=httpx.MockTransport(handle),
        retry=RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.01),
        rate_limits=False,
    )
    job = rp.endpoint("ep").job("job-1")
    try:
        with anyio.fail_after(30):
            output = await job.output()
    except RunpodError as exc:
        case.observed = f"{describe(exc)} after {len(seen)} reads"
        raise
    case.observed = f"output {output!r} after {len(seen)} reads"
    assert output == 7


STREAMS = 40
WORDS = [f"w{i}" for i in range(30)]


async def test_stream_soak(
    runpod_emulator_factory: Callable[..., Any],
    async_clients: Callable[..., AsyncRunpod],
    case: Case,
    results: Results,
) -> None:
    """40 streams with 20% of /stream reads faulted: each chunk once and in order, or a typed error.

    RunPod's /stream hands out the chunks produced since the previous call, so an
    answer lost after the server produced it (dropped, or garbled) takes its chunks
    with it: a client cannot get them back by asking again. What it must not do is
    carry on as if nothing had been lost.
    """
    server = runpod_emulator_factory(
        workers=STREAMS, faults=FaultSpec({"stream": READ_FAULTS}, seed=SEED)
    )
    rp = async_clients(**emulator_urls(server))
    endpoint = rp.endpoint("tokens")
    outcomes: Counter[str] = Counter()
    silent: list[int] = []

    async def one(n: int) -> None:
        job = await endpoint.run({"prompt": " ".join(WORDS), "delay": 0.01, "n": n})
        try:
            chunks = [chunk async for chunk in job.stream(str)]
        except RunpodError as exc:
            outcomes[f"typed error: {type(exc).__name__}"] += 1
            return
        if chunks == WORDS:
            outcomes["every chunk, in order"] += 1
        else:
            outcomes["chunks missing, no error"] += 1
            silent.append(len(WORDS) - len(chunks))

    with anyio.fail_after(120):  # a bound against hangs, not a speed target
        async with anyio.create_task_group() as group:
            for n in range(STREAMS):
                group.start_soon(one, n)
    faults = server.counters()["faults"].get("stream", {})
    results.figure(SECTION, "streams (30 chunks each)", STREAMS)
    results.figure(SECTION, "faults on stream", dict(sorted(faults.items())))
    results.figure(SECTION, "stream outcomes", dict(sorted(outcomes.items())))
    case.observed = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
    if silent:
        pytest.xfail(
            f"known SDK defect: {len(silent)} streams lost {sum(silent)} chunks without an "
            "error; a /stream answer lost after the server handed its chunks out is retried "
            "as if the read were idempotent"
        )
