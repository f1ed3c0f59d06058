"""The one shape of every control-plane namespace (`rp.pods`, `rp.templates`, ...).

A resource is written once, as a `ResourceFlows` subclass: each helper is a method
returning a *flow* (see `_flow.py`) over the generated flow client, with its keyword
signature, its docstring and its typed result. The namespaces users hold are then
declared, one line per helper, as `SyncNamespace` / `AsyncNamespace` subclasses whose
attributes are `helper(Flows.method)` / `async_helper(Flows.method)`: the descriptor
runs the method's flow under the client's blocking or async driver, with the same
signature (a `ParamSpec`), so type checkers and IDEs see `rp.templates.get(template_id)`
-> `TemplateFields` and `await rp.templates.get(...)` alike.

What every resource shares lives here too: RunPod's "not found" answer turned into the
resource's `ResourceNotFound` subclass, looking an object up by id in a list, and
unwrapping an answer RunPod must give. Which API a helper uses (REST v2 where it covers
the operation, GraphQL where it does not: docs/ARCHITECTURE.md has the table) is the
flow's business: its signature does not change. A v2 404 and GraphQL's "not found"
become the same `ResourceNotFound` subclass.

Log streams are helpers too: a flow method returning `Events[X]` (the generated
event-stream flow) is declared with `stream_helper` / `async_stream_helper`, and the
namespace hands it to the client's SSE driver: an `Iterator[X]` / `AsyncIterator[X]`
whose end (leaving the loop, `close()`, `aclose()`) closes the connection.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Concatenate,
    Generic,
    Protocol,
    TypeVar,
    overload,
)

from typing_extensions import ParamSpec, Self

from runpod_typed._deadline import Deadline
from runpod_typed._errors import (
    ConfigurationError,
    GraphQLError,
    InvalidRequestError,
    NotFoundError,
    ResourceNotFound,
    RunpodError,
)
from runpod_typed._flow import Effect, Flow
from runpod_typed._generated.graphql import input_types as inputs
from runpod_typed._graphql import says_not_found

if TYPE_CHECKING:
    from runpod_typed._generated.graphql.flows import RunpodGraphQLFlows
    from runpod_typed._generated.rest.flows import RestFlows

T = TypeVar("T")
V = TypeVar("V")
P = ParamSpec("P")
F = TypeVar("F", bound="ResourceFlows")


class HasId(Protocol):
    @property
    def id(self) -> str | None: ...


M = TypeVar("M", bound=HasId)


class Drive(Protocol):
    """Runs a flow to its result with blocking I/O, every request and sleep within `deadline`."""

    def __call__(self, flow: Flow[T], /, *, deadline: Deadline | None = None) -> T: ...


class AsyncDrive(Protocol):
    """Runs a flow to its result with async I/O, every request and sleep within `deadline`."""

    def __call__(self, flow: Flow[T], /, *, deadline: Deadline | None = None) -> Awaitable[T]: ...


class Iterate(Protocol):
    """Runs an event-stream flow with blocking I/O, handing out what it emits."""

    def __call__(self, flow: Generator[Any, Any, None], /) -> Iterator[Any]: ...


class AsyncIterate(Protocol):
    """Runs an event-stream flow with async I/O, handing out what it emits."""

    def __call__(self, flow: Generator[Any, Any, None], /) -> AsyncIterator[Any]: ...


@dataclass(frozen=True)
class Events(Generic[T]):
    """An event-stream flow (a v2 log stream) that emits `T`s: a `stream_helper`'s flow."""

    flow: Generator[Any, Any, None]


@dataclass(frozen=True)
class Timed(Generic[T]):
    """A flow and the deadline its driver must hold it to (a wait with `timeout=`)."""

    flow: Flow[T]
    deadline: Deadline | None


def text(name: str, value: object) -> str:
    """`value` if it is a non-empty string; InvalidRequestError (nothing sent) otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{name} must be a non-empty string, got {value!r}")
    return value


def env_input(env: Mapping[str, str] | None) -> list[inputs.EnvironmentVariableInput] | None:
    """A {name: value} mapping as RunPod's list of key/value inputs (None stays None)."""
    if env is None:
        return None
    return [inputs.EnvironmentVariableInput(key=str(k), value=str(v)) for k, v in env.items()]


