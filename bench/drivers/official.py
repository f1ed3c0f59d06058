"""Driver for the official `runpod` package, run by the interpreter of .official-venv.

    .official-venv/bin/python -m bench.drivers.official < tasks.json > results.json

It uses the package as its documentation shows: `Endpoint.run_sync`, `run` then
`output(timeout=...)`, `stream()`, `AsyncioEndpoint` on an aiohttp session, and
`get_pods()`. The base URLs come from RUNPOD_ENDPOINT_BASE_URL and
RUNPOD_API_BASE_URL, which the package reads.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from typing import Any

from bench.drivers.common import (
    Task,
    fanout,
    pooled,
    rates,
    rates_async,
    serve,
    since,
    stream_latencies,
    stream_latencies_async,
    threaded,
)

# Imported by name so that type checkers in our venv, where it is absent, leave it alone.
runpod: Any = importlib.import_module("runpod")
aiohttp: Any = importlib.import_module("aiohttp")

#: Long enough that a status-call job is still running when the calls end.
RUNNING_SECONDS = 3600
#: `output()` returns at once with timeout 0; a job must finish well within this.
OUTPUT_TIMEOUT = 600


def _endpoint(task: Task) -> Any:
    runpod.api_key = task["key"]
    return runpod.Endpoint(task["endpoint"])


def _session(concurrency: int) -> Any:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))


def latency_sync(task: Task, via_run: bool) -> dict[str, Any]:
    """One `Endpoint` (one requests session) per thread: sessions are not thread-safe."""
    local = threading.local()

    def one(seconds: float) -> float:
        if not hasattr(local, "endpoint"):
            local.endpoint = _endpoint(task)
        job_input = {"seconds": seconds}
        if via_run:
            output = local.endpoint.run(job_input).output(timeout=OUTPUT_TIMEOUT)
        else:
            output = local.endpoint.run_sync(job_input)
        return since(output, "finished_at")

    return {"latencies": threaded(one, task["durations"], task["concurrency"])}


def latency_asyncio(task: Task) -> dict[str, Any]:
    async def main() -> list[float]:
        runpod.api_key = task["key"]
        async with _session(task["concurrency"]) as session:
            endpoint = runpod.AsyncioEndpoint(task["endpoint"], session)

            async def one(seconds: float) -> float:
                job = await endpoint.run({"seconds": seconds})
                return since(await job.output(timeout=OUTPUT_TIMEOUT), "finished_at")

            return await pooled(one, task["durations"], task["concurrency"])

    return {"latencies": asyncio.run(main())}


def stream_sync(task: Task) -> dict[str, Any]:
    endpoint = _endpoint(task)
    latencies: list[float] = []
    for _ in range(task["jobs"]):
        job = endpoint.run({"chunks": task["chunks"], "interval": task["interval"]})
        latencies += stream_latencies(job.stream())
    return {"latencies": latencies}


def stream_asyncio(task: Task) -> dict[str, Any]:
    async def main() -> list[float]:
        runpod.api_key = task["key"]
        latencies: list[float] = []
        async with _session(1) as session:
            endpoint = runpod.AsyncioEndpoint(task["endpoint"], session)
            for _ in range(task["jobs"]):
                job = await endpoint.run({"chunks": task["chunks"], "interval": task["interval"]})
                latencies += await stream_latencies_async(job.stream())
        return latencies

    return {"latencies": asyncio.run(main())}


def fanout_asyncio(task: Task) -> dict[str, Any]:
    async def run_all(inputs: list[Any]) -> list[Any]:
        runpod.api_key = task["key"]
        async with _session(task["concurrency"]) as session:
            endpoint = runpod.AsyncioEndpoint(task["endpoint"], session)

            async def one(job_input: Any) -> Any:
                return await (await endpoint.run(job_input)).output(timeout=OUTPUT_TIMEOUT)

            return await pooled(one, inputs, task["concurrency"])

    return fanout(run_all, task["jobs"])


def status_sync(task: Task) -> dict[str, Any]:
    """`Job.status()` asks the server each time while the job is not final."""
    job = _endpoint(task).run({"seconds": RUNNING_SECONDS})
    try:
        return rates(job.status, task["calls"], task["samples"])
    finally:
        job.cancel()


def status_asyncio(task: Task) -> dict[str, Any]:
    async def main() -> dict[str, list[float]]:
        runpod.api_key = task["key"]
        async with _session(1) as session:
            job = await runpod.AsyncioEndpoint(task["endpoint"], session).run(
                {"seconds": RUNNING_SECONDS}
            )
            try:
                return await rates_async(job.status, task["calls"], task["samples"])
            finally:
                await job.cancel()

    return asyncio.run(main())


def pods_sync(task: Task) -> dict[str, Any]:
    runpod.api_key = task["key"]
    return rates(runpod.get_pods, task["calls"], task["samples"])


OPS = {
    "latency:sync-run_sync": lambda task: latency_sync(task, via_run=False),
    "latency:sync-run_output": lambda task: latency_sync(task, via_run=True),
    "latency:asyncio-run_output": latency_asyncio,
    "stream:sync": stream_sync,
    "stream:asyncio": stream_asyncio,
    "fanout:asyncio-run_output": fanout_asyncio,
    "status:sync": status_sync,
    "status:asyncio": status_asyncio,
    "pods:sync": pods_sync,
}

if __name__ == "__main__":
    serve(OPS)
