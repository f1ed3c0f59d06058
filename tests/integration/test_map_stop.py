"""The blocking map stops like the async one: first failure or Ctrl-C cancels what runs."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from runpod_typed import JobFailed, PollingOptions, Runpod


@pytest.fixture
def rp(runpod_emulator: Any) -> Iterator[Runpod]:
    with Runpod(
        "test-key",
        api_base_url=runpod_emulator.url,
        endpoint_base_url=runpod_emulator.endpoint_base_url,
        polling=PollingOptions(first_delay=0.05, max_delay=0.2),
    ) as client:
        yield client


def settled(rp: Runpod, endpoint_id: str) -> tuple[int, int]:
    """(in progress, in queue) once the emulator has taken in the cancels (bounded wait)."""
    for _ in range(100):
        jobs = rp.endpoint(endpoint_id).health().jobs
        if jobs.in_progress == 0 and jobs.in_queue == 0:
            break
        time.sleep(0.02)
    return jobs.in_progress, jobs.in_queue


def test_first_failure_cancels_the_running_jobs_and_starts_no_more(
    rp: Runpod, runpod_emulator: Any
) -> None:
    inputs = [{"sleep": 30}, {"sleep": 30}, {"sleep": 0.3, "fail": "bad row"}] + [{"sleep": 30}] * 9
    with pytest.raises(JobFailed, match="bad row"):
        rp.endpoint("map-fail").map(inputs, concurrency=3)
    counters = runpod_emulator.counters()["requests"]
    assert counters["run"] == 3  # the nine items after the failure never started
    assert counters["cancel"] == 2  # both jobs still running were cancelled on RunPod
    assert settled(rp, "map-fail") == (0, 0)


def test_ctrl_c_cancels_the_running_jobs(rp: Runpod, runpod_emulator: Any) -> None:
    timer = threading.Timer(0.8, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            rp.endpoint("map-ctrl-c").map([{"sleep": 30}] * 12, concurrency=4)
    finally:
        timer.cancel()
    counters = runpod_emulator.counters()["requests"]
    assert counters["run"] == 4
    assert counters["cancel"] == 4
    assert settled(rp, "map-ctrl-c") == (0, 0)


def test_without_remote_cancellation_a_failure_cancels_nothing(
    rp: Runpod, runpod_emulator: Any
) -> None:
    inputs = [{"sleep": 0.5}, {"fail": "bad row"}, {"sleep": 0.5}]
    with pytest.raises(JobFailed):
        rp.endpoint("map-keep").map(inputs, concurrency=3, cancel_on_exit=False)
    assert runpod_emulator.counters()["requests"].get("cancel", 0) == 0
