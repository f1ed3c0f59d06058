"""Base of the generated REST v2 operation layer: `RestFlows`, `RestApi`, `AsyncRestApi`.

codegen/generate.py copies this file into generated/rest/ (as flow_base.py), next to
flows.py, which codegen/rest-v2-templates/client.py.jinja renders from RunPod's v2
description. Each operation of `RestFlows` is a generator -- a *flow* -- that
builds a `RestRequest` (method and path from its `Operation` in the table that
codegen/rest_v2.py renders into operations.py; path parameters quoted, query
encoded, JSON body from the request model's `to_dict`), `yield from`s the caller's
`send` flow and parses the 2xx answer into the response model; the two
server-sent-event operations `yield from` the caller's `stream` flow instead, which
hands out typed events. No HTTP here: the caller's flows own the key,
retries, error mapping and the connection, so the same operations run under a
blocking or an async driver (`RestApi`, `AsyncRestApi`).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

#: The effects the caller's flows yield (the operation layer only passes them on).
Effect = TypeVar("Effect")
T = TypeVar("T")


@dataclass(frozen=True)
class Operation:
    """One operation of the v2 description (the table is generated into operations.py).

    `path` is the template below the API root (``/v2/pods/{id}``) with the
    description's parameter names; `query` the query parameters' wire names; `body`
    the request body's schema (None: no body); `success` the 2xx statuses it
    answers; an `idempotent` request may be resent after it may have reached RunPod
    (GET, PUT, DELETE by HTTP semantics; never POST or PATCH); a `stream` answers
    with server-sent events.
    """

    id: str
    method: str
    path: str
    tag: str
    path_params: tuple[str, ...]
    query: tuple[str, ...]
    body: str | None
    success: tuple[int, ...]
    idempotent: bool
    stream: bool


@dataclass(frozen=True)
class RestRequest:
    """One request of the v2 API, ready to send: `path` is below the API root
    (``/v2/pods/abc``), `params` the encoded query, `body` the JSON value (None: no
    body), `headers` the operation's own header parameters (``Last-Event-ID``)."""

    operation: Operation
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.operation.method


class RestAnswer(Protocol):
    """What the caller's `send` flow returns: a 2xx answer (it raises for the others)."""

    @property
    def status_code(self) -> int: ...

    def json(self) -> Any: ...


#: `send` as a flow: sends the request, returns the 2xx answer, raises the caller's errors.
Send = Callable[[RestRequest], Generator[Effect, Any, RestAnswer]]
#: `stream` as a flow: opens the event stream and emits `parse(data)` for each event.
Stream = Callable[[RestRequest, Callable[[dict[str, Any]], Any]], Generator[Effect, Any, None]]
#: What to raise for an answer the models cannot read (the exception, or None: a 2xx
#: status the description does not list).
Invalid = Callable[[RestRequest, RestAnswer, Exception | None], Exception]


def query_value(value: object) -> str:
    """One query parameter as v2 reads it: booleans as JSON, arrays comma-separated
    (every array parameter of the description is `style: form, explode: false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return query_value(value.value)
    if isinstance(value, list | tuple):
        return ",".join(query_value(item) for item in value)
    return str(value)


def _default_invalid(request: RestRequest, answer: RestAnswer, exc: Exception | None) -> Exception:
    what = f"{request.method} {request.path} ({request.operation.id})"
    if exc is None:
        return ValueError(f"{what}: unexpected HTTP {answer.status_code}")
    return ValueError(f"{what}: the answer does not fit the models: {exc}")


class RestFlowsBase(Generic[Effect]):
    """Builds requests from the operation table and parses answers into models."""

    def __init__(
        self, send: Send[Effect], stream: Stream[Effect], invalid: Invalid | None = None
    ) -> None:
        self._send = send
        self._stream = stream
        self._invalid = invalid or _default_invalid

    def _request(
        self,
        operation: Operation,
        *,
        path: Mapping[str, object] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> RestRequest:
        quoted = {name: quote(str(value), safe="") for name, value in (path or {}).items()}
        return RestRequest(
            operation,
            operation.path.format_map(quoted),
            {name: query_value(value) for name, value in (query or {}).items()},
            body,
            dict(headers or {}),
        )

    def _parse(
        self, request: RestRequest, answer: RestAnswer, parse: Callable[[dict[str, Any]], T]
    ) -> T:
        data = answer.json()
        try:
            if not isinstance(data, dict):
                raise TypeError(f"expected a JSON object, got {type(data).__name__}")
            return parse(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._invalid(request, answer, exc) from exc

    def _unexpected(self, request: RestRequest, answer: RestAnswer) -> Exception:
        return self._invalid(request, answer, None)


class Drive(Protocol):
    """Runs a flow to its result with blocking I/O."""

    def __call__(self, flow: Generator[Any, Any, T], /) -> T: ...


class AsyncDrive(Protocol):
    """Runs a flow to its result with async I/O."""

    def __call__(self, flow: Generator[Any, Any, T], /) -> Awaitable[T]: ...


class Iterate(Protocol):
    """Runs a streaming flow, handing out what it emits (blocking)."""

    def __call__(self, flow: Generator[Any, Any, None], /) -> Iterator[Any]: ...


class AsyncIterate(Protocol):
    """Runs a streaming flow, handing out what it emits (async)."""

    def __call__(self, flow: Generator[Any, Any, None], /) -> AsyncIterator[Any]: ...
