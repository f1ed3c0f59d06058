"""Server-sent events: the log streams of pods and workers (REST v2), typed and resumable.

`GET /v2/pods/{id}/logs` and `GET /v2/serverless/{id}/workers/{workerId}/logs`
answer ``text/event-stream``: a connection held open that carries ``id:``,
``event:`` and ``data:`` lines, one blank line ending each event, and comments
(``: ...``) as heartbeats. The generated flows hand such a request to `event_stream`,
which is written once, as a flow, like everything else that talks to RunPod:

- it yields `Connect` (open the request, hand back its head) and `Receive` (the
  next bytes of the body; ``b""`` when the server ended it), and `Emit`s each
  event's ``data:`` parsed into the operation's model (`LogEvent`);
- `SseDecoder` turns bytes into events as the WHATWG EventSource rules say (any
  of CRLF, LF, CR as line ends, split across reads; ``data:`` lines joined; the
  last ``id:`` kept across events);
- when the connection breaks (a reset, a read timeout without even a heartbeat)
  it reconnects with ``Last-Event-ID`` set to the last id received, so no line
  comes twice and none is skipped, after a back-off from the client's retry policy
  (at least the server's ``retry:``); a 429 or 5xx on (re)connecting is retried
  the same way, every other error status raises the mapped SDK error. Events
  that arrive reset the retry budget: a stream that has been flowing for an hour
  may still reconnect;
- the stream ends when the server ends it (RunPod closes a pod's log stream when
  the pod is terminated) or when the caller stops iterating, which closes the
  connection.

`iterate_events_sync` and `iterate_events_async` are its two drivers (the
`_flow.py` drivers read whole bodies, so streaming needs its own); they run the
flow over the client's httpx pool, with the pool's per-read timeout and no total
limit.
"""

from __future__ import annotations

import codecs
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from runpod_typed._errors import ConfigurationError, ResponseFormatError, TransportError
from runpod_typed._flow import Answer, Emit, Send, Sleep
from runpod_typed._generated.rest.flow_base import RestRequest
from runpod_typed._logging import logger, redact
from runpod_typed._rest import describe, error_message
from runpod_typed._retry import Outcome, RetryState
from runpod_typed._transport import ApiCall, Transport, status_error

#: Most bytes of an error answer read when a stream is refused.
MAX_ERROR_BYTES = 64 * 1024
#: Event types that carry a log line; others (heartbeats, say) are skipped.
DATA_EVENTS = frozenset({"message", "log"})
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event: its type, its data (``data:`` lines joined by newlines),
    the last event id seen so far (ids carry over), and the ``retry:`` hint in ms."""

    event: str
    data: str
    id: str | None = None
    retry_ms: int | None = None


class SseDecoder:
    """Bytes of an event stream in, events out (WHATWG HTML, "event stream interpretation").

    `last_event_id` is the id of the last event dispatched (what a reconnect sends):
    an ``id:`` line counts once its event is complete, not before.
    """

    def __init__(self, last_event_id: str | None = None) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._buffer = ""
        self._started = False
        self._after_cr = False
        self._data: list[str] = []
        self._event = ""
        self._id = last_event_id
        self._retry: int | None = None
        self.last_event_id = last_event_id

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by `chunk` (an incomplete one waits for more bytes)."""
        text = self._decoder.decode(chunk)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._after_cr and text:
            # A CR ended the last read's last line: a LF starting this one is its pair.
            text = text.removeprefix("\n")
            self._after_cr = False
        self._buffer += text
        events: list[ServerSentEvent] = []
        start = 0
        for match in _LINE_END.finditer(self._buffer):
            event = self._line(self._buffer[start : match.start()])
            if event is not None:
                events.append(event)
            start = match.end()
            self._after_cr = match.group() == "\r" and start == len(self._buffer)
        self._buffer = self._buffer[start:]
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: heartbeats
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        self.last_event_id = self._id
        data, kind = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent(kind or "message", "\n".join(data), self._id, self._retry)


# -- effects of a streaming flow -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connect:
    """Open `send` as a stream. The driver answers `Opened` for a 2xx status (and keeps the
    connection for `Receive`), else the error `Answer` with its body (at most
    MAX_ERROR_BYTES); a transport failure is thrown into the flow."""

    send: Send


@dataclass(frozen=True, slots=True)
class Receive:
    """The next bytes of the open stream; ``b""`` once the server has ended it."""


