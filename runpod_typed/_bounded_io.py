"""A total time limit per blocking request, whatever the server's byte pattern.

httpx's timeouts bound each socket operation, so a server that trickles one
byte every few seconds keeps a request alive for ever. The blocking driver
sets the moment its current request must end (`request_ends_at`); the
connection pool of the clients this SDK creates reads and writes through
`BoundedBackend`, which gives every socket operation only the time left until
then and raises httpcore's timeout once it has passed. (The async driver needs
none of this: it cancels the request's task at that moment.)
"""

from __future__ import annotations

import contextvars
import ssl
import time
import typing
from collections.abc import Iterator
from contextlib import contextmanager

import httpcore
import httpx

#: When the current blocking request must be over (`time.monotonic()`), if bounded.
_ENDS_AT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "runpod_typed_request_ends_at", default=None
)


@contextmanager
def request_ends_at(moment: float | None) -> Iterator[None]:
    """Bound the socket operations of the request sent inside the block."""
    token = _ENDS_AT.set(moment)
    try:
        yield
    finally:
        _ENDS_AT.reset(token)


def _cut(timeout: float | None, error: type[Exception]) -> float | None:
    moment = _ENDS_AT.get()
    if moment is None:
        return timeout
    left = moment - time.monotonic()
    if left <= 0:
        raise error("the request's total time limit passed")
    return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _cut(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _cut(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _cut(timeout, httpcore.ConnectTimeout)
        )
        return _BoundedStream(inner)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class BoundedBackend(httpcore.NetworkBackend):
    """Wraps httpcore's network backend so each operation ends by `request_ends_at`."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _cut(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _BoundedStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, _cut(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _BoundedStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bounded_transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's blocking transport, its connection pool reading through `BoundedBackend`.

    httpx offers no parameter for httpcore's `network_backend`, so the pool's is
    wrapped in place; should a future httpcore rename it, requests keep httpx's
    per-operation timeouts (cut to the call's deadline) and lose only this bound.
    """
    transport = httpx.HTTPTransport(limits=limits)
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if isinstance(inner, httpcore.NetworkBackend):
        pool._network_backend = BoundedBackend(inner)  # type: ignore[union-attr]
    return transport
