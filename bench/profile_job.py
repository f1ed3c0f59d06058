"""Where a fan-out job's client CPU goes: cProfile around `AsyncRunpod endpoint.map`.

    python -m bench.profile_job [--jobs 2000] [--concurrency 200] [--http httpx|aiohttp] [--top 25]

Runs the map against the emulator (its own process, loopback, rate limits off)
and prints the functions with the most time of their own (tottime), then the
same ranked by cumulative time restricted to runpod_typed's modules.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.emulator import KEY, ROOT, emulator


async def _map(url: str, jobs: int, concurrency: int, http: str, profile: cProfile.Profile) -> None:
    from runpod_typed import AsyncRunpod

    options: dict[str, Any] = {
        "api_base_url": url,
        "endpoint_base_url": f"{url}/v2",
        "rate_limits": False,
    }
    async with contextlib.AsyncExitStack() as stack:
        if http == "aiohttp":
            from runpod_typed import AioHttpClient

            options["http_client"] = await stack.enter_async_context(AioHttpClient())
        rp = await stack.enter_async_context(AsyncRunpod(KEY, **options))
        endpoint = rp.endpoint("profile-job")
        await endpoint.map([{"warm": i} for i in range(concurrency)], concurrency=concurrency)
        inputs = [{"i": i} for i in range(jobs)]
        profile.enable()
        outputs = await endpoint.map(inputs, concurrency=concurrency)
        profile.disable()
    if outputs != inputs:
        raise RuntimeError("outputs do not match the inputs")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_job", description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--http", choices=("httpx", "aiohttp"), default="httpx")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    # CPU time, not wall time: a loaded machine must not inflate what waits on a socket.
    profile = cProfile.Profile(time.process_time)
    with emulator(256) as emu:
        asyncio.run(_map(emu.url, args.jobs, args.concurrency, args.http, profile))
    for order, restrict in (("tottime", ()), ("cumulative", ("runpod_typed/_",))):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats(order)
        stats.print_stats(*restrict, args.top)
        print(out.getvalue().replace(sys.prefix, "").replace(ROOT + "/", ""))
    total = pstats.Stats(profile).total_tt  # type: ignore[attr-defined]
    print(f"profiled CPU (with cProfile's overhead): {total * 1000 / args.jobs:.3f} ms/job")
    return 0


if __name__ == "__main__":
    sys.exit(main())
