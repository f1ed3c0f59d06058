"""A scripted fake driver and a fake clock: flows unit-tested without sockets or sleeping.

A test writes the requests it expects, in order, each with the answer to give::

    script = [
        on("GET status-sync/j1", job("IN_PROGRESS"), takes=30),   # the server held it 30 s
        on("GET status-sync/j1", error=httpx.ReadError),          # the answer was lost
        on("GET status/j1", status=404, text="404 page not found"),
    ]

`FakeDriver` runs a flow against such a script: it answers each `Send` from it
(a request that is not the next one expected fails the test, and so does a
script left unused), records every effect, and answers `Sleep` by moving the
`FakeClock` on. `MockServer` answers the real drivers (`run_sync`, `run_async`
over `httpx.MockTransport`) from the same kind of script. Paths are relative to
the endpoint (`status/j1` is `ROOT/ep/status/j1`).

The clock replaces `time.monotonic` (what flows and `Deadline` read), `time.sleep`
and `anyio.sleep` (what the real drivers sleep with), so time moves only when a
script or a sleep says so.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import httpx
import pytest

from runpod_typed._config import ApiKeyProvider, ResolvedUrls
from runpod_typed._flow import Answer, Emit, Flow, Send, Sleep
from runpod_typed._ratelimit import RateLimiter
from runpod_typed._retry import RetryPolicy
from runpod_typed._serverless import EndpointRoutes
from runpod_typed._transport import Transport

T = TypeVar("T")

ROOT = "https://rp.test"
ENDPOINT = "ep"
API_KEY = "sk-flow-script-key-0123456789"

#: Retries quick enough to reason about: back-off caps 0.5, 1, 2 s; no overall deadline.
RETRY = RetryPolicy(max_attempts=3, initial_delay=0.5, multiplier=2.0, max_delay=2.0, deadline=None)


# -- the clock ---------------------------------------------------------------------------------


class FakeClock:
    """Monotonic time that moves only when told; `elapsed` is measured from the start."""

    def __init__(self, start: float = 1000.0) -> None:
        self.start = start
        self.now = start

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        assert seconds >= 0, f"time cannot run backwards ({seconds} s)"
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await anyio.lowlevel.checkpoint()  # still a checkpoint, as anyio.sleep is

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
        """Replace time.monotonic, time.sleep and anyio.sleep for the rest of the test."""
        clock = cls()
        monkeypatch.setattr(time, "monotonic", clock.monotonic)
        monkeypatch.setattr(time, "sleep", clock.sleep)
        monkeypatch.setattr(anyio, "sleep", clock.async_sleep)
        return clock


# -- scripts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """One expected request (`method`, endpoint-relative `path`) and what to answer."""

    method: str
    path: str
    status: int = 200
    body: Any = None
    text: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Throw this transport error instead of answering.
    error: type[httpx.TransportError] | None = None
    #: Hold the request until its read timeout runs out, then throw ReadTimeout (a hung server).
    hang: bool = False
    #: Seconds the request takes on the fake clock before its answer (or error).
    takes: float = 0.0

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def response(self, request: httpx.Request) -> httpx.Response:
        if self.text is not None:
            return httpx.Response(
                self.status, text=self.text, headers=self.headers, request=request
            )
        if self.body is None:
            return httpx.Response(self.status, headers=self.headers, request=request)
        return httpx.Response(self.status, json=self.body, headers=self.headers, request=request)


def on(
    request: str,
    body: Any = None,
    *,
    status: int = 200,
    text: str | None = None,
    headers: Mapping[str, str] | None = None,
    error: type[httpx.TransportError] | None = None,
    hang: bool = False,
    takes: float = 0.0,
) -> Expect:
    """`on("GET status/j1", job("COMPLETED"))`: expect that request, give that answer."""
    method, path = request.split(" ", 1)
    return Expect(method, path, status, body, text, dict(headers or {}), error, hang, takes)


def job(state: str, output: Any = None, job_id: str = "j1") -> dict[str, Any]:
    """A job status as RunPod sends it."""
    raw: dict[str, Any] = {"id": job_id, "status": state}
    if output is not None:
        raw["output"] = output
    return raw


def page(state: str, *chunks: Any) -> dict[str, Any]:
    """A /stream answer carrying `chunks`."""
    return {"status": state, "stream": [{"output": chunk} for chunk in chunks]}


@dataclass(frozen=True)
class Sent:
    """A request as it was sent: what tests assert on."""

    method: str
    path: str
    params: dict[str, str] | None
    #: The read timeout it was sent with (the Send's, or the one the real driver set).
    timeout: float | None
    body: bytes
    #: Fake-clock seconds since the start when it was sent.
    at: float

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class Script:
    """The expected requests, consumed in order; every request that came is kept in `sent`."""

    def __init__(self, clock: FakeClock, expected: Iterable[Expect]) -> None:
        self.clock = clock
        self.expected = deque(expected)
        self.sent: list[Sent] = []

    def answer(self, request: httpx.Request, timeout: float | None) -> httpx.Response:
        """The scripted answer to `request`; raises the scripted transport error."""
        prefix = f"/{ENDPOINT}/"
        assert request.url.path.startswith(prefix), f"request outside the endpoint: {request.url}"
        sent = Sent(
            request.method,
            request.url.path.removeprefix(prefix),
            dict(request.url.params) or None,
            timeout,
            request.content,
            self.clock.elapsed,
        )
        self.sent.append(sent)
        if not self.expected:
            raise AssertionError(f"unexpected request {sent}: the script is used up")
        expect = self.expected.popleft()
        if (expect.method, expect.path) != (sent.method, sent.path):
            raise AssertionError(f"request #{len(self.sent)}: expected {expect}, got {sent}")
        self.clock.advance(expect.takes)
        if expect.hang:
            assert timeout is not None, f"{sent} hangs forever: it was sent without a timeout"
            self.clock.advance(timeout)
            raise httpx.ReadTimeout("scripted: the server never answered", request=request)
        if expect.error is not None:
            raise expect.error(f"scripted {expect.error.__name__}", request=request)
        return expect.response(request)

    def assert_done(self) -> None:
        left = ", ".join(str(expect) for expect in self.expected)
        assert not self.expected, f"expected requests never sent: {left}"

    @property
    def requests(self) -> list[str]:
        return [str(sent) for sent in self.sent]


# -- the fake driver ---------------------------------------------------------------------------


class FakeDriver:
    """Runs a flow against a script: sends answered from it, sleeps on the fake clock."""

    def __init__(self, clock: FakeClock, expected: Iterable[Expect]) -> None:
        self.clock = clock
        self.script = Script(clock, expected)
        self.effects: list[object] = []
        self.emitted: list[Any] = []

    @property
    def sent(self) -> list[Sent]:
        return self.script.sent

    @property
    def requests(self) -> list[str]:
        return self.script.requests

    @property
    def sleeps(self) -> list[float]:
        return [effect.seconds for effect in self.effects if isinstance(effect, Sleep)]

    def run(self, flow: Flow[T]) -> T:
        """Run `flow` to its end (its result or its error); the script must be used up."""
        try:
            result = self._drive(flow)
        except AssertionError:
            flow.close()
            raise
        except BaseException:
            self.script.assert_done()
            raise
        self.script.assert_done()
        return result

    def collect(self, flow: Flow[None]) -> list[Any]:
        """Run a streaming flow to its end; what it emitted (also kept in `emitted`)."""
        self.run(flow)
        return self.emitted

    def _drive(self, flow: Flow[T]) -> T:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                effect = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            value, error = None, None
            self.effects.append(effect)
            if isinstance(effect, Send):
                try:
                    value = _answer(self.script.answer(_request(effect), effect.timeout))
                except httpx.TransportError as exc:
                    error = exc
            elif isinstance(effect, Sleep):
                self.clock.advance(effect.seconds)
            elif isinstance(effect, Emit):
                self.emitted.append(effect.value)
            else:
                raise AssertionError(f"unexpected effect {effect!r}")


def _answer(response: httpx.Response) -> Answer:
    """What a real driver would hand the flow for `response`."""
    return Answer(
        response.status_code, response.headers, response.read(), str(response.request.url)
    )


def _request(send: Send) -> httpx.Request:
    return httpx.Request(
        send.method, send.url, params=send.params, headers=send.headers, content=send.content
    )


# -- the mock server (for the real drivers) ----------------------------------------------------


class MockServer:
    """Answers `httpx.MockTransport` requests from a script; no socket is opened."""

    def __init__(self, clock: FakeClock, expected: Iterable[Expect]) -> None:
        self.script = Script(clock, expected)

    def handle(self, request: httpx.Request) -> httpx.Response:
        read = request.extensions.get("timeout", {}).get("read")
        return self.script.answer(request, read)

    def sync_client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    @property
    def sent(self) -> list[Sent]:
        return self.script.sent

    def done(self) -> list[str]:
        """The requests seen, once every expected one came."""
        self.script.assert_done()
        return self.script.requests


# -- what flows run on -------------------------------------------------------------------------


def make_transport(retry: RetryPolicy = RETRY, *, long_poll: bool = True) -> Transport:
    """A transport on `ROOT` with no rate limiting (it would add sleeps of its own).

    `long_poll=False`: as after the server said it has no long-poll routes.
    """
    transport = Transport(
        keys=ApiKeyProvider(API_KEY),
        urls=ResolvedUrls(graphql_url=f"{ROOT}/graphql", endpoint_base_url=ROOT),
        retry=retry,
        limiter=RateLimiter.disabled(),
    )
    if not long_poll:
        transport.long_poll_missing()
    return transport


def make_routes(retry: RetryPolicy = RETRY, *, long_poll: bool = True) -> EndpointRoutes:
    return EndpointRoutes(make_transport(retry, long_poll=long_poll), ENDPOINT)
