"""pytest fixtures that start the RunPod emulator on a free loopback port.

- ``runpod_emulator``: a fresh emulator per test (rate limits off, short pod
  transitions); the value is a `RunningEmulator` with ``.url``, ``.graphql_url``,
  ``.endpoint_base_url`` and test helpers (``.counters()``, ``.set_faults()``, ...).
- ``runpod_emulator_factory``: call it with `Emulator` keyword arguments to start one
  with other options; every emulator it started stops when the test ends. Real worker
  files run the same way, e.g. ``runpod_emulator_factory(worker_files={"mock":
  "handler.py"}, worker_python=".venv-worker/bin/python", workers=1)`` (their processes
  stop with the emulator).

Registered as a pytest plugin by the package, so users' test suites get them too.
The server modules are imported only when a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from runpod_typed.emulator._emulator import RunningEmulator

#: Defaults of the fixtures (each may be overridden through the factory).
FIXTURE_DEFAULTS: dict[str, Any] = {"rate_limits": False, "pod_transition_seconds": 0.05}


@pytest.fixture
def runpod_emulator_factory() -> Iterator[Callable[..., RunningEmulator]]:
    """Start emulators with given `Emulator` options, on free loopback ports."""
    # Only here, when a test uses the fixture: the plugin loads in every pytest run of a
    # project that installs runpod-typed, with or without the emulator extra.
    from runpod_typed.emulator import server_imports

    with server_imports("The runpod_emulator fixture"):
        from runpod_typed.emulator._emulator import Emulator

    with ExitStack() as stack:

        def start(**options: Any) -> RunningEmulator:
            emulator = Emulator(**{**FIXTURE_DEFAULTS, **options})
            return stack.enter_context(emulator.serve())

        yield start


@pytest.fixture
def runpod_emulator(
    runpod_emulator_factory: Callable[..., RunningEmulator],
) -> RunningEmulator:
    """A fresh emulator for this test, on a free loopback port."""
    return runpod_emulator_factory()
