"""The seven scenarios. Each runs every client on the same work and returns result tables.

Clients run in their own processes (see `bench.peers`); runpod-typed and raw
httpx share our venv's interpreter, the official package runs in its own venv.
Each variant uses its own endpoint id, so the emulator's per-endpoint counters
give the requests it made.
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from bench.emulator import KEY, EmulatorProcess
from bench.peers import python, run_driver
from bench.report import Metric, Role, Row, Table
from bench.stats import median, percentile


@dataclass(frozen=True)
class Sizes:
    import_samples: int
    latency_jobs: int
    latency_concurrency: int
    latency_seconds: tuple[float, float]
    stream_jobs: int
    stream_chunks: int
    stream_interval: float
    fanout_jobs: int
    fanout_concurrency: int
    status_calls: int
    pods_calls: int
    call_samples: int
    rtt_samples: int


FULL = Sizes(
    import_samples=9,
    latency_jobs=48,
    latency_concurrency=8,
    latency_seconds=(0.2, 3.0),
    stream_jobs=3,
    stream_chunks=20,
    stream_interval=0.1,
    fanout_jobs=10_000,
    fanout_concurrency=200,
    status_calls=500,
    pods_calls=40,
    call_samples=7,
    rtt_samples=200,
)
#: Keeps every code path alive in well under a minute; its figures mean nothing.
QUICK = Sizes(
    import_samples=1,
    latency_jobs=4,
    latency_concurrency=4,
    latency_seconds=(0.2, 0.4),
    stream_jobs=1,
    stream_chunks=3,
    stream_interval=0.05,
    fanout_jobs=50,
    fanout_concurrency=25,
    status_calls=30,
    pods_calls=3,
    call_samples=2,
    rtt_samples=20,
)


@dataclass(frozen=True)
class Variant:
    label: str
    role: Role
    mode: Literal["sync", "async"]
    #: the driver's variant name
    name: str


def _run(
    emulator: EmulatorProcess,
    op: str,
    variants: Sequence[Variant],
    fields: dict[str, Any],
    *,
    process_each: bool = False,
    rounds: int = 1,
) -> list[tuple[Variant, dict[str, Any], str]]:
    """(variant, driver result, endpoint id) for each variant, in order.

    Variants of one side share a process unless `process_each` (then CPU time
    and peak memory are each variant's own). With `rounds`, a process runs its
    variants round-robin that many times, so a change in machine load hits
    them alike; the lists in their results are concatenated.
    """

    def task(variant: Variant) -> dict[str, Any]:
        return {"op": op, "variant": variant.name, "endpoint": _endpoint(op, variant), **fields}

    groups: list[list[Variant]] = []
    for official in (False, True):
        side = [v for v in variants if (v.role == "official") == official]
        groups += [[v] for v in side] if process_each else [side] if side else []
    results: dict[Variant, dict[str, Any]] = {}
    for group in groups:
        answers = run_driver(
            group[0].role == "official", emulator, [task(v) for v in group] * rounds
        )
        for variant, answer in zip(group * rounds, answers, strict=True):
            merged = results.setdefault(variant, {})
            for key, value in answer.items():
                merged[key] = merged.get(key, []) + value if isinstance(value, list) else value
    return [(variant, results[variant], task(variant)["endpoint"]) for variant in variants]


def _endpoint(op: str, variant: Variant) -> str:
    """Each variant's own endpoint id, so the emulator's counters are its own."""
    return f"{op}-{variant.role}-{variant.name}"


def _requests_per_job(emulator: EmulatorProcess, endpoint: str, jobs: int) -> tuple[float, str]:
    routes = emulator.requests_by_endpoint(endpoint)
    detail = ", ".join(f"{route} {count / jobs:.2f}" for route, count in sorted(routes.items()))
    return sum(routes.values()) / jobs, detail


# ----------------------------------------------------------------------------- 1. imports

IMPORT_MS = Metric("median", "median ms", 1, lower_is_better=True)
OURS_IMPORT = "import runpod_typed; from runpod_typed import Runpod, AsyncRunpod"
#: httpx imports its command line (click, rich, pygments) when they are installed, as they
#: are in our dev venv but not in a venv holding only runpod-typed's dependencies.
WITHOUT_HTTPX_CLI = "import sys; sys.modules.update(dict.fromkeys(('click', 'rich', 'pygments')))"
IMPORTS = (
    (Variant("runpod-typed (dev venv)", "ours", "sync", "dev"), "pass", OURS_IMPORT),
    (
        Variant("runpod-typed (httpx CLI extras absent)", "ours", "sync", "user"),
        WITHOUT_HTTPX_CLI,
        OURS_IMPORT,
    ),
    (Variant("runpod: import runpod", "official", "sync", "official"), "pass", "import runpod"),
    (
        Variant("httpx alone (CLI extras absent)", "raw", "sync", "httpx"),
        WITHOUT_HTTPX_CLI,
        "import httpx",
    ),
)


def imports(sizes: Sizes) -> Table:
    """Cold import in a fresh interpreter per sample, samples interleaved across packages."""
    rows = _cold(IMPORTS, sizes.import_samples)
    return Table(
        "imports",
        "1. Cold import time",
        (IMPORT_MS, Metric("min", "min ms", 1, lower_is_better=True)),
        rows,
        [
            f"{sizes.import_samples} samples each, a fresh interpreter per sample, "
            "time measured inside the interpreter around the import statement.",
            "httpx imports its command line's click, rich and pygments when installed (they are "
            "in our dev venv, not in a venv with only runpod-typed's dependencies); the rows "
            "marked 'CLI extras absent' hide them, as such a venv would. httpx alone is the "
            "floor for any httpx-based client.",
        ],
    )


#: A usable client, from nothing: what a short script or a serverless function pays first.
COLD_STARTS = (
    (
        Variant("runpod-typed: from runpod_typed import Runpod; Runpod(key)", "ours", "sync", "c"),
        WITHOUT_HTTPX_CLI,
        "from runpod_typed import Runpod; Runpod('bench-key')",
    ),
    (
        Variant("floor: import httpx, pydantic; httpx.Client()", "raw", "sync", "floor"),
        WITHOUT_HTTPX_CLI,
        "import httpx, pydantic; httpx.Client()",
    ),
)


def cold_start(sizes: Sizes) -> Table:
    """Import and make a client, against the floor of any httpx + pydantic client."""
    rows = _cold(COLD_STARTS, sizes.import_samples)
    return Table(
        "coldstart",
        "1b. Cold start to a usable client",
        (IMPORT_MS, Metric("min", "min ms", 1, lower_is_better=True)),
        rows,
        [
            f"{sizes.import_samples} samples each, a fresh interpreter per sample, timed inside "
            "it; httpx's CLI extras hidden as in a venv with only runpod-typed's dependencies. "
            "The floor imports what runpod-typed depends on and makes one httpx.Client.",
        ],
    )


def _cold(variants: Sequence[tuple[Variant, str, str]], samples: int) -> list[Row]:
    """Each statement timed in a fresh interpreter per sample, samples interleaved.

    Bytecode caches go to a private directory warmed by one unmeasured run, so
    both packages load from .pyc as an installed package would.
    """
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = scratch

        def sample(variant: Variant, setup: str, statement: str) -> float:
            code = (
                f"import time; {setup}; t = time.perf_counter(); {statement}; "
                "print(time.perf_counter() - t)"
            )
            command = [python(variant.role == "official"), "-c", code]
            out = subprocess.run(command, env=env, cwd=scratch, capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError(f"{statement!r} failed:\n{out.stderr[-2000:]}")
            return float(out.stdout) * 1000

        times: dict[Variant, list[float]] = {variant: [] for variant, _, _ in variants}
        for round_ in range(samples + 1):
            for variant, setup, statement in variants:
                figure = sample(variant, setup, statement)
                if round_:  # round 0 fills the bytecode cache
                    times[variant].append(figure)
    return [
        Row(v.label, v.role, v.mode, {"median": median(t), "min": min(t)}, detail=_spread(t))
        for v, t in times.items()
    ]


def _spread(values: Sequence[float]) -> str:
    return f"{len(values)} samples, {min(values):.1f}-{max(values):.1f}"


# ------------------------------------------------------- 2-3. completion latency, requests

P50 = Metric("p50", "p50 ms", 1, lower_is_better=True)
P95 = Metric("p95", "p95 ms", 1, lower_is_better=True)
LATENCY = (
    Variant("runpod-typed run_sync (sync)", "ours", "sync", "sync-run_sync"),
    Variant("runpod-typed run + output (sync)", "ours", "sync", "sync-run_output"),
    Variant("runpod-typed run_sync (async)", "ours", "async", "async-run_sync"),
    Variant("runpod-typed run + output (async)", "ours", "async", "async-run_output"),
    Variant(
        "runpod-typed run + output (async, aiohttp)", "ours", "async", "async-run_output-aiohttp"
    ),
    Variant("runpod Endpoint.run_sync", "official", "sync", "sync-run_sync"),
    Variant("runpod Endpoint.run + output", "official", "sync", "sync-run_output"),
    Variant("runpod AsyncioEndpoint.run + output", "official", "async", "asyncio-run_output"),
    Variant("raw httpx POST /runsync?wait=", "raw", "sync", "raw-runsync"),
)


def round_trip_ms(emulator: EmulatorProcess, samples: int) -> float:
    """Median time of one GET /health on a kept-alive connection: one loopback round trip."""
    headers = {"Authorization": f"Bearer {KEY}"}
    url = f"{emulator.url}/v2/round-trip/health"
    with httpx.Client(headers=headers) as http:
        http.get(url).raise_for_status()
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            http.get(url).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return median(times)


def latency(emulator: EmulatorProcess, sizes: Sizes, rtt_ms: float) -> tuple[Table, Table]:
    """Jobs of random durations; latency = the caller has the output - the handler returned."""
    rng = random.Random(5)
    durations = [rng.uniform(*sizes.latency_seconds) for _ in range(sizes.latency_jobs)]
    fields = {"durations": durations, "concurrency": sizes.latency_concurrency}
    latency_rows, request_rows = [], []
    for variant, result, endpoint in _run(emulator, "latency", LATENCY, fields):
        ms = [seconds * 1000 for seconds in result["latencies"]]
        values = {"p50": percentile(ms, 50), "p95": percentile(ms, 95)}
        latency_rows.append(Row(variant.label, variant.role, variant.mode, values, samples=ms))
        per_job, detail = _requests_per_job(emulator, endpoint, len(durations))
        request_rows.append(
            Row(variant.label, variant.role, variant.mode, {"requests": per_job}, detail=detail)
        )
    low, high = sizes.latency_seconds
    jobs = f"{len(durations)} jobs of {low:g}-{high:g} s, {sizes.latency_concurrency} at a time"
    return (
        Table(
            "latency",
            "2. Completion notice latency (handler returned -> caller has the output)",
            (P50, P95),
            latency_rows,
            [jobs, f"one loopback round trip (GET /health, kept-alive, median): {rtt_ms:.2f} ms"],
        ),
        Table(
            "requests",
            "3. HTTP requests per job (emulator counters, same jobs)",
            (Metric("requests", "requests/job", 2, lower_is_better=True),),
            request_rows,
            [jobs + "; every job finishes within the long-poll window"],
        ),
    )


# ---------------------------------------------------------------------------- 4. stream

STREAM = (
    Variant("runpod-typed job.stream() (sync)", "ours", "sync", "sync"),
    Variant("runpod-typed job.stream() (async)", "ours", "async", "async"),
    Variant("runpod-typed job.stream() (async, aiohttp)", "ours", "async", "async-aiohttp"),
    Variant("runpod Job.stream()", "official", "sync", "sync"),
    Variant("runpod AsyncioJob.stream()", "official", "async", "asyncio"),
)


def stream_endpoints() -> list[str]:
    """The endpoint ids the stream scenario uses (they get the streaming handler)."""
    return [_endpoint("stream", variant) for variant in STREAM]


def stream(emulator: EmulatorProcess, sizes: Sizes) -> Table:
    """A generator handler yields timestamped chunks; latency = received - produced."""
    fields = {
        "jobs": sizes.stream_jobs,
        "chunks": sizes.stream_chunks,
        "interval": sizes.stream_interval,
    }
    rows = []
    for variant, result, endpoint in _run(emulator, "stream", STREAM, fields):
        ms = [seconds * 1000 for seconds in result["latencies"]]
        if len(ms) != sizes.stream_jobs * sizes.stream_chunks:
            raise RuntimeError(f"{variant.label} received {len(ms)} chunks")
        per_job, detail = _requests_per_job(emulator, endpoint, sizes.stream_jobs)
        values = {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "requests": per_job}
        rows.append(Row(variant.label, variant.role, variant.mode, values, ms, detail))
    return Table(
        "stream",
        "4. Stream latency (chunk produced -> caller receives it)",
        (P50, P95, Metric("requests", "requests/job", 1, lower_is_better=True)),
        rows,
        [
            f"{sizes.stream_jobs} jobs x {sizes.stream_chunks} chunks, "
            f"one every {sizes.stream_interval * 1000:.0f} ms"
        ],
    )


# ---------------------------------------------------------------------------- 5. fan-out

FANOUT = (
    Variant("runpod-typed AsyncRunpod endpoint.map", "ours", "async", "async-map"),
    Variant("runpod-typed endpoint.map over AioHttpClient", "ours", "async", "async-map-aiohttp"),
    Variant(
        "runpod-typed endpoint.map(cancel_on_exit=False)", "ours", "async", "async-map-runsync"
    ),
    Variant("runpod AsyncioEndpoint run + output", "official", "async", "asyncio-run_output"),
    Variant("raw httpx.AsyncClient POST /runsync", "raw", "async", "raw-async"),
)


def fanout(emulator: EmulatorProcess, sizes: Sizes) -> Table:
    """Many instant jobs at bounded concurrency, each client in its own process."""
    jobs, concurrency = sizes.fanout_jobs, sizes.fanout_concurrency
    fields = {"jobs": jobs, "concurrency": concurrency}
    rows = []
    for variant, result, endpoint in _run(emulator, "fanout", FANOUT, fields, process_each=True):
        per_job, detail = _requests_per_job(emulator, endpoint, jobs)
        values = {
            "wall": result["wall"],
            "rate": jobs / result["wall"],
            "cpu_ms": result["cpu"] * 1000 / jobs,
            "rss": result["rss_mb"],
            "requests": per_job,
        }
        rows.append(Row(variant.label, variant.role, variant.mode, values, detail=detail))
    return Table(
        "fanout",
        f"5. Fan-out: {jobs:,} instant jobs, concurrency {concurrency}",
        (
            Metric("wall", "wall s", 2, lower_is_better=True),
            Metric("rate", "jobs/s", 0, lower_is_better=False),
            Metric("cpu_ms", "client CPU ms/job", 3, lower_is_better=True),
            Metric("rss", "peak RSS MB", 1, lower_is_better=True),
            Metric("requests", "requests/job", 2, lower_is_better=True),
        ),
        rows,
        [
            "CPU is the client process's user+system time around the fan-out (getrusage); "
            "peak RSS is the process's ru_maxrss, imports included.",
            "The official client and raw httpx run as `concurrency` tasks pulling from one "
            "iterator (cheaper than a semaphore around 10,000 gathered tasks).",
        ],
    )


# ----------------------------------------------------------------- 6-7. per-call overhead

CALLS_PER_S = Metric("rate", "calls/s", 0, lower_is_better=False)
#: Client CPU per call: on a loaded machine steadier than calls/s (wall time).
CPU_PER_CALL = Metric("cpu_us", "client CPU us/call", 0, lower_is_better=True)
STATUS = (
    Variant("runpod-typed job.status() (sync)", "ours", "sync", "sync"),
    Variant("runpod-typed job.status() (async)", "ours", "async", "async"),
    Variant("runpod-typed job.status() (async, aiohttp)", "ours", "async", "async-aiohttp"),
    Variant("runpod Job.status()", "official", "sync", "sync"),
    Variant("runpod AsyncioJob.status()", "official", "async", "asyncio"),
    Variant("raw httpx.Client GET /status", "raw", "sync", "raw-sync"),
    Variant("raw httpx.AsyncClient GET /status", "raw", "async", "raw-async"),
)
PODS = (
    Variant("runpod-typed rp.pods.list() (sync)", "ours", "sync", "sync"),
    Variant("runpod-typed rp.pods.list() (async)", "ours", "async", "async"),
    Variant("runpod get_pods()", "official", "sync", "sync"),
    Variant("raw httpx POST of runpod-typed's Pods query", "raw", "sync", "raw-sync"),
)


def _rates(
    emulator: EmulatorProcess, op: str, variants: Sequence[Variant], calls: int, samples: int
) -> list[Row]:
    """Calls per second, one sample per round; the variants of a process alternate."""
    fields = {"calls": calls, "samples": 1}
    return [
        Row(
            v.label,
            v.role,
            v.mode,
            {"rate": median(result["rates"]), "cpu_us": median(result["cpu_us"])},
            detail=_spread(result["rates"]),
        )
        for v, result, _ in _run(emulator, op, variants, fields, rounds=samples)
    ]


def status(emulator: EmulatorProcess, sizes: Sizes) -> Table:
    """Back-to-back status calls on one connection, for a job that stays running."""
    rows = _rates(emulator, "status", STATUS, sizes.status_calls, sizes.call_samples)
    return Table(
        "status",
        "6. Per-call overhead: status calls per second on one connection",
        (CALLS_PER_S, CPU_PER_CALL),
        rows,
        [
            f"median of {sizes.call_samples} samples of {sizes.status_calls} calls, the "
            "variants of one process taking turns; "
            "raw httpx sends the same GET with the same headers and parses the JSON; client "
            "CPU is the process's user+system time over the calls (getrusage)"
        ],
    )


def pods(emulator: EmulatorProcess, sizes: Sizes) -> Table:
    """A typed list-pods call against the official get_pods(), on a few existing pods."""
    from runpod_typed import Runpod

    with Runpod(KEY, api_base_url=emulator.url, endpoint_base_url=f"{emulator.url}/v2") as rp:
        existing = len(rp.pods.list())
        for index in range(existing, 5):
            rp.pods.create(
                name=f"bench-{index}",
                image_name="runpod/base:0.6.2",
                gpu_type_id="NVIDIA GeForce RTX 4090",
            )
    rows = _rates(emulator, "pods", PODS, sizes.pods_calls, sizes.call_samples)
    return Table(
        "pods",
        "7. Control plane: list pods (5 pods), calls per second",
        (CALLS_PER_S,),
        rows,
        [
            f"median of {sizes.call_samples} samples of {sizes.pods_calls} calls; "
            "runpod.get_pods() opens a new connection per call (requests.post without a "
            "session), runpod-typed keeps one",
            "runpod-typed's Pods query asks for more fields than get_pods(), so the emulator "
            "does more work per call; the raw httpx row is that query without the SDK",
        ],
    )
