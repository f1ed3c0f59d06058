"""Every SDK exception survives pickling (a ProcessPoolExecutor worker may raise one)."""

from __future__ import annotations

import inspect
import pickle
from typing import Any

import pytest

import runpod_typed
from runpod_typed import _errors

#: A value for each constructor parameter name the exception classes use.
SAMPLES: dict[str, Any] = {
    "message": "what went wrong",
    "errors": [{"message": "Cannot query field 'x'", "path": ["pod"]}],
    "data": {"pod": None},
    "operation_name": "Pod",
    "status_code": 418,
    "body": '{"error": "teapot"}',
    "method": "POST",
    "url": "https://api.runpod.ai/v2/ep/run",
    "retry_after": 2.5,
    "job_id": "job-1",
    "endpoint_id": "ep",
    "status": {"status": "FAILED"},
    "error": "worker error",
    "delivered": 2,
    "output": ["a", "b"],
    "raw": {"unexpected": True},
    "cancelled": True,
    "size": 11,
    "limit": 10,
}

CLASSES = sorted(
    (
        cls
        for cls in vars(_errors).values()
        if inspect.isclass(cls) and issubclass(cls, _errors.RunpodError)
    ),
    key=lambda cls: cls.__name__,
)


def build(cls: type[_errors.RunpodError]) -> _errors.RunpodError:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, parameter in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        if parameter.kind is parameter.VAR_POSITIONAL:
            args.append(SAMPLES["message"])
        elif parameter.kind is parameter.VAR_KEYWORD:
            continue
        elif parameter.kind is parameter.POSITIONAL_ONLY or (
            parameter.kind is parameter.POSITIONAL_OR_KEYWORD and not kwargs and not args
        ):
            args.append(SAMPLES.get(name, f"sample {name}"))
        else:
            kwargs[name] = SAMPLES.get(name, f"sample {name}")
    return cls(*args, **kwargs)


def test_every_exception_class_is_covered() -> None:
    exported = {
        name
        for name in runpod_typed.__all__
        if inspect.isclass(getattr(runpod_typed, name))
        and issubclass(getattr(runpod_typed, name), _errors.RunpodError)
    }
    assert exported <= {cls.__name__ for cls in CLASSES}
    assert len(CLASSES) >= 20


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_exception_round_trips_through_pickle(cls: type[_errors.RunpodError]) -> None:
    error = build(cls)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)