def given(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments that were given a value (None means "left out")."""
    return {key: value for key, value in fields.items() if value is not None}


def missing(kind: type[ResourceNotFound], resource_id: str, doing: str = "") -> ResourceNotFound:
    """The error for an id RunPod does not know (`doing`: what the call was for)."""
    detail = f" {doing}" if doing else ""
    return kind(f"no {kind.kind} with id {resource_id!r}{detail}", id=resource_id)


def pick(items: Iterable[M], resource_id: str, kind: type[ResourceNotFound]) -> M:
    """The item of a listing with this id (RunPod has no get-by-id for some resources)."""
    for item in items:
        if item.id == resource_id:
            return item
    raise missing(kind, resource_id)


def checked_id(value: object, kind: type[ResourceNotFound]) -> str:
    """An id argument: a non-empty string, checked before anything is sent."""
    return text(f"{kind.kind} id", value)


class ResourceFlows:
    """Base of a resource's helpers: the generated flow client and the shared answers."""

    #: What a missing object of this resource raises.
    not_found: ClassVar[type[ResourceNotFound]] = ResourceNotFound

    def __init__(
        self, graphql: RunpodGraphQLFlows[Effect], rest: RestFlows[Effect] | None = None
    ) -> None:
        self.graphql = graphql
        self._rest = rest

    @property
    def rest(self) -> RestFlows[Effect]:
        """The generated REST v2 flows (the client gives them; a bare test may not)."""
        if self._rest is None:
            raise ConfigurationError(f"{type(self).__name__} was built without REST v2 flows")
        return self._rest

    def missing(self, resource_id: str, doing: str = "") -> ResourceNotFound:
        return missing(self.not_found, resource_id, doing)

    def about(self, resource_id: str, operation: Flow[T], doing: str = "") -> Flow[T]:
        """Run one operation on an object; RunPod's "not found" answer (GraphQL's, or a v2
        404) becomes `not_found`."""
        try:
            return (yield from operation)
        except NotFoundError as exc:
            raise self.missing(resource_id, doing) from exc
        except GraphQLError as exc:
            if not says_not_found(exc):
                raise
            raise self.missing(resource_id, doing) from exc

    def found(self, value: V | None, resource_id: str, doing: str = "") -> V:
        """The object RunPod answered with; None means it knows no such object."""
        if value is None:
            raise self.missing(resource_id, doing)
        return value

    def pick(self, items: Iterable[M], resource_id: str) -> M:
        return pick(items, resource_id, self.not_found)

    def listed(self, listing: Flow[Iterable[M]], resource_id: object) -> Flow[M]:
        """The object with this id in a listing (RunPod has no get-by-id for some resources)."""
        wanted = self.id(resource_id)
        return self.pick((yield from listing), wanted)

    def id(self, value: object) -> str:
        return checked_id(value, self.not_found)


def present(items: Iterable[V | None] | None) -> list[V]:
    """A listing without RunPod's null entries (an absent listing is empty)."""
    return [item for item in items or () if item is not None]


def answered(value: V | None, what: str) -> V:
    """A value RunPod must answer with; its absence is a RunpodError, not a None to check."""
    if value is None:
        raise RunpodError(f"RunPod answered without {what}")
    return value


class SyncNamespace(Generic[F]):
    """A blocking namespace (`rp.templates`): its `helper` attributes run `F`'s flows."""

    def __init__(self, flows: F, drive: Drive, iterate: Iterate | None = None) -> None:
        self._flows = flows
        self._drive = drive
        self._iterate = iterate

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class AsyncNamespace(Generic[F]):
    """An async namespace: its `async_helper` attributes await `F`'s flows."""

    def __init__(self, flows: F, drive: AsyncDrive, iterate: AsyncIterate | None = None) -> None:
        self._flows = flows
        self._drive = drive
        self._iterate = iterate

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _result(annotation: object, iterator: str) -> object:
    """What a flow's return annotation ("Flow[X]", "Timed[X]", "Events[X]") says the
    helper returns: X (an `iterator` of X for events)."""
    if isinstance(annotation, str) and annotation.endswith("]"):
        for wrapper in ("Flow[", "Timed["):
            if annotation.startswith(wrapper):
                return annotation[len(wrapper) : -1]
        if annotation.startswith("Events["):
            return f"{iterator}[{annotation[len('Events[') : -1]}]"
    return annotation


class _Helper(Generic[F, P, T]):
    """What the helper descriptors share: the flow method and how it is presented."""

    #: What a stream helper hands out ("Iterator", "AsyncIterator").
    iterator: ClassVar[str] = "Iterator"

    def __init__(self, flow: Callable[Concatenate[F, P], Any]) -> None:
        self._flow = flow
        self.__doc__ = flow.__doc__
        signature = inspect.signature(flow)
        self._signature = signature.replace(
            parameters=list(signature.parameters.values())[1:],
            return_annotation=_result(signature.return_annotation, self.iterator),
        )
        self._name = flow.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def _present(self, call: Callable[..., Any], owner: object) -> None:
        functools.update_wrapper(call, self._flow)
        call.__name__ = self._name
        call.__qualname__ = f"{type(owner).__name__}.{self._name}"
        call.__signature__ = self._signature  # type: ignore[attr-defined]
        del call.__wrapped__  # type: ignore[attr-defined]


class helper(_Helper[F, P, T]):
    """A blocking namespace's method that runs one of the resource's flows."""

    def __init__(self, flow: Callable[Concatenate[F, P], Flow[T] | Timed[T]]) -> None:
        super().__init__(flow)

    @overload
    def __get__(self, namespace: None, owner: type) -> Self: ...
    @overload
    def __get__(self, namespace: SyncNamespace[F], owner: type) -> Callable[P, T]: ...
    def __get__(self, namespace: SyncNamespace[F] | None, owner: type) -> Any:
        if namespace is None:
            return self
        flow, drive, flows = self._flow, namespace._drive, namespace._flows

        def call(*args: P.args, **kwargs: P.kwargs) -> T:
            made: Flow[T] | Timed[T] = flow(flows, *args, **kwargs)
            if isinstance(made, Timed):
                return drive(made.flow, deadline=made.deadline)
            return drive(made)

        self._present(call, namespace)
        return call


class async_helper(_Helper[F, P, T]):
    """An async namespace's method that awaits one of the resource's flows."""

    def __init__(self, flow: Callable[Concatenate[F, P], Flow[T] | Timed[T]]) -> None:
        super().__init__(flow)

    @overload
    def __get__(self, namespace: None, owner: type) -> Self: ...
    @overload
    def __get__(self, namespace: AsyncNamespace[F], owner: type) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, namespace: AsyncNamespace[F] | None, owner: type) -> Any:
        if namespace is None:
            return self
        flow, drive, flows = self._flow, namespace._drive, namespace._flows

        async def call(*args: P.args, **kwargs: P.kwargs) -> T:
            made: Flow[T] | Timed[T] = flow(flows, *args, **kwargs)
            if isinstance(made, Timed):
                return await drive(made.flow, deadline=made.deadline)
            return await drive(made)

        self._present(call, namespace)
        return call


