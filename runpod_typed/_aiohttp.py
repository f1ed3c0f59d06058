"""`AioHttpClient`: the async client's requests sent with aiohttp (`runpod-typed[aiohttp]`).

    async with AioHttpClient() as http, AsyncRunpod(http_client=http) as rp:
        results = await rp.endpoint("abc").map(inputs, concurrency=200)

It is an `httpx.AsyncClient` (so it goes wherever one does), but the SDK's async
driver hands it each request as a `Send` effect (`exchange`, the `AsyncSender`
hook of `_flow.py`) and it sends that with one `aiohttp.ClientSession`, skipping
httpx's request and connection-pool layers, which cost several times more CPU
per request (bench/http_cpu.py). Retries, deadlines, cancellation and error
mapping stay in the flows and the driver; this module only maps aiohttp's
failures onto the httpx errors the flows read:

| aiohttp | httpx | the request ... |
| --- | --- | --- |
| ClientConnectorError (refused, DNS, TLS), ConnectionTimeoutError | ConnectError, ConnectTimeout | was not sent: any request may be resent |
| ServerDisconnectedError, a reset, a broken body, a bad answer | RemoteProtocolError, ReadError | may have been sent: only idempotent ones are resent |
| SocketTimeoutError, the total budget | ReadTimeout | may have been sent |
| InvalidURL, a non-HTTP URL | UnsupportedProtocol | can never be sent |

aiohttp runs on asyncio only (under trio, use the default client).
"""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

import aiohttp
import httpx

from runpod_typed._errors import ConfigurationError
from runpod_typed._flow import Answer, Send, too_large

#: Connections open at once, all hosts together: a fan-out at concurrency 200 plus
#: its long-polls, with room (the same as the default httpx pool's).
MAX_CONNECTIONS = 512
#: Seconds an idle connection is kept for reuse (httpx's default expiry).
KEEPALIVE_SECONDS = 5.0
#: Seconds a TCP connect may take (within the request's budget), as in the httpx path.
CONNECT_SECONDS = 10.0
#: Seconds a request may take when its Send names no timeout (the SDK's always do).
DEFAULT_TIMEOUT = 30.0


class AioHttpClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` whose requests (the SDK's, and your own) go through aiohttp.

    Pass it as `AsyncRunpod(http_client=...)`; like any `http_client=`, it belongs
    to you: close it (`async with`, or `await aclose()`) when its clients are done.
    Several clients (tenants) may share one. The aiohttp session is made on the
    first request, on that request's event loop, and stays bound to it.
    """

    def __init__(
        self,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        keepalive_expiry: float = KEEPALIVE_SECONDS,
        trust_env: bool = True,
    ) -> None:
        super().__init__(timeout=timeout, transport=_AioHttpTransport(self), trust_env=trust_env)
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # aiohttp's trust_env looks up HTTP(S)_PROXY/NO_PROXY in a thread on every request
        # (0.5 ms of CPU each in bench/http_cpu.py): only ask for it when one is set.
        self._env_proxies = trust_env and bool(urllib.request.getproxies_environment())

    def _open(self) -> aiohttp.ClientSession:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigurationError(
                "AioHttpClient runs on asyncio only; under trio use AsyncRunpod's default client"
            ) from None
        if self.is_closed:
            raise RuntimeError("this AioHttpClient was closed; make a new one")
        if self._session is not None:
            raise RuntimeError(
                "an AioHttpClient stays on the event loop of its first request, and this is "
                "another one, so nothing was sent: make one client per event loop"
            )
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            keepalive_timeout=self._keepalive_expiry,
            # httpx's context (certifi's CAs, SSL_CERT_FILE), so both clients trust the same.
            ssl=httpx.create_ssl_context(trust_env=self._trust_env),
        )
        self._loop = loop
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # RunPod sets none; skip the jar's work
            trust_env=self._env_proxies,  # HTTP(S)_PROXY, NO_PROXY, as httpx reads them
        )
        return self._session

    def _session_here(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or self._loop is not asyncio.get_running_loop():
            return self._open()
        return session

    async def exchange(self, send: Send, budget: float | None) -> Answer:
        """Send one request and read its answer (the async driver's `AsyncSender` hook)."""
        session = self._session_here()
        if budget is None:
            budget = send.timeout if send.timeout is not None else self.timeout.read
        timeout = aiohttp.ClientTimeout(
            total=budget,
            sock_connect=CONNECT_SECONDS if budget is None else min(CONNECT_SECONDS, budget),
        )
        try:
            async with session.request(
                send.method,
                send.url,
                params=send.params,
                data=send.content,
                headers=send.headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                content = await _read(send, response)
                url = send.url if send.params is None else str(response.url)
                return Answer(response.status, response.headers, content, url)
        except aiohttp.ClientError as exc:
            raise _mapped(exc) from exc
        except asyncio.TimeoutError:  # the total budget (TimeoutError on Python >= 3.11)
            raise httpx.ReadTimeout("the request took longer than its total timeout") from None
        except ValueError as exc:  # a header value aiohttp refuses to send
            raise httpx.LocalProtocolError(str(exc)) from exc

    async def _close_session(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


async def _read(send: Send, response: aiohttp.ClientResponse) -> bytes:
    """The body, at most `send.max_bytes` of it (refused early by Content-Length)."""
    declared = response.content_length
    if declared is not None and declared > send.max_bytes:
        raise too_large(send)
    if declared is not None and "Content-Encoding" not in response.headers:
        return await response.read()  # exactly `declared` bytes
    # Chunked, or compressed (the decoded size is unknown): count as it comes.
    parts: list[bytes] = []
    size = 0
    async for part in response.content.iter_any():
        size += len(part)
        if size > send.max_bytes:
            raise too_large(send)
        parts.append(part)
    return b"".join(parts)


def _mapped(exc: aiohttp.ClientError) -> httpx.TransportError:
    """aiohttp's failure as the httpx error the flows' retry rules read (see the table above)."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        return httpx.UnsupportedProtocol(message)
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientResponseError)):
        return httpx.RemoteProtocolError(message)
    return httpx.ReadError(message)


class _AioHttpTransport(httpx.AsyncBaseTransport):
    """httpx's side of an AioHttpClient: requests sent through httpx's own API use
    the same aiohttp session (`exchange`), so the client has one pool, not two."""

    def __init__(self, owner: AioHttpClient) -> None:
        self._owner = owner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        budget = timeouts.get("read")
        headers = {
            name: value
            for name, value in request.headers.items()
            if name not in ("host", "content-length", "transfer-encoding")
        }
        content = await request.aread()
        send = Send(request.method, str(request.url), headers, None, content or None, budget)
        answer = await self._owner.exchange(send, budget)
        # aiohttp has decoded the body: drop the headers that describe the encoded one.
        kept = [
            (name, value)
            for name, value in answer.headers.items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(answer.status_code, headers=kept, content=answer.content)

    async def aclose(self) -> None:
        await self._owner._close_session()
