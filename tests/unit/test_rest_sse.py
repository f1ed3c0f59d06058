"""Server-sent events: the decoder, and the log streams (`rp.rest.get_pod_logs`, worker logs)
over httpx.MockTransport -- typed events, resuming with Last-Event-ID, errors, closing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from runpod_typed import (
    AsyncRunpod,
    ConfigurationError,
    NotFoundError,
    ResponseFormatError,
    RetryPolicy,
    Runpod,
    TransportError,
)
from runpod_typed._sse import ServerSentEvent, SseDecoder
from runpod_typed.rest import LogEvent, LogSource

FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.01, deadline=5)
KEY = "sk-sse-unit-secret-0123456789"
SSE = {"content-type": "text/event-stream"}


# -- the decoder -------------------------------------------------------------------------------


def decode(*chunks: bytes, last_id: str | None = None) -> list[ServerSentEvent]:
    decoder = SseDecoder(last_id)
    return [event for chunk in chunks for event in decoder.feed(chunk)]


def test_events_end_at_a_blank_line_whatever_the_line_ends() -> None:
    for end in (b"\n", b"\r\n", b"\r"):
        events = decode(b"data: one" + end + end + b"data: two" + end + end)
        assert [e.data for e in events] == ["one", "two"], end


def test_a_crlf_split_across_reads_is_one_line_end() -> None:
    events = decode(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n")
    assert [e.data for e in events] == ["a", "b"]


def test_bytes_of_one_character_split_across_reads() -> None:
    text = "data: héllo\n\n".encode()
    split = text.index(b"\xa9")
    assert [e.data for e in decode(text[:split], text[split:])] == ["héllo"]


def test_data_lines_join_fields_and_comments() -> None:
    stream = (
        b"\xef\xbb\xbf: a heartbeat\n"
        b"event: log\nid: 7\nretry: 1500\ndata: first\ndata:second\n\n"
        b"data: third\n\n"
        b"id\n\n"  # an id with no data: remembered, no event
        b"id: bad\x00id\ndata: fourth\n\n"
    )
    first, second, third = decode(stream)
    assert (first.event, first.data, first.id, first.retry_ms) == (
        "log",
        "first\nsecond",
        "7",
        1500,
    )
    assert (second.event, second.id) == ("message", "7")  # ids carry over
    assert third.id == ""  # `id` without a value resets; an id with NUL is ignored


def test_an_event_cut_off_by_the_end_is_not_dispatched_nor_its_id_kept() -> None:
    decoder = SseDecoder("resume-from")
    assert decoder.feed(b"id: 9\ndata: partial\n") == []
    assert decoder.last_event_id == "resume-from"
    assert [e.id for e in decoder.feed(b"\n")] == ["9"]
    assert decoder.last_event_id == "9"


# -- streams over MockTransport ----------------------------------------------------------------


def event(n: int, source: str = "container", kind: str | None = None) -> bytes:
    data = {"source": source, "line": f"line {n}", "ts": f"2026-08-18T12:00:0{n}.000001Z"}
    head = f"event: {kind}\n" if kind else ""
    return f"{head}id: id-{n}\ndata: {json.dumps(data)}\n\n".encode()


class Chunks(httpx.SyncByteStream):
    """A body sent chunk by chunk; an exception class in the list is raised there."""

    def __init__(self, *parts: bytes | type[Exception]) -> None:
        self.parts = parts
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for part in self.parts:
            if isinstance(part, type):
                raise part("the connection broke")
            yield part

    def close(self) -> None:
        self.closed = True


class AsyncChunks(httpx.AsyncByteStream):
    def __init__(self, *parts: bytes | type[Exception]) -> None:
        self.parts = parts

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            if isinstance(part, type):
                raise part("the connection broke")
            yield part


class Server:
    """Answers each request with the next response factory; records the requests."""

    def __init__(self, *answers: Callable[[], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)()


def client(server: Server) -> Runpod:
    return Runpod(
        KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(server)),
        retry=FAST_RETRY,
        rate_limits=False,
    )


def test_a_log_stream_hands_out_typed_events_until_the_server_ends_it() -> None:
    server = Server(lambda: httpx.Response(200, headers=SSE, stream=Chunks(event(1), event(2))))
    with client(server) as rp:
        events = list(rp.rest.get_pod_logs("pod 1", source=LogSource.CONTAINER, tail=5))
    assert [e.line for e in events] == ["line 1", "line 2"]
    assert all(isinstance(e, LogEvent) and e.source is LogSource.CONTAINER for e in events)
    assert events[0].ts.second == 1 and events[0].ts.tzinfo is not None
    (request,) = server.requests
    assert request.url.raw_path == b"/v2/pods/pod%201/logs?source=container&tail=5"
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "last-event-id" not in request.headers


def test_a_broken_stream_resumes_after_the_last_event_id() -> None:
    server = Server(
        lambda: httpx.Response(
            200, headers=SSE, stream=Chunks(event(1), b"id: id-2\nda", httpx.ReadError)
        ),
        lambda: httpx.Response(200, headers=SSE, stream=Chunks(event(2), event(3))),
    )
    with client(server) as rp:
        events = list(rp.rest.get_worker_logs("ep", "w1", last_event_id="id-0"))
    assert [e.line for e in events] == ["line 1", "line 2", "line 3"]
    first, second = server.requests
    assert first.url.path == "/v2/serverless/ep/workers/w1/logs"
    assert first.headers["last-event-id"] == "id-0"
    assert second.headers["last-event-id"] == "id-1"  # not the id of the event cut off


def test_other_event_types_and_heartbeats_are_skipped() -> None:
    body = Chunks(b": ping\n\n", event(1, kind="heartbeat"), event(2, kind="log"), event(3))
    server = Server(lambda: httpx.Response(200, headers=SSE, stream=body))
    with client(server) as rp:
        assert [e.line for e in rp.rest.get_pod_logs("p")] == ["line 2", "line 3"]


def test_refusals_map_to_errors_and_429_is_retried() -> None:
    problem = {"title": "Not Found", "status": 404, "detail": "pod gone not found"}
    server = Server(
        lambda: httpx.Response(429, headers={"retry-after": "0"}),
        lambda: httpx.Response(404, json=problem),
    )
    with client(server) as rp, pytest.raises(NotFoundError, match="pod gone not found") as caught:
        list(rp.rest.get_pod_logs("gone"))
    assert len(server.requests) == 2
    assert str(caught.value).startswith("GET /v2/pods/gone/logs (getPodLogs) failed with HTTP 404")


def test_a_stream_that_keeps_breaking_gives_up_after_the_retry_budget() -> None:
    broken = lambda: httpx.Response(200, headers=SSE, stream=Chunks(httpx.ReadError))  # noqa: E731
    server = Server(broken, broken, broken)
    with client(server) as rp, pytest.raises(TransportError, match="event stream failed"):
        list(rp.rest.get_pod_logs("p"))
    assert len(server.requests) == 3


def test_data_that_is_not_a_log_event_is_a_response_format_error() -> None:
    server = Server(lambda: httpx.Response(200, headers=SSE, stream=Chunks(b"data: {oops\n\n")))
    with client(server) as rp, pytest.raises(ResponseFormatError, match="log event"):
        list(rp.rest.get_pod_logs("p"))


def test_an_answer_that_is_not_an_event_stream_is_refused() -> None:
    server = Server(lambda: httpx.Response(200, html="<html>proxy login</html>"))
    with client(server) as rp, pytest.raises(ResponseFormatError, match="event stream"):
        list(rp.rest.get_pod_logs("p"))


def test_leaving_the_loop_closes_the_connection() -> None:
    body = Chunks(event(1), event(2), event(3))
    server = Server(lambda: httpx.Response(200, headers=SSE, stream=body))
    with client(server) as rp:
        for found in rp.rest.get_pod_logs("p"):
            assert found.line == "line 1"
            break
    assert body.closed


async def test_the_async_stream_resumes_too() -> None:
    server = Server(
        lambda: httpx.Response(
            200, headers=SSE, stream=AsyncChunks(event(1), httpx.RemoteProtocolError)
        ),
        lambda: httpx.Response(200, headers=SSE, stream=AsyncChunks(event(2))),
    )
    async with AsyncRunpod(
        KEY,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(server)),
        retry=FAST_RETRY,
        rate_limits=False,
    ) as rp:
        lines: list[Any] = [e.line async for e in rp.rest.get_pod_logs("p")]
    assert lines == ["line 1", "line 2"]
    assert server.requests[1].headers["last-event-id"] == "id-1"


async def test_a_client_that_reads_whole_answers_is_refused_for_streams() -> None:
    class WholeAnswers(httpx.AsyncClient):
        async def exchange(self, send: Any, budget: Any) -> Any:
            raise AssertionError("nothing is sent")

    async with AsyncRunpod(KEY, http_client=WholeAnswers(), rate_limits=False) as rp:
        with pytest.raises(ConfigurationError, match="event stream never ends"):
            async for _ in rp.rest.get_pod_logs("p"):
                pass
