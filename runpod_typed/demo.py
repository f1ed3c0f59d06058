"""`make demo`: the SDK's main job in a few seconds, on the local emulator.

    python -m runpod_typed.demo            # emulator in-process: no key, no network
    LIVE=1 RUNPOD_ENDPOINT_ID=... python -m runpod_typed.demo   # real RunPod

On the emulator every step uses its built-in handlers (see
runpod_typed/emulator/handlers.py). With LIVE=1 the serverless steps send the
same inputs to RUNPOD_ENDPOINT_ID, whose worker decides what comes back; the
key comes from RUNPOD_API_KEY or ~/.runpod/config.toml. A live run creates a
pod (which costs money) only with LIVE_PODS=1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic

from runpod_typed import (
    AsyncRunpod,
    JobState,
    JobStatus,
    OutputValidationError,
    PollingOptions,
    Runpod,
    RunpodError,
    WaitTimeout,
)

#: Polling while someone watches progress: a status look every 0.1 s.
WATCH = PollingOptions(first_delay=0.1, backoff=1.0, max_delay=0.1, progress_interval=0.1)
STORY = "Once upon a time a tiny GPU streamed its first words to a patient terminal ."
MAP_JOBS = 100
THROWAWAY_KEY = "demo-key-for-the-local-emulator"


class Image(pydantic.BaseModel):
    """What an image worker might return; run_sync validates the output into it."""

    url: str
    width: int
    height: int
    seed: int


@dataclass(frozen=True)
class Target:
    """Where the demo runs: client settings and the endpoint ids each step uses."""

    client_options: dict[str, Any]
    endpoint_id: str
    tokens_endpoint_id: str
    live: bool
    create_pods: bool


# -- output helpers ----------------------------------------------------------------------------


def heading(number: int, title: str) -> None:
    print(f"\n{number}. {title}")


def line(text: str) -> None:
    print(f"   {text}")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows in aligned columns; numeric columns right-aligned, None as '-'."""
    cells = [[("-" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) for r in cells) for i in range(len(headers))]

    def fmt(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    line(fmt(headers))
    line(fmt(["-" * w for w in widths]))
    for row in cells:
        line(fmt(row))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return cell == "-"
    return True


def price(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


# -- the steps ---------------------------------------------------------------------------------


def typed_run_sync(rp: Runpod, target: Target) -> None:
    heading(1, "Typed run_sync (blocking client)")
    ep = rp.endpoint(target.endpoint_id)
    request = {
        "prompt": "a red fox in the snow",
        "output": {"url": "https://example.com/fox.png", "width": 768, "height": 512, "seed": 7},
    }
    start = time.perf_counter()
    image = ep.run_sync(request, output_type=Image)
    line(f"{image!r}  ({time.perf_counter() - start:.2f} s)")
    try:
        ep.run_sync({"output": {"url": "x", "width": "wide"}}, output_type=Image)
    except OutputValidationError as exc:
        line(f"a wrong shape raises OutputValidationError; raw output kept: {exc.raw}")


async def progress_and_stream(rp: AsyncRunpod, target: Target) -> None:
    heading(2, "Async job with live progress, then streamed tokens")
    ep = rp.endpoint(target.endpoint_id)
    steps = ["loading model", "denoising 50%", "denoising 100%"]
    job = await ep.run({"sleep": 1.0, "progress": steps, "output": "done"})
    start = time.perf_counter()

    def show(status: JobStatus) -> None:
        progress = status.output if status.state is JobState.IN_PROGRESS else ""
        line(f"{time.perf_counter() - start:5.2f} s  {status.state.value:<12} {progress or ''}")

    result = await job.output(on_status=show, polling=WATCH)
    line(f"output: {result!r}")
    tokens = await rp.endpoint(target.tokens_endpoint_id).run({"prompt": STORY, "delay": 0.03})
    print("   stream: ", end="", flush=True)
    async for word in tokens.stream(str):
        print(word, end=" ", flush=True)
    print()


async def cancellation(rp: AsyncRunpod, target: Target) -> None:
    heading(3, "Giving up cancels the remote job (the GPU is freed)")
    ep = rp.endpoint(target.endpoint_id)
    job = await ep.run({"sleep": 60})
    waiter = asyncio.create_task(job.output())
    await asyncio.sleep(0.5)
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiter
    line(f"task cancelled after 0.5 s    -> job {job.id}: {(await job.status()).state.value}")
    try:
        await ep.run_sync({"sleep": 60}, timeout=0.5)
    except WaitTimeout as exc:  # also a builtin TimeoutError
        state = (await ep.job(exc.job_id).status()).state.value if exc.job_id else "?"
        line(f"run_sync(timeout=0.5) raised  -> job {exc.job_id}: {state}")


async def fan_out(rp: AsyncRunpod, target: Target) -> None:
    heading(4, f"map over {MAP_JOBS} jobs, 20 at a time, with per-item errors")
    inputs: list[dict[str, Any]] = [
        {"sleep": 0.05 * (1 + i % 4), "output": i * i} for i in range(MAP_JOBS)
    ]
    for bad in (13, 42, 77):
        inputs[bad] = {"fail": f"item {bad} is malformed"}
    start = time.perf_counter()
    results = await rp.endpoint(target.endpoint_id).map(
        inputs, output_type=int, concurrency=20, return_exceptions=True, progress_bar=True
    )
    took = time.perf_counter() - start
    failed = [(i, r) for i, r in enumerate(results) if isinstance(r, RunpodError)]
    ok = [r for r in results if not isinstance(r, RunpodError)]
    line(f"{len(ok)} ok, {len(failed)} failed in {took:.1f} s; results in input order")
    line(f"results[:6] = {ok[:6]}")
    for index, error in failed[:3]:
        line(f"item {index:>2}: {type(error).__name__}: {getattr(error, 'error', error)}")
    if len(failed) > 3:
        line(f"... and {len(failed) - 3} more")


def control_plane(rp: Runpod, target: Target) -> None:
    heading(5, "Control plane: GPU types, and a pod's life")
    gpus = rp.graphql.gpu_types().gpu_types or []
    offered = sorted(
        (g for g in gpus if g is not None and (g.secure_price or g.community_price)),
        key=lambda g: min(p for p in (g.secure_price, g.community_price) if p),
    )
    shown = offered[:8]
    table(
        ["GPU", "VRAM GB", "secure $/h", "community $/h", "spot $/h", "stock"],
        [
            [
                g.display_name,
                g.memory_in_gb,
                price(g.secure_price),
                price(g.community_price),
                price(g.community_spot_price or g.secure_spot_price),
                g.lowest_price.stock_status if g.lowest_price else None,
            ]
            for g in shown
        ],
    )
    if len(offered) > len(shown):
        line(f"... and {len(offered) - len(shown)} more")
    if not target.live:
        line("(the emulator's catalogue: illustrative prices, not RunPod's)")
    if not target.create_pods:
        line("pod tour skipped: set LIVE_PODS=1 to create a real pod (it costs money)")
        return
    # An on-demand pod is created in the secure cloud unless told otherwise.
    secure = [g for g in offered if g.secure_price] or offered
    in_stock = [g for g in secure if g.lowest_price and g.lowest_price.stock_status]
    gpu = (in_stock or secure)[0]

    def step(verb: str, pod_id: str, state: str) -> None:
        line(f"{verb:<10} pod {pod_id}: {state}")

    pod = rp.pods.create(
        name="runpod-typed-demo",
        image_name="runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04",
        gpu_type_id=gpu.id,
        container_disk_in_gb=20,
        env={"HELLO": "world"},
    )
    step("created", pod.id, f"{pod.status.value} on {gpu.display_name}")
    pod = rp.pods.wait_until_running(pod.id, polling=WATCH, timeout=600)
    step("running", pod.id, f"{pod.status.value} at ${pod.cost:.2f}/h")
    rp.pods.stop(pod.id)
    pod = rp.pods.wait_until_stopped(pod.id, polling=WATCH, timeout=600)
    step("stopped", pod.id, pod.status.value)
    rp.pods.terminate(pod.id)
    try:
        state = rp.pods.get(pod.id).status.value
    except LookupError:  # RunPod may forget a terminated pod at once
        state = "gone"
    step("terminated", pod.id, state)


class Steps:
    """Counts failed steps: a RunPod error ends its own step only (a live worker may differ)."""

    def __init__(self) -> None:
        self.failed: int = 0

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        try:
            yield
        except RunpodError as exc:
            self.failed += 1
            line(f"step failed: {type(exc).__name__}: {exc}")


async def async_steps(target: Target, steps: Steps) -> None:
    async with AsyncRunpod(**target.client_options) as rp:
        for step in (progress_and_stream, cancellation, fan_out):
            with steps.guard():
                await step(rp, target)


def run(target: Target) -> int:
    """Run every step; returns how many failed."""
    steps = Steps()
    with Runpod(**target.client_options) as rp, steps.guard():
        typed_run_sync(rp, target)
    asyncio.run(async_steps(target, steps))
    with Runpod(**target.client_options) as rp, steps.guard():
        control_plane(rp, target)
    return steps.failed


# -- entry point -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runpod_typed.demo", description=__doc__)
    parser.add_argument(
        "--live",
        action="store_true",
        default=_flag("LIVE"),
        help="run against real RunPod (default: LIVE env var)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.live:
        endpoint_id = os.environ.get("RUNPOD_ENDPOINT_ID", "")
        if not endpoint_id:
            print("LIVE=1 needs RUNPOD_ENDPOINT_ID (and RUNPOD_API_KEY)", file=sys.stderr)
            return 2
        print(f"runpod-typed demo against real RunPod, endpoint {endpoint_id}")
        target = Target({}, endpoint_id, endpoint_id, live=True, create_pods=_flag("LIVE_PODS"))
        failed = run(target)
    else:
        from runpod_typed.emulator import Emulator

        with Emulator(workers=32).serve() as server:
            print(f"runpod-typed demo on the emulator at {server.url} (no key, no network)")
            options = {
                "api_key": THROWAWAY_KEY,
                "api_base_url": server.url,
                "endpoint_base_url": server.endpoint_base_url,
            }
            failed = run(Target(options, "demo", "tokens", live=False, create_pods=True))
    outcome = f"{failed} step(s) failed" if failed else "done"
    print(f"\n{outcome} in {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


if __name__ == "__main__":
    sys.exit(main())
