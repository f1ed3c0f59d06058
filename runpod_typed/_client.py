"""The clients users hold: `Runpod`, `AsyncRunpod`, and `RunpodFactory` for many tenants.

A client owns (or borrows, from a factory or the caller) one httpx connection
pool, and one `Transport` with the key, URLs, retry policy and rate limiter.
Closing a client releases the pool only if the client owns it.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from runpod_typed._config import ApiKeyProvider, ApiKeySource, resolve_urls
from runpod_typed._endpoint import AsyncEndpoint, Endpoint
from runpod_typed._flow import Flow, run_async, run_sync
from runpod_typed._graphql import graphql_call, invalid_answer
from runpod_typed._logging import debug_from_env, enable_debug
from runpod_typed._polling import DEFAULT_POLLING, PollingOptions
from runpod_typed._ratelimit import RateLimiter
from runpod_typed._retry import RetryPolicy
from runpod_typed._transport import Transport

if TYPE_CHECKING:
    from runpod_typed._account import Account, AsyncAccount
    from runpod_typed._generated.graphql.async_client import AsyncRunpodGraphQLClient
    from runpod_typed._generated.graphql.client import RunpodGraphQLClient
    from runpod_typed._pods import AsyncPods, Pods

T = TypeVar("T")

#: Connection pool sized for fan-out: map() with concurrency 200 keeps 200 requests open.
DEFAULT_LIMITS = httpx.Limits(max_connections=512, max_keepalive_connections=256)


def _async_pool(timeout: float | None) -> httpx.AsyncClient:
    from runpod_typed._pool import ShardedAsyncTransport

    return httpx.AsyncClient(transport=ShardedAsyncTransport(DEFAULT_LIMITS), timeout=timeout)


def _limiter(rate_limits: bool | RateLimiter) -> RateLimiter:
    """RunPod's published per-endpoint limits (True), none (False), or the caller's own."""
    if isinstance(rate_limits, RateLimiter):
        return rate_limits
    return RateLimiter() if rate_limits else RateLimiter.disabled()


def _transport(
    api_key: ApiKeySource | None,
    *,
    profile: str | None,
    config_path: Path | None,
    api_base_url: str | None,
    endpoint_base_url: str | None,
    allow_insecure_http: bool,
    timeout: float,
    retry: RetryPolicy | None,
    rate_limits: bool | RateLimiter,
    debug: bool,
) -> Transport:
    if debug or debug_from_env(os.environ):
        enable_debug()
    limiter = _limiter(rate_limits)
    return Transport(
        keys=ApiKeyProvider(api_key, profile=profile, config_path=config_path),
        urls=resolve_urls(api_base_url, endpoint_base_url, allow_insecure_http=allow_insecure_http),
        retry=retry or RetryPolicy(),
        limiter=limiter,
        timeout=timeout,
    )


class _ClientBase:
    """Settings shared by the blocking and the async client."""

    def __init__(
        self,
        api_key: ApiKeySource | None = None,
        *,
        profile: str | None = None,
        config_path: Path | None = None,
        api_base_url: str | None = None,
        endpoint_base_url: str | None = None,
        allow_insecure_http: bool = False,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        rate_limits: bool | RateLimiter = True,
        polling: PollingOptions = DEFAULT_POLLING,
        cancel_on_exit: bool = True,
        debug: bool = False,
    ) -> None:
        self._transport = _transport(
            api_key,
            profile=profile,
            config_path=config_path,
            api_base_url=api_base_url,
            endpoint_base_url=endpoint_base_url,
            allow_insecure_http=allow_insecure_http,
            timeout=timeout,
            retry=retry,
            rate_limits=rate_limits,
            debug=debug,
        )
        self.polling = polling
        self.cancel_on_exit = cancel_on_exit

    def __repr__(self) -> str:
        urls = self._transport.urls
        return (
            f"{type(self).__name__}(graphql_url={urls.graphql_url!r}, "
            f"endpoint_base_url={urls.endpoint_base_url!r})"
        )

    def _endpoint_kwargs(self) -> dict[str, Any]:
        return {"polling": self.polling, "cancel_on_exit": self.cancel_on_exit}


class Runpod(_ClientBase):
    """Blocking client. Use as a context manager, or call `close()`.

    The key comes from `api_key` (a string, or a callable re-read per request),
    else RUNPOD_API_KEY, else ~/.runpod/config.toml (`profile`, default "default").
    """

    def __init__(
        self,
        api_key: ApiKeySource | None = None,
        *,
        http_client: httpx.Client | None = None,
        **options: Any,
    ) -> None:
        super().__init__(api_key, **options)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            limits=DEFAULT_LIMITS, timeout=self._transport.timeout
        )

    def endpoint(self, endpoint_id: str) -> Endpoint:
        """A serverless endpoint by id (no request is made)."""
        return Endpoint(self._http, self._transport, endpoint_id, **self._endpoint_kwargs())

    @cached_property
    def graphql(self) -> RunpodGraphQLClient:
        """The generated, typed GraphQL client (every operation in codegen/operations)."""
        from runpod_typed._generated.graphql.client import RunpodGraphQLClient

        return RunpodGraphQLClient(
            send=lambda payload: self._drive(graphql_call(self._transport, payload)),
            invalid=invalid_answer,
        )

    @cached_property
    def pods(self) -> Pods:
        """Pod helpers: create, stop, resume, terminate, wait until running."""
        from runpod_typed._pods import Pods

        return Pods(self.graphql, self.polling, self._drive)

    @cached_property
    def account(self) -> Account:
        """Account helpers: GPU types and prices, the user, registry credentials."""
        from runpod_typed._account import Account

        return Account(self.graphql, self._drive)

    def _drive(self, flow: Flow[T]) -> T:
        return run_sync(self._http, flow)

    def close(self) -> None:
        """Release the connection pool (unless it belongs to a factory or the caller)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Runpod:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncRunpod(_ClientBase):
    """Async client (asyncio or trio through anyio); the same surface as `Runpod`."""

    def __init__(
        self,
        api_key: ApiKeySource | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> None:
        super().__init__(api_key, **options)
        self._owns_http = http_client is None
        self._http = http_client or _async_pool(self._transport.timeout)

    def endpoint(self, endpoint_id: str) -> AsyncEndpoint:
        return AsyncEndpoint(self._http, self._transport, endpoint_id, **self._endpoint_kwargs())

    @cached_property
    def graphql(self) -> AsyncRunpodGraphQLClient:
        from runpod_typed._generated.graphql.async_client import AsyncRunpodGraphQLClient

        return AsyncRunpodGraphQLClient(
            send=lambda payload: self._drive(graphql_call(self._transport, payload)),
            invalid=invalid_answer,
        )

    @cached_property
    def pods(self) -> AsyncPods:
        from runpod_typed._pods import AsyncPods

        return AsyncPods(self.graphql, self.polling, self._drive)

    @cached_property
    def account(self) -> AsyncAccount:
        from runpod_typed._account import AsyncAccount

        return AsyncAccount(self.graphql, self._drive)

    def _drive(self, flow: Flow[T]) -> Awaitable[T]:
        return run_async(self._http, flow)

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncRunpod:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class RunpodFactory:
    """Per-tenant clients with their own keys over one shared connection pool.

    For multi-tenant services: `factory.client(user_key)` is cheap; closing it
    leaves the pool to the factory, which `close()`/`aclose()` releases.
    Options given here (URLs, retry, polling, ...) apply to every client made.
    """

    def __init__(self, **options: Any) -> None:
        if "api_key" in options:
            raise TypeError("RunpodFactory takes no api_key: pass each tenant's key to client()")
        self._options = options
        # One limiter for all tenants: RunPod's limits are per endpoint, and ids are global.
        options["rate_limits"] = _limiter(options.get("rate_limits", True))
        self._http: httpx.Client | None = None
        self._async_http: httpx.AsyncClient | None = None

    def client(self, api_key: ApiKeySource) -> Runpod:
        if self._http is None:
            self._http = httpx.Client(limits=DEFAULT_LIMITS)
        return Runpod(api_key, http_client=self._http, **self._options)

    def async_client(self, api_key: ApiKeySource) -> AsyncRunpod:
        if self._async_http is None:
            self._async_http = _async_pool(None)
        return AsyncRunpod(api_key, http_client=self._async_http, **self._options)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    async def aclose(self) -> None:
        self.close()
        if self._async_http is not None:
            await self._async_http.aclose()
            self._async_http = None

    def __enter__(self) -> RunpodFactory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> RunpodFactory:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
