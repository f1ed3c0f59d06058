"""Handlers the emulator runs in-process: their configuration, loading, built-ins, progress.

A handler has the shape of a RunPod worker handler: ``handler(job)`` where
``job = {"id": str, "input": Any}``, a plain function, a coroutine function, a
generator function or an async generator function. The emulator runs it with the
official worker runtime's semantics (see _runtime.py): what it returns, raises or
yields becomes the job's output, error and stream exactly as RunPod's runtime makes
them. Like the runtime, only generator *functions* stream; a generator's final
output is ``[]`` unless its configuration sets ``return_aggregate_stream``.

A handler is given as (see `load_handler`):

- a callable;
- a mapping shaped like the config of ``runpod.serverless.start``:
  ``{"handler": f, "return_aggregate_stream": True, "concurrency_modifier": g}``;
- a `HandlerConfig`;
- a string: a built-in name (``echo``, ``sleep``, ``tokens``, ``fail``, ``demo``),
  ``"package.module:function"``, ``"package.module"`` (the handler the module passes to
  ``runpod.serverless.start`` when imported), or a worker file
  ``"path/handler.py[:function] [ARGS...]"`` (run as ``python handler.py ARGS`` runs
  it: as ``__main__``, with ``sys.argv`` set to the file and ARGS, its folder on
  ``sys.path``). A module that calls ``runpod.serverless.start(config)`` while it is
  loaded has the call captured: the config is used, nothing starts, nothing exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import itertools
import shlex
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

Handler = Callable[[dict[str, Any]], Any]

#: Where `progress_update` delivers values: job id -> the emulator's sink for that job.
_progress_sinks: dict[str, Callable[[Any], None]] = {}


def progress_update(job: Mapping[str, Any], progress: Any) -> None:
    """Report progress for a running job; `/status` shows it as `output` while IN_PROGRESS.

    Same call shape as the worker SDK's ``runpod.serverless.progress_update`` (which
    also works in-process when the `runpod` package is installed); safe from sync
    handlers (threads) and async handlers alike. Outside a running job it does nothing.
    """
    deliver_progress(job, progress)


def deliver_progress(job: Mapping[str, Any], progress: Any) -> bool:
    """Hand `progress` to the emulator if `job` runs in-process here; False if not."""
    try:
        sink = _progress_sinks.get(job["id"])
    except (KeyError, TypeError):
        return False
    if sink is None:
        return False
    sink(progress)
    return True


# ---------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class HandlerConfig:
    """An in-process handler and the options a worker passes to ``runpod.serverless.start``.

    Attributes:
        handler: the handler function.
        return_aggregate_stream: a generator's final output is the list of its chunks
            (RunPod's default, False, makes it ``[]``).
        concurrency_modifier: ``f(current) -> int``, jobs one worker runs at once; the
            emulator calls it once, with 1, when the endpoint starts.
        refresh_worker: restart the worker after every job (the start config's key).
        official_runtime: shape results with the `runpod` package's own functions when
            it is importable (False: the emulator's copy of them, as for built-ins).
        source: what the handler was loaded from, when the emulator can load it again
            (a worker restart, e.g. after ``refresh_worker``, re-imports it).
    """

    handler: Handler
    return_aggregate_stream: bool = False
    concurrency_modifier: Callable[[int], int] | None = None
    refresh_worker: bool = False
    official_runtime: bool = True
    source: HandlerSource | None = field(default=None, compare=False)

    @classmethod
    def from_start_config(
        cls, config: Mapping[str, Any], *, source: HandlerSource | None = None
    ) -> HandlerConfig:
        """From a ``runpod.serverless.start`` config (other keys are ignored, as the
        runtime ignores what it does not use)."""
        handler = config.get("handler")
        if not callable(handler):
            raise ValueError("the worker config has no callable 'handler'")
        modifier = config.get("concurrency_modifier")
        return cls(
            handler=handler,
            return_aggregate_stream=bool(config.get("return_aggregate_stream", False)),
            concurrency_modifier=modifier if callable(modifier) else None,
            refresh_worker=bool(config.get("refresh_worker", False)),
            source=source,
        )

    def concurrency(self) -> int:
        """Jobs one worker runs at once (the runtime starts at 1 and asks the modifier)."""
        if self.concurrency_modifier is None:
            return 1
        try:
            wanted = int(self.concurrency_modifier(1))
        except Exception:  # the runtime would crash its loop; here: one at a time
            return 1
        return max(1, min(wanted, 1000))

    def reloaded(self) -> HandlerConfig:
        """The handler loaded anew (module state reset), keeping options set from outside;
        itself if it cannot be reloaded (a callable given directly)."""
        if self.source is None:
            return self
        fresh = self.source.load(fresh=True)
        if self.return_aggregate_stream and not fresh.return_aggregate_stream:
            fresh = replace(fresh, return_aggregate_stream=True)
        return fresh


# ---------------------------------------------------------------------------- loading

_LOAD_LOCK = threading.RLock()
_FILE_MODULES = itertools.count(1)


class HandlerLoadError(ValueError):
    """A handler spec that could not be loaded; the message says why and what to do."""


@dataclass(frozen=True)
class HandlerSource:
    """Where a handler comes from: a module (by name) or a worker file, and which function
    (None: the one the module passes to ``runpod.serverless.start``)."""

    spec: str
    module: str | None = None
    file: Path | None = None
    args: tuple[str, ...] = ()
    function: str | None = None

    def load(self, *, fresh: bool = False) -> HandlerConfig:
        """Import the module or run the file, capturing ``runpod.serverless.start``;
        `fresh`: import a module again even if it was imported (a worker restart)."""
        from runpod_typed.emulator import _runtime

        _runtime.install_hooks()
        with _LOAD_LOCK, _runtime.capturing_start() as started, self._loading():
            module = self._import(fresh)
            if not started and self.function is None and not fresh and self.file is None:
                module = self._import(True)  # imported before: run it again to see start()
        config = started[-1] if started else None
        if self.function is None:
            if config is None:
                raise HandlerLoadError(
                    f"handler {self.spec!r}: the module did not call "
                    "runpod.serverless.start({'handler': ...}) when loaded; name the "
                    f"function instead, e.g. '{self.spec}:handler'"
                )
            return HandlerConfig.from_start_config(config, source=self)
        target: Any = module
        for name in self.function.split("."):
            try:
                target = getattr(target, name)
            except AttributeError:
                raise HandlerLoadError(f"handler {self.spec!r}: no attribute {name!r}") from None
        if not callable(target):
            raise HandlerLoadError(f"handler {self.spec!r} is not callable")
        if config is not None and config.get("handler") is target:
            return HandlerConfig.from_start_config(config, source=self)
        return HandlerConfig(handler=target, source=self)

    @contextlib.contextmanager
    def _loading(self) -> Iterator[None]:
        """Turn what loading a worker can do to the emulator into a load error."""
        try:
            yield
        except HandlerLoadError:
            raise
        except ModuleNotFoundError as exc:
            if self.module is not None and exc.name == self.module:
                raise HandlerLoadError(
                    f"handler {self.spec!r} is neither a built-in "
                    f"({', '.join(BUILTIN_HANDLERS)}), an importable module "
                    "('module[:function]') nor a worker file ('path/handler.py'): "
                    f"no module named {exc.name!r}"
                ) from exc
            if exc.name is not None and (exc.name == "runpod" or exc.name.startswith("runpod.")):
                raise HandlerLoadError(
                    f"handler {self.spec!r} imports the runpod package, which this "
                    f"interpreter ({sys.executable}) does not have: install it here "
                    "(pip install runpod), or run the file as a worker process "
                    "(--worker FILE --worker-python PYTHON, with a PYTHON that has it)"
                ) from exc
            raise HandlerLoadError(f"handler {self.spec!r}: {exc}") from exc
        except SystemExit as exc:
            raise HandlerLoadError(
                f"handler {self.spec!r} exited (SystemExit {exc.code!r}) while it was "
                "loaded; a worker must not exit at import"
            ) from None
        except Exception as exc:
            raise HandlerLoadError(
                f"handler {self.spec!r} raised while it was loaded: {type(exc).__name__}: {exc}"
            ) from exc

    def _import(self, fresh: bool) -> ModuleType:
        if self.file is None:
            assert self.module is not None
            argv = sys.argv
            sys.argv = [self.module]
            try:
                already = sys.modules.get(self.module)
                if already is not None and fresh:
                    return importlib.reload(already)
                return importlib.import_module(self.module)
            finally:
                sys.argv = argv
        return _exec_file(self.file, self.args)


def _exec_file(path: Path, args: tuple[str, ...]) -> ModuleType:
    """Run a worker file as ``python FILE ARGS`` would (as ``__main__``), in a fresh module."""
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # for its sibling imports, also later, from the handler
    key = f"__runpod_worker_{next(_FILE_MODULES)}__"
    spec = importlib.util.spec_from_file_location("__main__", path)
    if spec is None or spec.loader is None:
        raise HandlerLoadError(f"cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    argv, main = sys.argv, sys.modules.get("__main__")
    sys.argv = [str(path), *args]
    sys.modules[key] = module
    sys.modules["__main__"] = module  # classes defined at import resolve their names here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(key, None)
        raise
    finally:
        sys.argv = argv
        if main is not None:
            sys.modules["__main__"] = main
    return module


def parse_handler_spec(spec: str) -> HandlerSource:
    """A string spec that is not a built-in name -> where to load it from."""
    text = spec.strip()
    if not text:
        raise HandlerLoadError("empty handler spec")
    parts = shlex.split(text)
    first = parts[0]
    path_text, function = first, None
    if ".py:" in first:
        path_text, _, function = first.rpartition(":")
    if path_text.endswith(".py"):
        path = Path(path_text).expanduser().resolve()
        if not path.is_file():
            raise HandlerLoadError(f"handler file {path_text!r} does not exist")
        return HandlerSource(spec, file=path, args=tuple(parts[1:]), function=function or None)
    if len(parts) > 1:
        raise HandlerLoadError(
            f"handler {spec!r}: arguments are only for worker files (path/handler.py ARGS)"
        )
    module, sep, attribute = first.partition(":")
    if not module or (sep and not attribute):
        raise HandlerLoadError(
            f"handler {spec!r} is neither a built-in ({', '.join(BUILTIN_HANDLERS)}), "
            "'module:function', 'module' nor 'path/handler.py'"
        )
    return HandlerSource(spec, module=module, function=attribute or None)


HandlerSpec = Handler | str | Mapping[str, Any] | HandlerConfig
"""What `load_handler` accepts."""


def load_handler(spec: HandlerSpec) -> HandlerConfig:
    """A `HandlerConfig` from a callable, a start-config mapping, a built-in name, or a
    ``module[:function]`` / ``path/handler.py[:function] [ARGS]`` string."""
    if isinstance(spec, HandlerConfig):
        return spec
    if isinstance(spec, Mapping):
        return HandlerConfig.from_start_config(spec)
    if not isinstance(spec, str):
        if not callable(spec):
            raise HandlerLoadError(f"handler {spec!r} is not callable")
        return HandlerConfig(handler=spec)
    if spec in BUILTIN_CONFIGS:
        return BUILTIN_CONFIGS[spec]
    return parse_handler_spec(spec).load()


# ---------------------------------------------------------------------------- built-ins


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
    """Yield the words of ``input.prompt`` one by one, ``input.delay`` seconds apart.

    Served with ``return_aggregate_stream`` (as RunPod's vLLM worker is): the final
    output is the list of words."""
    data = _input(job)
    delay = float(data.get("delay", 0))
    for word in str(data.get("prompt", "")).split():
        if delay:
            await asyncio.sleep(delay)
        yield word


def fail(job: dict[str, Any]) -> Any:
    """Fail with ``input.message``, by returning ``{"error": message}`` (the job's error
    is then that message; an exception would give the runtime's JSON error string)."""
    return {"error": str(_input(job).get("message", "the fail handler always fails"))}


async def demo(job: dict[str, Any]) -> Any:
    """Combine the others by input keys, for demos and tests of the whole flow.

    ``sleep`` seconds (with ``progress`` messages reported evenly during it), then
    ``fail`` fails the job with its message (``{"error": ...}``), or ``output`` is
    returned (default: the input itself). (For a stream, use the ``tokens`` built-in: as on RunPod, only a generator
    function streams.)
    """
    data = _input(job)
    messages = list(data.get("progress") or [])
    step = float(data.get("sleep", 0)) / (len(messages) + 1)
    for message in messages:
        await asyncio.sleep(step)
        progress_update(job, message)
    await asyncio.sleep(step)
    if "fail" in data:
        return {"error": str(data["fail"])}
    return data.get("output", job["input"])


BUILTIN_HANDLERS: Mapping[str, Handler] = {
    "echo": echo,
    "sleep": sleep,
    "tokens": tokens,
    "fail": fail,
    "demo": demo,
}

#: The built-ins as served: the emulator's own result shaping (no runtime log lines),
#: and `tokens` aggregating its stream.
BUILTIN_CONFIGS: Mapping[str, HandlerConfig] = {
    name: HandlerConfig(
        handler=function, return_aggregate_stream=name == "tokens", official_runtime=False
    )
    for name, function in BUILTIN_HANDLERS.items()
}