@dataclass(frozen=True, slots=True)
class Opened:
    status_code: int
    headers: Mapping[str, str] = field(repr=False)
    url: str = ""


StreamEffect = Connect | Receive | Sleep | Emit
EventFlow = Generator[StreamEffect, Any, None]


def event_stream(
    transport: Transport, request: RestRequest, parse: Callable[[dict[str, Any]], Any]
) -> EventFlow:
    """Emit `parse(data)` for each event of the stream `request` opens (see the module doc)."""
    operation = request.operation
    route = f"rest:{operation.id}"
    url = transport.urls.rest_url + request.path
    last_id = request.headers.get("Last-Event-ID")
    state = RetryState(transport.retry, now=time.monotonic())
    server_retry = 0.0
    while True:
        wait = transport.limiter.reserve(("", route), time.monotonic())
        if wait > 0:
            yield Sleep(wait)
        headers = {
            **transport.headers(False),
            "Accept": "text/event-stream",
            "Cache-Control": "no-cache",
        }
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        send = Send("GET", url, headers, request.params or None, None, transport.timeout)
        try:
            opened = yield Connect(send)
        except httpx.TransportError as exc:
            delay = _retry_delay(state, Outcome.from_exception(exc), server_retry)
            if delay is None:
                raise _broken(request, exc, state.attempts) from None
            yield Sleep(delay)
            continue
        if isinstance(opened, Answer):
            outcome = Outcome.from_status(opened.status_code, opened.headers)
            delay = _retry_delay(state, outcome, server_retry)
            if delay is None:
                raise _status_error(request, opened)
            yield Sleep(delay)
            continue
        if opened.status_code == 204:
            return  # "no content": nothing to stream, and nothing to resume
        kind = opened.headers.get("content-type", "")
        if not kind.startswith("text/event-stream"):
            raise ResponseFormatError(
                f"{describe(request)}: expected an event stream from RunPod, got "
                f"{kind or 'no content type'} (HTTP {opened.status_code}); a proxy may be in the way"
            )
        decoder = SseDecoder(last_id)
        try:
            while True:
                chunk = yield Receive()
                if not chunk:
                    return  # the server ended the stream
                state = RetryState(transport.retry, now=time.monotonic())
                for event in decoder.feed(chunk):
                    last_id = event.id
                    if event.retry_ms is not None:
                        server_retry = event.retry_ms / 1000
                    if event.event not in DATA_EVENTS:
                        logger.debug("%s: skipped a %r event", describe(request), event.event)
                        continue
                    yield Emit(_parsed(request, event, parse))
                last_id = decoder.last_event_id
        except httpx.TransportError as exc:
            last_id = decoder.last_event_id
            delay = _retry_delay(state, Outcome.from_exception(exc), server_retry)
            if delay is None:
                raise _broken(request, exc, state.attempts) from None
            logger.debug(
                "%s: stream broke (%s), resuming after %s", describe(request), exc, last_id
            )
            yield Sleep(delay)


def _retry_delay(state: RetryState, outcome: Outcome, floor: float) -> float | None:
    delay = state.next_delay(outcome, idempotent=True, now=time.monotonic())
    return None if delay is None else max(delay, floor)


def _parsed(
    request: RestRequest, event: ServerSentEvent, parse: Callable[[dict[str, Any]], Any]
) -> Any:
    try:
        data = json.loads(event.data)
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object, got {type(data).__name__}")
        return parse(data)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise ResponseFormatError(
            f"{describe(request)}: an event's data does not match the log event model "
            f"({type(exc).__name__}: {exc})",
            body=redact(event.data),
        ) from None


def _broken(request: RestRequest, exc: httpx.TransportError, attempts: int) -> TransportError:
    return TransportError(
        f"{describe(request)}: the event stream failed ({type(exc).__name__}: "
        f"{redact(str(exc)) or 'connection failed'}) after {attempts} attempt(s)"
    )


def _status_error(request: RestRequest, answer: Answer) -> Exception:
    error = status_error(ApiCall("GET", answer.url, f"rest:{request.operation.id}"), answer)
    error.args = (error_message(request, answer.status_code, error.body),)
    return error


# -- drivers ---------------------------------------------------------------------------------


def _request(client: httpx.Client | httpx.AsyncClient, send: Send) -> httpx.Request:
    timeout = client.timeout if send.timeout is None else httpx.Timeout(send.timeout, connect=10.0)
    return client.build_request(
        send.method, send.url, headers=send.headers, params=send.params, timeout=timeout
    )


