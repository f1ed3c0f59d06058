"""The benchmark harness's arithmetic: percentiles, ratios, target verdicts, rendering.

No timing is measured here; `make bench-quick` runs the scenarios themselves.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from bench.drivers.common import pooled
from bench.report import Metric, Row, Table, advantage, render
from bench.stats import median, percentile
from bench.targets import evaluate

LOWER = Metric("p50", "p50 ms", 1, lower_is_better=True)
HIGHER = Metric("rate", "calls/s", 0, lower_is_better=False)


def test_percentile_interpolates_between_samples() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0, 1.0, 3.0], 0) == 1.0
    assert percentile([5.0, 1.0, 3.0], 100) == 5.0
    assert percentile([7.0], 95) == 7.0
    assert median([3.0, 1.0, 2.0]) == 2.0


def test_statistics_refuse_no_samples() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        median([])


def test_advantage_is_above_one_when_ours_is_better() -> None:
    assert advantage(LOWER, ours=2.0, peer=10.0) == 5.0
    assert advantage(LOWER, ours=10.0, peer=2.0) == 0.2
    assert advantage(HIGHER, ours=300.0, peer=100.0) == 3.0
    assert advantage(LOWER, ours=0.0, peer=1.0) == math.inf


def test_best_peer_prefers_the_same_mode_for_raw_rows() -> None:
    table = Table(
        "status",
        "status",
        (HIGHER,),
        [
            Row("ours async", "ours", "async", {"rate": 100.0}),
            Row("raw sync", "raw", "sync", {"rate": 900.0}),
            Row("raw async", "raw", "async", {"rate": 120.0}),
            Row("official a", "official", "sync", {"rate": 50.0}),
            Row("official b", "official", "async", {"rate": 80.0}),
        ],
    )
    raw = table.best("raw", HIGHER, mode="async")
    official = table.best("official", HIGHER)
    assert raw is not None and raw.label == "raw async"
    assert official is not None and official.label == "official b"
    text = render(table)
    assert "| ours async | calls/s | official b: 80 | 1.25x | raw async: 120 | 0.83x |" in text


def _tables(
    *, ours_p50: float, official_p50: float, requests: float, cold_ms: float = 110.0
) -> dict[str, Table]:
    def table(key: str, metrics: tuple[Metric, ...], rows: list[Row]) -> Table:
        return Table(key, key, metrics, rows)

    median_ms = Metric("median", "median ms", 1, lower_is_better=True)
    p50 = Metric("p50", "p50", 1, lower_is_better=True)
    return {
        "imports": table(
            "imports",
            (median_ms,),
            [
                Row("ours", "ours", "sync", {"median": 100.0}),
                Row("runpod", "official", "sync", {"median": 600.0}),
            ],
        ),
        "latency": table(
            "latency",
            (p50,),
            [
                Row("ours", "ours", "sync", {"p50": ours_p50}),
                Row("runpod Endpoint.run_sync", "official", "sync", {"p50": official_p50}),
                Row("runpod Endpoint.run + output", "official", "sync", {"p50": 600.0}),
            ],
        ),
        "requests": table(
            "requests",
            (Metric("requests", "requests/job", 2, lower_is_better=True),),
            [Row("ours", "ours", "sync", {"requests": requests})],
        ),
        "stream": table("stream", (p50,), [Row("ours", "ours", "sync", {"p50": 3.0})]),
        "fanout": table(
            "fanout",
            (Metric("cpu_ms", "cpu", 3, lower_is_better=True),),
            [
                Row("ours over AioHttpClient", "ours", "async", {"cpu_ms": 0.4, "rss": 90.0}),
                Row("runpod AsyncioEndpoint", "official", "async", {"cpu_ms": 1.0, "rss": 70.0}),
            ],
        ),
        "status": table(
            "status",
            (HIGHER,),
            [
                Row("ours", "ours", "sync", {"rate": 1000.0, "cpu_us": 1050.0}),
                Row("ours async", "ours", "async", {"rate": 900.0, "cpu_us": 900.0}),
                Row("raw httpx.Client", "raw", "sync", {"rate": 1050.0, "cpu_us": 1000.0}),
                Row("runpod AsyncioJob.status()", "official", "async", {"rate": 800.0}),
            ],
        ),
        "coldstart": table(
            "coldstart",
            (median_ms,),
            [
                Row("ours", "ours", "sync", {"median": cold_ms}),
                Row("floor", "raw", "sync", {"median": 100.0}),
            ],
        ),
    }


def test_targets_are_judged_from_the_figures() -> None:
    verdicts = evaluate(
        _tables(ours_p50=2.0, official_p50=50.0, requests=2.0), rtt_ms=1.0, fanout_jobs=10
    )
    assert [target.met for target in verdicts] == [True] * len(verdicts)
    assert len(verdicts) == 11


def test_targets_not_met_are_reported_as_such() -> None:
    verdicts = evaluate(
        _tables(ours_p50=30.0, official_p50=40.0, requests=3.0, cold_ms=120.0),
        rtt_ms=1.0,
        fanout_jobs=10,
    )
    missed = {target.goal for target in verdicts if not target.met}
    assert missed == {
        "completion notice p50 within 20 ms of one loopback round trip",
        "completion notice p50 at least 20x lower than the official package",
        "at most 2 requests per job under the long-poll window",
        "cold start to a client within 1.15x of the floor (httpx + pydantic + httpx.Client)",
    }


def test_pooled_keeps_input_order_and_bounds_concurrency() -> None:
    running = 0
    peak = 0

    async def work(item: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        running -= 1
        return item * 2

    assert asyncio.run(pooled(work, list(range(20)), 3)) == [item * 2 for item in range(20)]
    assert peak <= 3
