"""Pickling: every exception the SDK exports survives pickle, and a process pool.

A `ProcessPoolExecutor` worker that raises sends its exception back pickled; an
exception that cannot be rebuilt breaks the pool (`BrokenProcessPool`) instead
of reaching the caller. Each exception class exported by `runpod_typed` is made
with its own constructor (values chosen from its signature), pickled and
unpickled in this process, and raised in a spawned worker process.
"""

from __future__ import annotations

import inspect
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

import runpod_typed

from .recorder import Case, Results

SECTION = "pickling"
pytestmark = pytest.mark.reliability

EXCEPTIONS = sorted(
    (
        obj
        for name in runpod_typed.__all__
        if isinstance(obj := getattr(runpod_typed, name), type)
        and issubclass(obj, BaseException)
        and not issubclass(obj, Warning)
    ),
    key=lambda cls: cls.__name__,
)

_BY_NAME: dict[str, Any] = {
    "errors": [{"message": "boom", "path": ["pods"]}],
    "data": {"pods": None},
    "status_code": 503,
    "limit": 1024,
    "size": 2048,
    "delivered": 3,
    "retry_after": 1.5,
    "cancelled": True,
}


def _value(parameter: inspect.Parameter) -> Any:
    if parameter.name in _BY_NAME:
        return _BY_NAME[parameter.name]
    annotation = str(parameter.annotation)
    if "int" in annotation and "str" not in annotation:
        return 7
    if "Mapping" in annotation or "dict" in annotation:
        return {"k": "v"}
    if "Sequence" in annotation or "list" in annotation:
        return ["item"]
    return f"{parameter.name}-value"


def make(cls: type[BaseException]) -> BaseException:
    """An instance made with the class's own constructor, every parameter given."""
    signature = inspect.signature(cls.__init__)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for parameter in list(signature.parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = _value(parameter)
        else:
            args.append(_value(parameter) if parameter.name != "message" else "the message")
    if not args and "message" not in kwargs and "errors" not in kwargs:
        args = ["the message"]
    return cls(*args, **kwargs)


def _state(exc: BaseException) -> tuple[type, str, str]:
    return type(exc), str(exc), repr(sorted(vars(exc).items()))


def raise_one(name: str) -> None:
    """Runs in the worker process."""
    raise make(getattr(runpod_typed, name))


@pytest.fixture(scope="module")
def through_pool() -> dict[str, str]:
    """Class name -> what came back from a spawned worker that raised it."""
    outcome: dict[str, str] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        futures = {cls.__name__: pool.submit(raise_one, cls.__name__) for cls in EXCEPTIONS}
        for name, future in futures.items():
            try:
                future.result(timeout=60)
            except BaseException as exc:  # what came back, or the pool breaking
                same = _state(exc) == _state(make(getattr(runpod_typed, name)))
                outcome[name] = "same" if same else f"{type(exc).__name__}: {exc}"[:120]
            else:
                outcome[name] = "nothing raised"
    return outcome


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=[cls.__name__ for cls in EXCEPTIONS])
def test_exception_pickles(
    cls: type[BaseException], through_pool: dict[str, str], case: Case, results: Results
) -> None:
    """Made by its constructor: pickle round trip and a raising process-pool worker."""
    results.figure(SECTION, "exception classes exported", len(EXCEPTIONS))
    results.figure(
        SECTION,
        "rebuilt the same in this process / through a process pool",
        f"{sum(_same_here(c) for c in EXCEPTIONS)} / "
        f"{sum(v == 'same' for v in through_pool.values())}",
    )
    exc = make(cls)
    back = pickle.loads(pickle.dumps(exc))
    case.expected = "same type, message and attributes after pickle and after a process pool"
    case.observed = (
        f"pickle: {'same' if _state(back) == _state(exc) else 'differs'}; pool: "
        + (through_pool[cls.__name__])
    )
    assert _state(back) == _state(exc)
    assert through_pool[cls.__name__] == "same"


def _same_here(cls: type[BaseException]) -> bool:
    exc = make(cls)
    return _state(pickle.loads(pickle.dumps(exc))) == _state(exc)