def _answer(response: httpx.Response, content: bytes) -> Answer:
    return Answer(response.status_code, response.headers, content, str(response.request.url))


class _Step:
    """Runs an event-stream flow one effect at a time: what the driver made of the last
    effect (its `value`, or the transport `error` to throw in) goes in with the next step."""

    DONE: ClassVar[object] = object()

    def __init__(self, flow: EventFlow) -> None:
        self.flow = flow
        self.value: Any = None
        self.error: BaseException | None = None

    def next(self) -> object:
        """The flow's next effect (`DONE` once it has returned)."""
        try:
            if self.error is None:
                effect: object = self.flow.send(self.value)
            else:
                effect = self.flow.throw(self.error)
        except StopIteration:
            return _Step.DONE
        self.value, self.error = None, None
        return effect


def iterate_events_sync(client: httpx.Client, flow: EventFlow) -> Iterator[Any]:
    """Drive an event-stream flow with blocking I/O, yielding what it emits."""
    response: httpx.Response | None = None
    chunks: Iterator[bytes] = iter(())
    step = _Step(flow)
    try:
        while (effect := step.next()) is not _Step.DONE:
            if isinstance(effect, Emit):
                yield effect.value
                continue
            try:
                if isinstance(effect, Sleep):
                    time.sleep(effect.seconds)
                elif isinstance(effect, Connect):
                    if response is not None:
                        response.close()
                        response = None
                    opened = client.send(_request(client, effect.send), stream=True)
                    if opened.status_code >= 300:
                        step.value = _answer(opened, _read_error_sync(opened))
                    else:
                        response, chunks = opened, opened.iter_bytes()
                        step.value = Opened(opened.status_code, opened.headers, str(opened.url))
                elif isinstance(effect, Receive):
                    step.value = next(chunks, b"")
                else:
                    raise TypeError(f"an event stream cannot perform {effect!r}")
            except httpx.TransportError as exc:
                step.error = exc
    finally:
        if response is not None:
            response.close()
        flow.close()


def _read_error_sync(response: httpx.Response) -> bytes:
    try:
        body = b""
        for part in response.iter_bytes():
            body += part
            if len(body) >= MAX_ERROR_BYTES:
                break
        return body[:MAX_ERROR_BYTES]
    finally:
        response.close()


async def iterate_events_async(client: httpx.AsyncClient, flow: EventFlow) -> AsyncIterator[Any]:
    """Async twin of `iterate_events_sync` (asyncio or trio, through anyio).

    Leaving an `async for` early does not close an async generator at once (Python
    closes it when it is collected): `async with contextlib.aclosing(stream)` does.
    """
    import anyio

    if hasattr(client, "exchange"):  # an AsyncSender (AioHttpClient) reads whole answers
        flow.close()
        raise ConfigurationError(
            f"log streams need the default httpx.AsyncClient: {type(client).__name__} reads "
            "each answer whole, and an event stream never ends"
        )

    response: httpx.Response | None = None
    chunks: AsyncIterator[bytes] | None = None
    step = _Step(flow)
    try:
        while (effect := step.next()) is not _Step.DONE:
            if isinstance(effect, Emit):
                yield effect.value
                continue
            try:
                if isinstance(effect, Sleep):
                    await anyio.sleep(effect.seconds)
                elif isinstance(effect, Connect):
                    if response is not None:
                        await response.aclose()
                        response = None
                    opened = await client.send(_request(client, effect.send), stream=True)
                    if opened.status_code >= 300:
                        step.value = _answer(opened, await _read_error_async(opened))
                    else:
                        response, chunks = opened, opened.aiter_bytes()
                        step.value = Opened(opened.status_code, opened.headers, str(opened.url))
                elif isinstance(effect, Receive):
                    assert chunks is not None
                    try:
                        step.value = await chunks.__anext__()
                    except StopAsyncIteration:
                        step.value = b""
                else:
                    raise TypeError(f"an event stream cannot perform {effect!r}")
            except httpx.TransportError as exc:
                step.error = exc
    finally:
        flow.close()
        if response is not None:
            with anyio.CancelScope(shield=True):
                await response.aclose()


async def _read_error_async(response: httpx.Response) -> bytes:
    try:
        body = b""
        async for part in response.aiter_bytes():
            body += part
            if len(body) >= MAX_ERROR_BYTES:
                break
        return body[:MAX_ERROR_BYTES]
    finally:
        await response.aclose()
