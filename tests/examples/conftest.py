"""Fixtures for the examples' tests (helpers live in examples_support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from examples_support import load_example

from runpod_typed.emulator import Emulator, RunningEmulator


@pytest.fixture(scope="module")
def examples_emulator() -> Iterator[RunningEmulator]:
    """One emulator for the examples: my_worker.py as `summarizer`, the built-ins besides."""
    worker: Any = load_example("my_worker")
    emulator = Emulator(
        handlers={"summarizer": worker.handler, "tokens": "tokens", "fail": "fail"},
        default_handler="demo",
        rate_limits=False,
        pod_transition_seconds=0.05,
    )
    with emulator.serve() as server:
        yield server
