"""Handlers the emulator runs jobs with: built-ins, loading user handlers, progress reports.

A handler has the shape of a RunPod worker handler: ``handler(job)`` where
``job = {"id": str, "input": Any}``. It may be a plain function (run in a thread),
a coroutine function, a generator or an async generator (each yielded value is a
stream chunk and the job's output is the list of chunks), or return a generator.
Raising, or returning ``{"error": ...}``, fails the job with that message.

Built-ins, by name: ``echo``, ``sleep``, ``tokens``, ``fail`` and ``demo`` (see each).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

Handler = Callable[[dict[str, Any]], Any]

#: Where `progress_update` delivers values: job id -> the emulator's sink for that job.
_progress_sinks: dict[str, Callable[[Any], None]] = {}


def progress_update(job: Mapping[str, Any], progress: Any) -> None:
    """Report progress for a running job; `/status` shows it as `output` while IN_PROGRESS.

    Same call shape as the worker SDK's ``runpod.serverless.progress_update``; safe from
    sync handlers (threads) and async handlers alike. Outside a running job it does nothing.
    """
    sink = _progress_sinks.get(job["id"])
    if sink is not None:
        sink(progress)


def _input(job: Mapping[str, Any]) -> dict[str, Any]:
    value = job["input"]
    return value if isinstance(value, dict) else {}


def echo(job: dict[str, Any]) -> Any:
    """Return the input unchanged."""
    return job["input"]


async def sleep(job: dict[str, Any]) -> Any:
    """Sleep ``input.seconds``, then return ``input.output`` (default: the input)."""
    data = _input(job)
    await asyncio.sleep(float(data.get("seconds", 0)))
    return data.get("output", job["input"])


async def tokens(job: dict[str, Any]) -> AsyncIterator[str]:
    """Yield the words of ``input.prompt`` one by one, ``input.delay`` seconds apart."""
    data = _input(job)
    delay = float(data.get("delay", 0))
    for word in str(data.get("prompt", "")).split():
        if delay:
            await asyncio.sleep(delay)
        yield word


def fail(job: dict[str, Any]) -> Any:
    """Fail with ``input.message``."""
    raise RuntimeError(str(_input(job).get("message", "the fail handler always fails")))


async def _yield_all(chunks: list[Any]) -> AsyncIterator[Any]:
    for chunk in chunks:
        yield chunk


async def demo(job: dict[str, Any]) -> Any:
    """Combine the others by input keys, for demos and tests of the whole flow.

    ``sleep`` seconds (with ``progress`` messages reported evenly during it), then
    ``fail`` raises with its message, or ``tokens`` (a list) are streamed as chunks,
    or ``output`` is returned (default: the input itself).
    """
    data = _input(job)
    messages = list(data.get("progress") or [])
    step = float(data.get("sleep", 0)) / (len(messages) + 1)
    for message in messages:
        await asyncio.sleep(step)
        progress_update(job, message)
    await asyncio.sleep(step)
    if "fail" in data:
        raise RuntimeError(str(data["fail"]))
    if "tokens" in data:
        return _yield_all(list(data["tokens"]))
    return data.get("output", job["input"])


BUILTIN_HANDLERS: Mapping[str, Handler] = {
    "echo": echo,
    "sleep": sleep,
    "tokens": tokens,
    "fail": fail,
    "demo": demo,
}


def load_handler(spec: Handler | str) -> Handler:
    """A handler from a callable, a built-in name, or ``"package.module:function"``."""
    if not isinstance(spec, str):
        return spec
    if spec in BUILTIN_HANDLERS:
        return BUILTIN_HANDLERS[spec]
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(
            f"handler {spec!r} is neither a built-in ({', '.join(BUILTIN_HANDLERS)}) "
            "nor 'module:function'"
        )
    target: Any = importlib.import_module(module_name)
    for name in attribute.split("."):
        target = getattr(target, name)
    if not callable(target):
        raise ValueError(f"handler {spec!r} is not callable")
    handler: Handler = target
    return handler
