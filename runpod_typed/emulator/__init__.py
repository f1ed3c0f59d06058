"""A local RunPod: GraphQL control plane and serverless job API, for tests and demos.

Run it with ``python -m runpod_typed.emulator`` (see ``--help``), in-process with
``Emulator(...).serve()``, or in pytest through the ``runpod_emulator`` fixture.
Names are imported on first use, so a handler module importing ``progress_update``
does not pull in the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runpod_typed.emulator._counters import fingerprint
    from runpod_typed.emulator._emulator import Emulator, RunningEmulator
    from runpod_typed.emulator._faults import FaultSpec, RouteFaults
    from runpod_typed.emulator._ratelimit import RateLimit
    from runpod_typed.emulator._settings import JobSettings
    from runpod_typed.emulator.handlers import progress_update

__all__ = [
    "Emulator",
    "FaultSpec",
    "JobSettings",
    "RateLimit",
    "RouteFaults",
    "RunningEmulator",
    "fingerprint",
    "progress_update",
]

_MODULE_OF = {
    "Emulator": "_emulator",
    "RunningEmulator": "_emulator",
    "FaultSpec": "_faults",
    "RouteFaults": "_faults",
    "JobSettings": "_settings",
    "RateLimit": "_ratelimit",
    "fingerprint": "_counters",
    "progress_update": "handlers",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