def _iterate(namespace: SyncNamespace[Any] | AsyncNamespace[Any]) -> Any:
    if namespace._iterate is None:
        raise ConfigurationError(f"{namespace!r} was built without an event-stream driver")
    return namespace._iterate


class stream_helper(_Helper[F, P, T]):
    """A blocking namespace's method that follows an event stream: an `Iterator[T]`."""

    def __init__(self, flow: Callable[Concatenate[F, P], Events[T]]) -> None:
        super().__init__(flow)

    @overload
    def __get__(self, namespace: None, owner: type) -> Self: ...
    @overload
    def __get__(self, namespace: SyncNamespace[F], owner: type) -> Callable[P, Iterator[T]]: ...
    def __get__(self, namespace: SyncNamespace[F] | None, owner: type) -> Any:
        if namespace is None:
            return self
        flow, flows = self._flow, namespace._flows

        def call(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
            events: Events[T] = flow(flows, *args, **kwargs)
            iterator: Iterator[T] = _iterate(namespace)(events.flow)
            return iterator

        self._present(call, namespace)
        return call


class async_stream_helper(_Helper[F, P, T]):
    """An async namespace's method that follows an event stream: an `AsyncIterator[T]`
    (an async generator: `contextlib.aclosing` closes it at once when left early)."""

    iterator = "AsyncIterator"

    def __init__(self, flow: Callable[Concatenate[F, P], Events[T]]) -> None:
        super().__init__(flow)

    @overload
    def __get__(self, namespace: None, owner: type) -> Self: ...
    @overload
    def __get__(
        self, namespace: AsyncNamespace[F], owner: type
    ) -> Callable[P, AsyncIterator[T]]: ...
    def __get__(self, namespace: AsyncNamespace[F] | None, owner: type) -> Any:
        if namespace is None:
            return self
        flow, flows = self._flow, namespace._flows

        def call(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
            events: Events[T] = flow(flows, *args, **kwargs)
            iterator: AsyncIterator[T] = _iterate(namespace)(events.flow)
            return iterator

        self._present(call, namespace)
        return call
