"""Fault injection: seeded, per-route failures that a real network and RunPod produce.

Spec string (CLI ``--faults``, :meth:`FaultSpec.parse`), sections separated by ``;``::

    seed=7;run:drop=0.05,503=0.05;status:429=0.1,latency=0.02;*:malformed=0.01

A section ``ROUTES:KEY=VALUE,...`` applies to every route matching the glob ROUTES
(routes: run, runsync, status, status-sync, stream, cancel, retry, purge-queue,
health, graphql, rest (REST v2); ``*`` for all). When several sections match a route, all apply, a
later section's value winning for the same key. Keys:

- ``500``, ``502``, ``503``: probability of answering that status instead (pre-processing).
- ``429``: probability of answering 429 with ``Retry-After: <retry_after>`` (pre-processing).
- ``drop``: probability of closing the connection without any answer (pre-processing:
  no job is created).
- ``drop_after``: probability of running the request (a job *is* created) and then
  closing the connection without the answer -- what makes duplicate-submission tests
  meaningful.
- ``malformed``: probability of running the request, then answering 200 with the body
  truncated to invalid JSON (post-processing).
- ``latency``: seconds added to every matching request (not a probability).
- ``retry_after``: seconds announced by injected 429s (default 1).

At most one probabilistic fault fires per request (their probabilities may sum to at
most 1). ``seed`` makes runs repeatable: each route draws from its own generator, so
the faults a route sees depend only on the seed and that route's request order.
The admin route ``POST /_emulator/faults`` takes the JSON form of
:meth:`FaultSpec.to_dict` (or ``{"spec": "<string>"}``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any

from runpod_typed.emulator._counters import Counters

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ROUTES = (
    "run",
    "runsync",
    "status",
    "status-sync",
    "stream",
    "cancel",
    "retry",
    "purge-queue",
    "health",
    "graphql",
    "rest",
)

#: Probabilistic faults in the order a single draw is mapped onto them.
_KINDS = ("500", "502", "503", "429", "drop", "drop_after", "malformed")
_FIELD_OF_KEY = {"500": "http_500", "502": "http_502", "503": "http_503", "429": "http_429"}
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass(frozen=True)
class RouteFaults:
    """Fault probabilities (0..1) for one route glob, plus added latency in seconds.

    None means "not set here": when sections are merged, only set values override.
    """

    http_500: float | None = None
    http_502: float | None = None
    http_503: float | None = None
    http_429: float | None = None
    drop: float | None = None
    drop_after: float | None = None
    malformed: float | None = None
    latency: float | None = None
    retry_after: float | None = None

    def __post_init__(self) -> None:
        for kind in _KINDS:
            value = self.probability(kind)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault probability {kind}={value} is not between 0 and 1")
        if sum(self.probability(kind) for kind in _KINDS) > 1.0 + 1e-9:
            raise ValueError("fault probabilities of one route add up to more than 1")
        if self.added_latency < 0 or self.retry_after_seconds < 0:
            raise ValueError("latency and retry_after must not be negative")

    def probability(self, kind: str) -> float:
        value: float | None = getattr(self, _FIELD_OF_KEY.get(kind, kind))
        return value or 0.0

    @property
    def added_latency(self) -> float:
        return self.latency or 0.0

    @property
    def retry_after_seconds(self) -> float:
        return 1.0 if self.retry_after is None else self.retry_after

    def to_dict(self) -> dict[str, float]:
        """The values set, under their spec keys."""
        keys = {value: key for key, value in _FIELD_OF_KEY.items()}
        return {
            keys.get(f.name, f.name): getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not None
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> RouteFaults:
        names = {f.name for f in fields(cls)}
        kwargs: dict[str, float] = {}
        for key, value in values.items():
            name = _FIELD_OF_KEY.get(str(key), str(key))
            if name not in names:
                raise ValueError(
                    f"unknown fault key {key!r}; expected one of "
                    f"{', '.join((*_KINDS, 'latency', 'retry_after'))}"
                )
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"fault {key}={value!r} is not a number")
            kwargs[name] = float(value)
        return cls(**kwargs)


def _check_glob(pattern: str) -> str:
    if not any(fnmatch.fnmatchcase(route, pattern) for route in ROUTES):
        raise ValueError(f"route pattern {pattern!r} matches no route ({', '.join(ROUTES)})")
    return pattern


@dataclass(frozen=True)
class FaultSpec:
    """Which faults to inject where; see the module docstring for the string form."""

    routes: Mapping[str, RouteFaults] = field(default_factory=dict)
    seed: int | None = None

    def __post_init__(self) -> None:
        for pattern in self.routes:
            _check_glob(pattern)

    @classmethod
    def parse(cls, spec: str) -> FaultSpec:
        """Parse ``seed=7;run:drop=0.05,503=0.05;*:latency=0.01``."""
        routes: dict[str, dict[str, float]] = {}
        seed: int | None = None
        for raw_section in spec.split(";"):
            section = raw_section.strip()
            if not section:
                continue
            if section.startswith("seed="):
                try:
                    seed = int(section.removeprefix("seed="))
                except ValueError:
                    raise ValueError(f"seed must be an integer: {section!r}") from None
                continue
            pattern, sep, items = section.partition(":")
            if not sep:
                raise ValueError(f"fault section {section!r} is not ROUTES:KEY=VALUE,...")
            values = routes.setdefault(pattern.strip(), {})
            for item in items.split(","):
                key, eq, value = item.strip().partition("=")
                if not eq:
                    raise ValueError(f"fault {item!r} in {section!r} is not KEY=VALUE")
                try:
                    values[key.strip()] = float(value)
                except ValueError:
                    raise ValueError(f"fault {item!r} in {section!r} is not a number") from None
        return cls({pattern: RouteFaults.from_dict(v) for pattern, v in routes.items()}, seed)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultSpec:
        """The JSON form: ``{"seed": 7, "routes": {"run": {"drop": 0.05}}}`` or ``{"spec": "..."}``."""
        if "spec" in data:
            return cls.parse(str(data["spec"]))
        unknown = set(data) - {"seed", "routes"}
        if unknown:
            raise ValueError(f"unknown fault spec fields: {', '.join(sorted(unknown))}")
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("seed must be an integer")
        routes = data.get("routes") or {}
        if not isinstance(routes, Mapping) or not all(
            isinstance(v, Mapping) for v in routes.values()
        ):
            raise ValueError("routes must map route globs to {key: value} objects")
        return cls({str(k): RouteFaults.from_dict(v) for k, v in routes.items()}, seed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "routes": {pattern: faults.to_dict() for pattern, faults in self.routes.items()},
        }

    def for_route(self, route: str) -> RouteFaults | None:
        """The merged faults of every section matching `route` (None if none matches)."""
        merged: dict[str, float] = {}
        for pattern, faults in self.routes.items():
            if fnmatch.fnmatchcase(route, pattern):
                merged.update(faults.to_dict())
        return RouteFaults.from_dict(merged) if merged else None


class ConnectionDropped(Exception):
    """Raised by the fault injector when the server gives no way to close the socket itself."""


def _drop_connection(receive: Receive) -> None:
    """Close the client's connection without a response.

    Uvicorn's request cycle (the object behind `receive`) owns the transport; closing it
    and marking the cycle disconnected makes uvicorn send nothing, not even its 500.
    Under other servers the exception aborts the request instead.
    """
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if cycle is None or transport is None or not hasattr(cycle, "disconnected"):
        raise ConnectionDropped("emulated dropped connection")
    transport.close()
    cycle.disconnected = True


async def _send_plain(
    send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FaultInjector:
    """Decides and applies faults around one request; `spec` may be swapped at any time."""

    def __init__(self, spec: FaultSpec | None, counters: Counters) -> None:
        self.counters = counters
        self.set_spec(spec)

    def set_spec(self, spec: FaultSpec | None) -> None:
        self.spec: FaultSpec = spec or FaultSpec()
        self._generators: dict[str, random.Random] = {}
        self._per_route: dict[str, RouteFaults | None] = {}

    def _decide(self, route: str) -> tuple[RouteFaults | None, str | None]:
        if route not in self._per_route:
            self._per_route[route] = self.spec.for_route(route)
        faults = self._per_route[route]
        if faults is None:
            return None, None
        generator = self._generators.get(route)
        if generator is None:
            seed = None if self.spec.seed is None else f"{self.spec.seed}/{route}"
            generator = self._generators[route] = random.Random(seed)
        draw = generator.random()
        for kind in _KINDS:
            draw -= faults.probability(kind)
            if draw < 0:
                return faults, kind
        return faults, None

    async def __call__(
        self, route: str, scope: Scope, receive: Receive, send: Send, app: ASGIApp
    ) -> None:
        faults, kind = self._decide(route)
        if faults is None:
            await app(scope, receive, send)
            return
        if faults.added_latency:
            await asyncio.sleep(faults.added_latency)
        if kind is not None:
            self.counters.fault(route, kind)
        if kind in ("500", "502", "503"):
            status = int(kind)
            await _send_plain(send, status, f"{status} {_REASONS[status]} (emulated fault)", [])
        elif kind == "429":
            retry_after = f"{faults.retry_after_seconds:g}".encode()
            await _send_plain(
                send, 429, "429 Too Many Requests (emulated fault)", [(b"retry-after", retry_after)]
            )
        elif kind == "drop":
            self.counters.response(route, "dropped")
            _drop_connection(receive)
        elif kind == "drop_after":
            await app(scope, receive, _discard)
            self.counters.response(route, "dropped")
            _drop_connection(receive)
        elif kind == "malformed":
            await app(scope, receive, _Truncating(send))
        else:
            await app(scope, receive, send)


async def _discard(message: Message) -> None:
    """An ASGI `send` that loses the answer (the connection is dropped after it)."""


class _Truncating:
    """An ASGI `send` that turns the answer into a 200 whose JSON body is cut in half."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] != "http.response.body":
            return
        self._body += message.get("body", b"")
        if message.get("more_body", False):
            return
        body = bytes(self._body) or json.dumps({"status": "COMPLETED"}).encode()
        truncated = body[: max(1, len(body) // 2)]
        if truncated.endswith(b"}"):
            truncated = truncated[:-1]
        start: Message = {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(truncated)).encode()),
            ],
        }
        await self._send(start)
        await self._send({"type": "http.response.body", "body": truncated})
