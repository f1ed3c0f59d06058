"""Driver for runpod-typed (and raw httpx, the floor under any httpx client), in our venv.

    python -m bench.drivers.ours < tasks.json > results.json

Client-side rate limiting is off, as it is on the emulator, so that both
libraries are measured on the same unthrottled path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx

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
from runpod_typed import AsyncRunpod, Runpod
from runpod_typed._transport import USER_AGENT

#: Long enough that a status-call job is still running when the calls end.
RUNNING_SECONDS = 3600


def _options(task: Task) -> dict[str, Any]:
    return {
        "api_base_url": task["url"],
        "endpoint_base_url": f"{task['url']}/v2",
        "rate_limits": False,
    }


@asynccontextmanager
async def _async_client(task: Task, stack: str) -> AsyncIterator[AsyncRunpod]:
    """AsyncRunpod on its default HTTP stack (httpx), or over an AioHttpClient."""
    if stack == "httpx":
        async with AsyncRunpod(task["key"], **_options(task)) as rp:
            yield rp
        return
    from runpod_typed import AioHttpClient

    async with (
        AioHttpClient() as http,
        AsyncRunpod(task["key"], http_client=http, **_options(task)) as rp,
    ):
        yield rp


def _raw_headers(task: Task) -> dict[str, str]:
    """What runpod-typed sends on a GET, so the raw client does the same work on the wire."""
    return {"Authorization": f"Bearer {task['key']}", "User-Agent": USER_AGENT}


def latency_sync(task: Task, via_run: bool) -> dict[str, Any]:
    with Runpod(task["key"], **_options(task)) as rp:
        endpoint = rp.endpoint(task["endpoint"])

        def one(seconds: float) -> float:
            job_input = {"seconds": seconds}
            output = endpoint.run(job_input).output() if via_run else endpoint.run_sync(job_input)
            return since(output, "finished_at")

        return {"latencies": threaded(one, task["durations"], task["concurrency"])}


def latency_async(task: Task, via_run: bool, stack: str = "httpx") -> dict[str, Any]:
    async def main() -> list[float]:
        async with _async_client(task, stack) as rp:
            endpoint = rp.endpoint(task["endpoint"])

            async def one(seconds: float) -> float:
                job_input = {"seconds": seconds}
                if via_run:
                    output = await (await endpoint.run(job_input)).output()
                else:
                    output = await endpoint.run_sync(job_input)
                return since(output, "finished_at")

            return await pooled(one, task["durations"], task["concurrency"])

    return {"latencies": asyncio.run(main())}


def latency_raw(task: Task) -> dict[str, Any]:
    """One POST /runsync?wait= per job: the fewest requests and the least client work."""
    url = f"{task['url']}/v2/{task['endpoint']}/runsync"
    with httpx.Client(headers=_raw_headers(task), timeout=120) as http:

        def one(seconds: float) -> float:
            answer = http.post(url, params={"wait": "60000"}, json={"input": {"seconds": seconds}})
            return since(answer.json()["output"], "finished_at")

        return {"latencies": threaded(one, task["durations"], task["concurrency"])}


def stream_sync(task: Task) -> dict[str, Any]:
    latencies: list[float] = []
    with Runpod(task["key"], **_options(task)) as rp:
        endpoint = rp.endpoint(task["endpoint"])
        for _ in range(task["jobs"]):
            job = endpoint.run({"chunks": task["chunks"], "interval": task["interval"]})
            latencies += stream_latencies(job.stream())
    return {"latencies": latencies}


def stream_async(task: Task, stack: str = "httpx") -> dict[str, Any]:
    async def main() -> list[float]:
        latencies: list[float] = []
        async with _async_client(task, stack) as rp:
            endpoint = rp.endpoint(task["endpoint"])
            for _ in range(task["jobs"]):
                job = await endpoint.run({"chunks": task["chunks"], "interval": task["interval"]})
                latencies += await stream_latencies_async(job.stream())
        return latencies

    return {"latencies": asyncio.run(main())}


def fanout_map(task: Task, cancel_on_exit: bool, stack: str = "httpx") -> dict[str, Any]:
    async def run_all(inputs: list[Any]) -> list[Any]:
        async with _async_client(task, stack) as rp:
            endpoint = rp.endpoint(task["endpoint"])
            return await endpoint.map(
                inputs, concurrency=task["concurrency"], cancel_on_exit=cancel_on_exit
            )

    return fanout(run_all, task["jobs"])


def fanout_raw(task: Task) -> dict[str, Any]:
    url = f"{task['url']}/v2/{task['endpoint']}/runsync"
    limits = httpx.Limits(max_connections=task["concurrency"])

    async def run_all(inputs: list[Any]) -> list[Any]:
        async with httpx.AsyncClient(
            headers=_raw_headers(task), limits=limits, timeout=120
        ) as http:

            async def one(job_input: Any) -> Any:
                answer = await http.post(url, params={"wait": "60000"}, json={"input": job_input})
                return answer.json()["output"]

            return await pooled(one, inputs, task["concurrency"])

    return fanout(run_all, task["jobs"])


def status_sync(task: Task, raw: bool) -> dict[str, Any]:
    with Runpod(task["key"], **_options(task)) as rp:
        job = rp.endpoint(task["endpoint"]).run({"seconds": RUNNING_SECONDS})
        try:
            if not raw:
                return rates(job.status, task["calls"], task["samples"])
            url = f"{task['url']}/v2/{task['endpoint']}/status/{job.id}"
            with httpx.Client(headers=_raw_headers(task)) as http:

                def call() -> object:
                    return http.get(url).raise_for_status().json()

                return rates(call, task["calls"], task["samples"])
        finally:
            job.cancel()


def status_async(task: Task, raw: bool, stack: str = "httpx") -> dict[str, Any]:
    async def main() -> dict[str, list[float]]:
        async with _async_client(task, stack) as rp:
            job = await rp.endpoint(task["endpoint"]).run({"seconds": RUNNING_SECONDS})
            try:
                if not raw:
                    return await rates_async(job.status, task["calls"], task["samples"])
                url = f"{task['url']}/v2/{task['endpoint']}/status/{job.id}"
                async with httpx.AsyncClient(headers=_raw_headers(task)) as http:

                    async def call() -> object:
                        return (await http.get(url)).raise_for_status().json()

                    return await rates_async(call, task["calls"], task["samples"])
            finally:
                await job.cancel()

    return asyncio.run(main())


class _Caught(Exception):
    """Stops a generated-client call once its payload is in hand."""


def _pods_document() -> dict[str, Any]:
    """The GraphQL payload runpod-typed sends for `rp.pods.list()`, caught before sending."""
    from runpod_typed._generated.graphql.client import RunpodGraphQLClient

    caught: list[dict[str, Any]] = []

    def send(payload: dict[str, Any]) -> dict[str, Any]:
        caught.append(payload)
        raise _Caught

    with suppress(_Caught):
        RunpodGraphQLClient(send=send).pods()
    return caught[0]


def pods_raw(task: Task) -> dict[str, Any]:
    """The same document posted with httpx and parsed as JSON: the emulator's share of a call."""
    url, document = f"{task['url']}/graphql", _pods_document()
    with httpx.Client(headers=_raw_headers(task)) as http:

        def call() -> object:
            return http.post(url, json=document).raise_for_status().json()

        return rates(call, task["calls"], task["samples"])


