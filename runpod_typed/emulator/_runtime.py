"""The official worker runtime's semantics for in-process handlers.

RunPod's runtime (``runpod.serverless``, in the worker) turns what a handler returns,
raises or yields into the result it posts. Where the `runpod` package is importable,
its own functions do that here too: ``rp_job.run_job`` (a returned dict loses
``error`` and ``refresh_worker``; ``{}`` is dropped; an exception becomes the JSON
error string with error_type, error_message, error_traceback, hostname, worker_id,
runpod_version), ``rp_job.run_job_generator`` (each chunk; a raising generator's
error string) and ``rp_handler.is_generator`` (generator *functions* stream, a plain
function returning a generator does not). The loop over the chunks (an ``{"error":
...}`` chunk stops the stream and fails the job; ``return_aggregate_stream``) is
``rp_job.handle_job``'s, which also posts over HTTP and so is restated here. Without
the package, `emulated_run_job` and `emulated_run_job_generator` restate runpod
1.12.0's code (tests compare the two).

The runtime's result is a dict as it would post it: ``{"output": ...}``,
``{"error": ...}`` (maybe beside an output), ``"stopPod": True`` for a restart, or
``{}`` (completed, no output).

Also here, for in-process handlers that use the package:
``runpod.serverless.progress_update`` is redirected to the emulator while a job runs
here; the debugger's checkpoints (``rp_debugger``) are cleared after each job, as the
runtime does; and `capturing_start` turns a worker module's call of
``runpod.serverless.start(config)`` into a captured config.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import inspect
import json
import os
import sys
import threading
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from runpod_typed.emulator import handlers
from runpod_typed.emulator.handlers import Handler, HandlerConfig

#: The runpod release whose runtime the emulated functions restate.
RUNTIME_VERSION = "1.12.0"
#: ``runpod_version`` in the error of an emulated runtime (no package installed).
EMULATED_VERSION = f"{RUNTIME_VERSION} (emulated by runpod-typed: runpod is not installed)"

_LOCK = threading.Lock()


@dataclass(frozen=True)
class Official:
    """The parts of the installed runtime the emulator calls."""

    run_job: Callable[[Handler, dict[str, Any]], Any]
    run_job_generator: Callable[[Handler, dict[str, Any]], AsyncIterator[dict[str, Any]]]
    is_generator: Callable[[Handler], bool]
    version: str


_official: Official | None = None
_official_checked = False


def available() -> bool:
    """Whether the `runpod` package can be imported here (without importing it)."""
    if "runpod" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("runpod") is not None
    except (ImportError, ValueError):
        return False


def official() -> Official | None:
    """The installed runtime's functions, or None without the package (imported once;
    it takes a second or so: call it off the serving loop the first time)."""
    global _official, _official_checked
    with _LOCK:
        if _official_checked:
            return _official
        _official_checked = True
        if not available():
            return None
        try:
            rp_job: Any = importlib.import_module("runpod.serverless.modules.rp_job")
            rp_handler: Any = importlib.import_module("runpod.serverless.modules.rp_handler")
            version: Any = importlib.import_module("runpod.version")
        except Exception:  # a broken install: the emulated runtime instead
            return None
        _official = Official(
            run_job=rp_job.run_job,
            run_job_generator=rp_job.run_job_generator,
            is_generator=rp_handler.is_generator,
            version=str(version.__version__),
        )
    install_hooks()
    return _official


def _serverless() -> ModuleType | None:
    if not available():
        return None
    try:
        return importlib.import_module("runpod.serverless")
    except Exception:
        return None


# ---------------------------------------------------------------------------- hooks

_hooks_installed = False


def install_hooks() -> None:
    """Send ``runpod.serverless.progress_update`` of in-process jobs to the emulator
    (other calls go on as before). Idempotent; nothing without the package."""
    global _hooks_installed
    if _hooks_installed:
        return
    serverless = _serverless()
    if serverless is None:
        return
    with _LOCK:
        if _hooks_installed:
            return
        _hooks_installed = True
        try:
            progress: Any = importlib.import_module("runpod.serverless.modules.rp_progress")
        except Exception:
            return
        original_update = progress.progress_update
        original_target = progress._thread_target

        def progress_update(job: dict[str, Any], value: Any) -> None:
            if not handlers.deliver_progress(job, value):
                original_update(job, value)

        def thread_target(job: dict[str, Any], value: Any) -> None:
            # Reached by a progress_update bound before the hook (from ... import).
            if not handlers.deliver_progress(job, value):
                original_target(job, value)

        progress.progress_update = progress_update
        progress._thread_target = thread_target
        serverless_module: Any = serverless
        serverless_module.progress_update = progress_update


@contextlib.contextmanager
def capturing_start() -> Iterator[list[dict[str, Any]]]:
    """While in the block, ``runpod.serverless.start(config)`` records its config in the
    yielded list and returns: a worker module loaded in-process neither serves nor
    exits. (Without the package there is nothing to capture.)"""
    captured: list[dict[str, Any]] = []
    serverless: Any = _serverless()
    if serverless is None:
        yield captured
        return
    original = serverless.start

    def start(config: dict[str, Any]) -> None:
        captured.append(config)

    serverless.start = start
    try:
        yield captured
    finally:
        serverless.start = original


def clear_debugger() -> None:
    """Clear ``rp_debugger``'s checkpoints, as the runtime does after every job."""
    debugger: Any = sys.modules.get("runpod.serverless.utils.rp_debugger")
    if debugger is not None:
        with contextlib.suppress(Exception):
            debugger.clear_debugger_output()


