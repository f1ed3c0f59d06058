"""A local RunPod: GraphQL control plane and serverless job API, for tests and demos.

Run it with ``python -m runpod_typed.emulator`` (see ``--help``), in-process with
``Emulator(...).serve()``, or in pytest through the ``runpod_emulator`` fixture.
Names are imported on first use, so a handler module importing ``progress_update``
does not pull in the server.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from runpod_typed._errors import MissingExtraError

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


#: What the server imports that only the `emulator` extra installs.
SERVER_MODULES = frozenset({"ariadne", "graphql", "starlette", "uvicorn"})


@contextmanager
def server_imports(what: str = "The RunPod emulator") -> Iterator[None]:
    """Imports of the server inside: a server dependency missing is a `MissingExtraError`.

    Its message names the extra to install instead of a bare "No module named 'starlette'".
    """
    try:
        yield
    except ModuleNotFoundError as error:
        missing = (error.name or "").partition(".")[0]
        if missing not in SERVER_MODULES:
            raise
        raise MissingExtraError(
            f"{what} needs {missing!r}, which is not installed: it comes with the emulator "
            "extra, pip install 'runpod-typed[emulator]'",
            extra="emulator",
            name=missing,
        ) from error


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with server_imports():
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
