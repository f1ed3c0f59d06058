"""Client CPU per request of the async HTTP stacks the SDK can sit on.

    python -m bench.http_cpu [--requests 3000] [--concurrency 50] [--rounds 3]

`GET /health` on the emulator (its own process, loopback) from `--concurrency`
tasks, `--requests` in all, each stack in a fresh process per round (imports and
connection set-up are outside the measured window: one warm-up request per task
first). Client CPU = the process's user+system time around the requests.

Stacks: httpx with its default transport, httpx over runpod-typed's sharded pools
(`_pool.py`), httpx over the `httpx-aiohttp` transport, aiohttp alone, and
runpod-typed's own aiohttp sender (`_aiohttp.py`) executing the same `Send`
effects the SDK's flows yield. A stack whose package is not installed is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence

from bench.emulator import KEY, emulator
from bench.stats import median

STACKS = ("httpx", "httpx+pool", "httpx+httpx-aiohttp", "aiohttp", "runpod-typed aiohttp sender")
HEADERS = {"Authorization": f"Bearer {KEY}", "Accept": "application/json"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _load(get: Callable[[], Awaitable[object]], requests: int, concurrency: int) -> float:
    """CPU seconds per request of `requests` calls of `get` from `concurrency` tasks."""
    await asyncio.gather(*(get() for _ in range(concurrency)))  # open the connections
    left = iter(range(requests))

    async def worker() -> None:
        for _ in left:
            await get()

    before = _cpu()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (_cpu() - before) / requests


async def _measure(stack: str, url: str, requests: int, concurrency: int) -> float:
    import httpx

    limits = httpx.Limits(max_connections=concurrency * 2)
    if stack == "aiohttp":
        import aiohttp

        async with aiohttp.ClientSession(headers=HEADERS) as session:

            async def get_aiohttp() -> object:
                async with session.get(url) as response:
                    response.raise_for_status()
                    return await response.read()

            return await _load(get_aiohttp, requests, concurrency)
    if stack == "runpod-typed aiohttp sender":
        from runpod_typed._aiohttp import AioHttpClient
        from runpod_typed._flow import Send

        sender = AioHttpClient()
        send = Send("GET", url, HEADERS, timeout=30.0)
        try:

            async def get_sender() -> object:
                return await sender.exchange(send, 30.0)

            return await _load(get_sender, requests, concurrency)
        finally:
            await sender.aclose()
    transport: httpx.AsyncBaseTransport
    if stack == "httpx":
        transport = httpx.AsyncHTTPTransport(limits=limits)
    elif stack == "httpx+pool":
        from runpod_typed._pool import ShardedAsyncTransport

        transport = ShardedAsyncTransport(limits)
    elif stack == "httpx+httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=limits)
    else:
        raise ValueError(stack)
    async with httpx.AsyncClient(transport=transport, headers=HEADERS) as http:

        async def get_httpx() -> object:
            return (await http.get(url)).raise_for_status().content

        return await _load(get_httpx, requests, concurrency)


def _available(stack: str) -> bool:
    import importlib.util

    needs = {"httpx+httpx-aiohttp": "httpx_aiohttp", "aiohttp": "aiohttp"}
    needs["runpod-typed aiohttp sender"] = "aiohttp"
    module = needs.get(stack)
    return module is None or importlib.util.find_spec(module) is not None


def child(stack: str, url: str, requests: int, concurrency: int) -> None:
    print(json.dumps(asyncio.run(_measure(stack, url, requests, concurrency))))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_cpu", description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stacks", nargs="*", default=list(STACKS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        url, stack = args.child.split(" ", 1)
        child(stack, url, args.requests, args.concurrency)
        return 0
    stacks = [stack for stack in args.stacks if _available(stack)]
    figures: dict[str, list[float]] = {stack: [] for stack in stacks}
    with emulator(1) as emu:
        url = f"{emu.url}/v2/http-cpu/health"
        for _ in range(args.rounds):
            for stack in stacks:  # interleaved: a change of machine load hits all alike
                command = [
                    sys.executable,
                    "-m",
                    "bench.http_cpu",
                    "--child",
                    f"{url} {stack}",
                    "--requests",
                    str(args.requests),
                    "--concurrency",
                    str(args.concurrency),
                ]
                out = subprocess.run(command, capture_output=True, text=True, check=True)
                figures[stack].append(float(out.stdout) * 1000)
    print(f"GET /health, {args.requests} requests, concurrency {args.concurrency}")
    print("| stack | client CPU ms/request (median) | rounds |")
    print("|---|---|---|")
    for stack, values in figures.items():
        spread = ", ".join(f"{value:.3f}" for value in values)
        print(f"| {stack} | {median(values):.3f} | {spread} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
