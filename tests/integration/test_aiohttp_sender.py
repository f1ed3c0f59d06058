"""AioHttpClient's own contract: aiohttp's failures as the httpx errors the flows' retry
rules read, the total budget, the body cap, and its use as a plain httpx client.

The behaviour the SDK builds on it (retries, deadlines, cancellation, streaming,
map) is tested on both HTTP stacks by test_client_async.py; here a raw asyncio
server on loopback misbehaves on purpose, and counts what it was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

pytest.importorskip("aiohttp")

import aiohttp

from runpod_typed import (
    AioHttpClient,
    AsyncRunpod,
    ResponseTooLargeError,
    RetryPolicy,
    TransportError,
    WaitTimeout,
)
from runpod_typed._aiohttp import _mapped
from runpod_typed._deadline import Deadline
from runpod_typed._flow import Answer, Flow, Send, run_async

QUICK_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.02)


@dataclass
class Rude:
    """A loopback HTTP server whose answer depends on the path's last segment."""

    url: str = ""
    #: Requests received, as "METHOD /path".
    seen: list[str] = field(default_factory=list)


async def _serve(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], rude: Rude) -> None:
    reader, writer = connection
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = next(
                (
                    int(line.split(":")[1])
                    for line in lines
                    if line.lower().startswith("content-length")
                ),
                0,
            )
            if length:
                await reader.readexactly(length)
            rude.seen.append(f"{method} {path.split('?')[0]}")
            kind = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            if kind in ("run", "lost"):
                writer.close()  # the request was read; the answer is lost
                return
            if kind == "stall":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                await writer.drain()
                await asyncio.sleep(30)
                return
            if kind == "endless":
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                for _ in range(10_000):
                    writer.write(b"400\r\n" + b" " * 1024 + b"\r\n")
                    await writer.drain()
                return
            if kind == "huge":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n")
                await writer.drain()
                await asyncio.sleep(30)
                return
            body = json.dumps({"id": "job-1", "status": "IN_QUEUE", "path": path}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def rude() -> AsyncIterator[Rude]:
    state = Rude()
    tasks: set[asyncio.Task[None]] = set()

    def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(_serve((reader, writer), state))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
async def http() -> AsyncIterator[AioHttpClient]:
    async with AioHttpClient() as client:
        yield client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _client(http: AioHttpClient, url: str) -> AsyncRunpod:
    return AsyncRunpod(
        "test-key",
        endpoint_base_url=f"{url}/v2",
        http_client=http,
        retry=QUICK_RETRY,
        rate_limits=False,
    )


def _one(send: Send) -> Flow[Answer]:
    answer = yield send
    assert isinstance(answer, Answer)
    return answer


async def test_an_answer_with_its_headers_case_insensitive(http: AioHttpClient, rude: Rude) -> None:
    send = Send("GET", f"{rude.url}/v2/ep/status/job-1", {"Accept": "application/json"}, {"a": "1"})
    answer = await run_async(http, _one(send))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == answer.headers["Content-Type"] == "application/json"
    assert json.loads(answer.content)["path"] == "/v2/ep/status/job-1?a=1"
    assert answer.url.endswith("/status/job-1?a=1")


async def test_a_lost_answer_to_run_is_not_resent(http: AioHttpClient, rude: Rude) -> None:
    async with _client(http, rude.url) as rp:
        with pytest.raises(TransportError, match="duplicate job"):
            await rp.endpoint("ep").run({"x": 1})
    assert rude.seen == ["POST /v2/ep/run"]


async def test_a_lost_answer_to_an_idempotent_call_is_resent(
    http: AioHttpClient, rude: Rude
) -> None:
    async with _client(http, rude.url) as rp:
        with pytest.raises(TransportError, match="after 3 attempt"):
            await rp.endpoint("ep").job("lost").status()
    # aiohttp may resend a GET once by itself on a reused connection; never more.
    assert 3 <= rude.seen.count("GET /v2/ep/status/lost") <= 6


async def test_a_refused_connection_is_a_connect_error_any_call_may_resend(
    http: AioHttpClient,
) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    async with _client(http, url) as rp:
        with pytest.raises(TransportError, match=r"ConnectError.*after 3 attempt"):
            await rp.endpoint("ep").run({"x": 1})


async def test_a_stalled_answer_ends_at_the_budget(http: AioHttpClient, rude: Rude) -> None:
    send = Send("GET", f"{rude.url}/v2/ep/stall", {}, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await http.exchange(send, 0.3)
    assert 0.25 <= time.monotonic() - started < 2


async def test_the_call_deadline_cuts_a_stalled_answer(http: AioHttpClient, rude: Rude) -> None:
    send = Send("GET", f"{rude.url}/v2/ep/stall", {}, timeout=30)
    started = time.monotonic()
    with pytest.raises(WaitTimeout):
        await run_async(http, _one(send), deadline=Deadline.after(0.3, "a test"))
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("kind", ["endless", "huge"])
async def test_the_body_is_capped(http: AioHttpClient, rude: Rude, kind: str) -> None:
    send = Send("GET", f"{rude.url}/v2/ep/{kind}", {}, timeout=10, max_bytes=64 * 1024)
    started = time.monotonic()
    with pytest.raises(ResponseTooLargeError):
        await http.exchange(send, 10)
    assert time.monotonic() - started < 5


async def test_a_plain_httpx_request_goes_through_aiohttp(http: AioHttpClient, rude: Rude) -> None:
    answer = await http.post(f"{rude.url}/v2/ep/status/job-2", json={"a": 1})
    assert answer.json()["path"] == "/v2/ep/status/job-2"
    assert rude.seen == ["POST /v2/ep/status/job-2"]


async def test_closed_and_wrong_loop() -> None:
    client = AioHttpClient()
    await client.aclose()
    assert client.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.exchange(Send("GET", "http://127.0.0.1:1/", {}), 1.0)


def test_one_client_per_event_loop() -> None:
    client = AioHttpClient()
    url = f"http://127.0.0.1:{_free_port()}/"

    async def call() -> None:
        with contextlib.suppress(httpx.ConnectError):
            await client.exchange(Send("GET", url, {}), 1.0)

    asyncio.run(call())
    with pytest.raises(RuntimeError, match="event loop"):
        asyncio.run(call())
    assert client._session is not None
    client._session.detach()  # its loop is gone: nothing left to close there


@pytest.mark.parametrize(
    ("error", "mapped"),
    [
        (aiohttp.ConnectionTimeoutError(), httpx.ConnectTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.SocketTimeoutError(), httpx.ReadTimeout),
        (aiohttp.ClientPayloadError("cut"), httpx.ReadError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (aiohttp.InvalidURL("x"), httpx.UnsupportedProtocol),
        (aiohttp.NonHttpUrlClientError("ftp://x"), httpx.UnsupportedProtocol),
    ],
)
def test_error_mapping(error: aiohttp.ClientError, mapped: type[Exception]) -> None:
    assert type(_mapped(error)) is mapped


def test_a_connector_error_is_a_connect_error() -> None:
    from aiohttp.client_reqrep import ConnectionKey

    key = ConnectionKey("h", 1, False, True, None, None, None)
    error = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert type(_mapped(error)) is httpx.ConnectError