# ---------------------------------------------------------------------------- the emulated runtime


async def emulated_run_job(handler: Handler, job: dict[str, Any]) -> dict[str, Any]:
    """runpod 1.12.0's ``rp_job.run_job``, restated (without its log lines)."""
    run_result: dict[str, Any] = {}
    try:
        handler_return = handler(job)
        job_output = await handler_return if inspect.isawaitable(handler_return) else handler_return
        if isinstance(job_output, dict):
            error_msg = job_output.pop("error", None)
            refresh_worker = job_output.pop("refresh_worker", None)
            run_result["output"] = job_output
            if error_msg:
                run_result["error"] = error_msg
            if refresh_worker:
                run_result["stopPod"] = True
        else:
            run_result = {"output": job_output}
        if run_result.get("output") == {}:
            run_result.pop("output")
    except Exception as err:
        error_info = {
            "error_type": str(type(err)),
            "error_message": str(err),
            "error_traceback": traceback.format_exc(),
            "hostname": os.environ.get("RUNPOD_POD_HOSTNAME", "unknown"),
            "worker_id": os.environ.get("RUNPOD_POD_ID", "unknown"),
            "runpod_version": EMULATED_VERSION,
        }
        run_result = {"error": json.dumps(error_info)}
    return run_result


async def emulated_run_job_generator(
    handler: Handler, job: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """runpod 1.12.0's ``rp_job.run_job_generator``, restated."""
    try:
        job_output = handler(job)
        if inspect.isasyncgenfunction(handler):
            async for output_partial in job_output:
                yield {"output": output_partial}
        else:
            for output_partial in job_output:
                yield {"output": output_partial}
    except Exception as err:
        yield {"error": f"handler: {err!s} \ntraceback: {traceback.format_exc()}"}


def emulated_is_generator(handler: Handler) -> bool:
    return inspect.isgeneratorfunction(handler) or inspect.isasyncgenfunction(handler)


# ---------------------------------------------------------------------------- running a job


def runtime_for(config: HandlerConfig) -> Official | None:
    """The installed runtime if this handler is to use it and it is already loaded."""
    return _official if config.official_runtime else None


async def prepare(config: HandlerConfig) -> None:
    """Load the installed runtime (off the loop) before the handler's first job."""
    if config.official_runtime and not _official_checked:
        await asyncio.to_thread(official)


def is_generator(config: HandlerConfig) -> bool:
    runtime = runtime_for(config)
    return (runtime.is_generator if runtime else emulated_is_generator)(config.handler)


class HandlerCrashed(Exception):
    """The handler raised what ends a worker process (SystemExit, KeyboardInterrupt...)."""


def crashed(exc: BaseException, worker_id: str) -> HandlerCrashed:
    if isinstance(exc, SystemExit):
        code = exc.code
        status = 0 if code is None else code if isinstance(code, int) else 1
        what = f"exited with code {status}"
    else:
        what = f"was ended by {type(exc).__name__}"
    return HandlerCrashed(
        f"worker {worker_id} {what} while running this job (in-process: the handler raised "
        f"{type(exc).__name__}; on RunPod the worker process ends and is restarted)"
    )


async def run_job(config: HandlerConfig, job: dict[str, Any], worker_id: str) -> dict[str, Any]:
    """A non-generator handler's result, as the runtime shapes it."""
    runtime = runtime_for(config)
    if runtime is not None:
        result: dict[str, Any] = await runtime.run_job(config.handler, job)
    else:
        result = await emulated_run_job(config.handler, job)
    return _finish(result, config, worker_id)


async def run_stream(
    config: HandlerConfig,
    job: dict[str, Any],
    worker_id: str,
    on_chunk: Callable[[Any], None],
    stopped: Callable[[], bool] = lambda: False,
) -> dict[str, Any]:
    """A generator handler's result; each chunk goes to `on_chunk` as it comes (the loop
    of the runtime's ``handle_job``). Ends early, without a result worth keeping, once
    `stopped()` is true."""
    runtime = runtime_for(config)
    if runtime is not None:
        chunks = runtime.run_job_generator(config.handler, job)
    else:
        chunks = emulated_run_job_generator(config.handler, job)
    job_result: dict[str, Any] = {"output": []}
    async with contextlib.aclosing(chunks):  # type: ignore[type-var]
        async for item in chunks:
            stream_output = item
            output = stream_output.get("output")
            if isinstance(output, dict) and output.get("error"):
                stream_output = {"error": str(output["error"])}
            if stream_output.get("error"):
                job_result = stream_output
                break
            if stopped():
                break
            if config.return_aggregate_stream:
                job_result["output"].append(stream_output["output"])
            on_chunk(stream_output["output"])
    return _finish(job_result, config, worker_id)


def call_sync(
    config: HandlerConfig,
    job: dict[str, Any],
    worker_id: str,
    on_chunk: Callable[[Any], None],
    stopped: Callable[[], bool],
) -> dict[str, Any]:
    """Run a sync handler (plain function or generator function) in this thread, with
    an event loop of its own for the runtime's coroutines, as the runtime would."""

    async def main() -> dict[str, Any]:
        if is_generator(config):
            return await run_stream(config, job, worker_id, on_chunk, stopped)
        return await run_job(config, job, worker_id)

    try:
        return asyncio.run(main())
    except Exception:
        raise
    except BaseException as exc:
        raise crashed(exc, worker_id) from None


def _finish(result: dict[str, Any], config: HandlerConfig, worker_id: str) -> dict[str, Any]:
    if config.refresh_worker:
        result["stopPod"] = True
    error = result.get("error")
    if isinstance(error, str) and error.startswith("{"):
        result["error"] = _name_worker(error, worker_id)
    return result


def _name_worker(error: str, worker_id: str) -> str:
    """Fill the worker's name into the runtime's JSON error where the emulator's process
    has none (a RunPod worker's environment always names it)."""
    try:
        info = json.loads(error)
    except ValueError:
        return error
    if not isinstance(info, dict) or "worker_id" not in info:
        return error
    changed = False
    for key in ("hostname", "worker_id"):
        if info.get(key) == "unknown":
            info[key] = worker_id
            changed = True
    return json.dumps(info) if changed else error
