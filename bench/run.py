"""Run the benchmarks: `python -m bench.run --out bench/results.md`, or `--quick`.

`--quick` uses tiny sizes to keep the harness alive in `make test` (no timing is
judged there): it renders the report and the plot into a temporary directory
and exits 0 if every scenario ran.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import scenarios
from bench.emulator import emulator
from bench.peers import official_versions
from bench.plot import plot_latency
from bench.report import Table, document, render, render_targets
from bench.targets import evaluate

#: Workers per endpoint: enough that no job of the fan-out waits in the queue.
WORKERS = 256
PLOT_NAME = "latency.png"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(sizes: scenarios.Sizes) -> list[tuple[str, str]]:
    official = official_versions()
    ours = {name: importlib.metadata.version(name) for name in ("httpx", "httpcore", "anyio")}
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    now = datetime.datetime.now(datetime.timezone.utc)
    return [
        ("date", now.strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", f"{_cpu_model()}, {os.cpu_count()} cores, {platform.system()}"),
        ("load average at start (1, 5, 15 min)", load),
        (
            "runpod-typed",
            f"{importlib.metadata.version('runpod-typed')} on Python "
            f"{platform.python_version()}; httpx {ours['httpx']}, httpcore {ours['httpcore']}, "
            f"anyio {ours['anyio']}",
        ),
        (
            "runpod (official)",
            f"{official['runpod']} on Python {official['python']}; "
            f"requests {official['requests']}, aiohttp {official['aiohttp']}",
        ),
        ("sizes", f"{'quick' if sizes is scenarios.QUICK else 'full'}: {sizes}"),
    ]


Scenario = Callable[[], "Table | tuple[Table, ...]"]


def _timed(scenario: Scenario) -> list[Table]:
    """Run one scenario; print its tables as soon as it is done, with the time it took."""
    started = time.monotonic()
    result = scenario()
    tables = list(result) if isinstance(result, tuple) else [result]
    for table in tables:
        print(render(table), flush=True)
    print(f"({time.monotonic() - started:.1f} s)\n", flush=True)
    return tables


def run(sizes: scenarios.Sizes, out: Path) -> None:
    """Every scenario in order; writes `out` and the plot beside it."""
    started = time.monotonic()
    about = environment(sizes)
    tables = _timed(lambda: scenarios.imports(sizes))
    tables += _timed(lambda: scenarios.cold_start(sizes))
    with emulator(WORKERS, scenarios.stream_endpoints()) as emu:
        rtt_ms = scenarios.round_trip_ms(emu, sizes.rtt_samples)
        steps: list[Scenario] = [
            lambda: scenarios.latency(emu, sizes, rtt_ms),
            lambda: scenarios.stream(emu, sizes),
            lambda: scenarios.fanout(emu, sizes),
            lambda: scenarios.status(emu, sizes),
            lambda: scenarios.pods(emu, sizes),
        ]
        for step in steps:
            tables += _timed(step)
    by_key = {table.key: table for table in tables}
    targets = evaluate(by_key, rtt_ms, sizes.fanout_jobs)
    print(render_targets(targets))
    about.append(("run time", f"{time.monotonic() - started:.0f} s"))
    out.write_text(document(about, tables, targets, PLOT_NAME))
    plot_latency(by_key["latency"], by_key["stream"], out.parent / PLOT_NAME)
    print(f"wrote {out} and {out.parent / PLOT_NAME}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench/results.md"))
    parser.add_argument("--quick", action="store_true", help="tiny sizes; writes nothing")
    args = parser.parse_args(argv)
    if args.quick:
        with tempfile.TemporaryDirectory() as scratch:
            run(scenarios.QUICK, Path(scratch) / "results.md")
    else:
        run(scenarios.FULL, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