def pods_sync(task: Task) -> dict[str, Any]:
    with Runpod(task["key"], **_options(task)) as rp:
        return rates(rp.pods.list, task["calls"], task["samples"])


def pods_async(task: Task) -> dict[str, Any]:
    async def main() -> dict[str, list[float]]:
        async with AsyncRunpod(task["key"], **_options(task)) as rp:
            return await rates_async(rp.pods.list, task["calls"], task["samples"])

    return asyncio.run(main())


OPS = {
    "latency:sync-run_sync": lambda task: latency_sync(task, via_run=False),
    "latency:sync-run_output": lambda task: latency_sync(task, via_run=True),
    "latency:async-run_sync": lambda task: latency_async(task, via_run=False),
    "latency:async-run_output": lambda task: latency_async(task, via_run=True),
    "latency:async-run_output-aiohttp": lambda task: latency_async(task, True, "aiohttp"),
    "latency:raw-runsync": latency_raw,
    "stream:sync": stream_sync,
    "stream:async": stream_async,
    "stream:async-aiohttp": lambda task: stream_async(task, "aiohttp"),
    "fanout:async-map": lambda task: fanout_map(task, cancel_on_exit=True),
    "fanout:async-map-runsync": lambda task: fanout_map(task, cancel_on_exit=False),
    "fanout:async-map-aiohttp": lambda task: fanout_map(task, True, "aiohttp"),
    "fanout:raw-async": fanout_raw,
    "status:sync": lambda task: status_sync(task, raw=False),
    "status:async": lambda task: status_async(task, raw=False),
    "status:async-aiohttp": lambda task: status_async(task, False, "aiohttp"),
    "status:raw-sync": lambda task: status_sync(task, raw=True),
    "status:raw-async": lambda task: status_async(task, raw=True),
    "pods:sync": pods_sync,
    "pods:async": pods_async,
    "pods:raw-sync": pods_raw,
}

if __name__ == "__main__":
    serve(OPS)
