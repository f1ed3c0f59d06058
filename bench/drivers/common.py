"""Plumbing shared by the driver processes of both virtualenvs (standard library only).

A driver reads a JSON list of tasks on stdin, runs them one after another and
prints a JSON list of results. The official package's interpreter imports this
module too, so it may use nothing but the standard library.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
Task = dict[str, Any]
Op = Callable[[Task], dict[str, Any]]


def serve(ops: Mapping[str, Op]) -> None:
    """Run each task of stdin with the op named `op:variant`; print the results."""
    tasks: list[Task] = json.load(sys.stdin)
    results = [ops[f"{task['op']}:{task['variant']}"](task) for task in tasks]
    json.dump(results, sys.stdout)


def usage() -> tuple[float, float]:
    """(CPU seconds, peak RSS in MB) of this process so far (Linux reports KB)."""
    self = resource.getrusage(resource.RUSAGE_SELF)
    return self.ru_utime + self.ru_stime, self.ru_maxrss / 1024


def since(output: Mapping[str, Any], key: str) -> float:
    """Seconds from the server's timestamp `key` in `output` to now."""
    return time.time() - float(output[key])


def threaded(fn: Callable[[T], R], items: Sequence[T], concurrency: int) -> list[R]:
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(fn, items))


async def pooled(fn: Callable[[T], Awaitable[R]], items: Sequence[T], concurrency: int) -> list[R]:
    """`concurrency` tasks pulling from one iterator: the cheapest bounded fan-out in asyncio."""
    results: list[Any] = [None] * len(items)
    pending: Iterator[tuple[int, T]] = iter(enumerate(items))

    async def worker() -> None:
        for index, item in pending:
            results[index] = await fn(item)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(items)))))
    return results


def stream_latencies(chunks: Iterable[Any]) -> list[float]:
    return [since(chunk, "produced_at") for chunk in chunks]


async def stream_latencies_async(chunks: Any) -> list[float]:
    return [since(chunk, "produced_at") async for chunk in chunks]


def _cpu_seconds() -> float:
    self = resource.getrusage(resource.RUSAGE_SELF)
    return self.ru_utime + self.ru_stime


def rates(call: Callable[[], object], calls: int, samples: int) -> dict[str, list[float]]:
    """Calls per second and client CPU microseconds per call, one figure of each per
    sample, after one warm-up call. (On a loaded machine the CPU figure is the steadier.)"""
    call()
    figures: dict[str, list[float]] = {"rates": [], "cpu_us": []}
    for _ in range(samples):
        cpu, started = _cpu_seconds(), time.perf_counter()
        for _ in range(calls):
            call()
        _record(figures, calls, time.perf_counter() - started, _cpu_seconds() - cpu)
    return figures


async def rates_async(
    call: Callable[[], Awaitable[object]], calls: int, samples: int
) -> dict[str, list[float]]:
    await call()
    figures: dict[str, list[float]] = {"rates": [], "cpu_us": []}
    for _ in range(samples):
        cpu, started = _cpu_seconds(), time.perf_counter()
        for _ in range(calls):
            await call()
        _record(figures, calls, time.perf_counter() - started, _cpu_seconds() - cpu)
    return figures


def _record(figures: dict[str, list[float]], calls: int, wall: float, cpu: float) -> None:
    figures["rates"].append(calls / wall)
    figures["cpu_us"].append(cpu * 1e6 / calls)


def fanout(
    run_all: Callable[[list[Any]], Coroutine[Any, Any, list[Any]]], jobs: int
) -> dict[str, Any]:
    """Wall time, CPU seconds and peak RSS of one fan-out; checks every output came back."""
    inputs = [{"i": index} for index in range(jobs)]
    cpu_before, _ = usage()
    started = time.perf_counter()
    outputs = asyncio.run(run_all(inputs))
    wall = time.perf_counter() - started
    cpu_after, rss_mb = usage()
    if outputs != inputs:
        raise RuntimeError("fan-out outputs do not match the inputs")
    return {"wall": wall, "cpu": cpu_after - cpu_before, "rss_mb": rss_mb}
