"""The clients users hold: `Runpod`, `AsyncRunpod`, and `RunpodFactory` for many tenants.

A client owns (or borrows, from a factory or the caller) one httpx connection
pool, and one `Transport` with the key, URLs, retry policy and rate limiter.
Closing a client releases the pool only if the client owns it; either way the
client refuses further requests with `ClientClosedError`.

The options the three constructors share are declared once, as `ClientOptions`
(PEP 692 `**kwargs` types), and checked at construction: a misspelt name or a
value of the wrong kind is a `ConfigurationError` there, not a failure later.
"""

from __future__ import annotations

import difflib
import math
import os
import weakref
from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import NoneType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpcore
import httpx
from typing_extensions import TypedDict, Unpack

from runpod_typed._bounded_io import BoundedBackend, bounded_transport
from runpod_typed._config import ApiKeyProvider, ApiKeySource, hidden, resolve_urls
from runpod_typed._deadline import Deadline
from runpod_typed._endpoint import AsyncEndpoint, Endpoint
from runpod_typed._errors import ClientClosedError, ConfigurationError, WrongEventLoopError
from runpod_typed._flow import MAX_ANSWER_BYTES, Effect, Flow, run_async, run_sync
from runpod_typed._graphql import graphql_call, invalid_answer
from runpod_typed._logging import debug_from_env, disable_debug, enable_debug, redact
from runpod_typed._polling import DEFAULT_POLLING, PollingOptions
from runpod_typed._ratelimit import RateLimiter
from runpod_typed._retry import RetryPolicy
from runpod_typed._transport import Transport

if TYPE_CHECKING:
    from runpod_typed._account import Account, AsyncAccount
    from runpod_typed._billing import AsyncBilling, Billing
    from runpod_typed._catalog import AsyncCatalog, Catalog
    from runpod_typed._clusters import AsyncClusters, Clusters
    from runpod_typed._endpoints import AsyncEndpoints, Endpoints
    from runpod_typed._generated.graphql.async_client import AsyncRunpodGraphQLClient
    from runpod_typed._generated.graphql.client import RunpodGraphQLClient
    from runpod_typed._generated.graphql.flows import RunpodGraphQLFlows
    from runpod_typed._generated.rest.flows import AsyncRestApi, RestApi, RestFlows
    from runpod_typed._pods import AsyncPods, Pods
    from runpod_typed._registries import AsyncRegistries, Registries
    from runpod_typed._secrets import AsyncSecrets, Secrets
    from runpod_typed._templates import AsyncTemplates, Templates
    from runpod_typed._volumes import AsyncVolumes, Volumes

T = TypeVar("T")

#: Connection pool sized for fan-out: map() with concurrency 200 keeps 200 requests open.
DEFAULT_LIMITS = httpx.Limits(max_connections=512, max_keepalive_connections=256)
#: The default for `timeout=`: seconds one request may take (long-polls add their wait).
DEFAULT_TIMEOUT = 30.0


class ClientOptions(TypedDict, total=False):
    """The options of `Runpod`, `AsyncRunpod` and `RunpodFactory`; every one may be left out."""

    profile: str | None
    """Profile of ~/.runpod/config.toml to take the key from (default: RUNPOD_PROFILE, else
    "default"); only used when neither api_key= nor RUNPOD_API_KEY gives the key."""
    config_path: str | os.PathLike[str] | None
    """Where the config file is (default ~/.runpod/config.toml)."""
    api_base_url: str | None
    """Control-plane host (default RUNPOD_API_BASE_URL, else https://api.runpod.io)."""
    endpoint_base_url: str | None
    """Job API root including /v2 (default RUNPOD_ENDPOINT_BASE_URL, else https://api.runpod.ai/v2)."""
    allow_insecure_http: bool
    """Accept plain http:// to hosts other than loopback (default False)."""
    timeout: float
    """Seconds one request may take, > 0 (default 30; long-polls add the wait they ask for)."""
    retry: RetryPolicy | None
    """Retries of failed requests (None: the default `RetryPolicy()`)."""
    rate_limits: bool | RateLimiter
    """RunPod's published limits (True, the default), none (False), or your own limiter."""
    polling: PollingOptions | None
    """How waits poll when long-poll is not available, and their default timeout."""
    cancel_on_exit: bool
    """Cancel a remote job when the caller gives up on it (default True)."""
    debug: bool
    """Log requests, retries and state changes through the `runpod_typed` logger."""
    max_response_bytes: int
    """Most bytes one answer may have, > 0 (default 100 MB, five times RunPod's largest
    payload); a bigger or endless answer is refused with ResponseTooLargeError."""


#: What each option accepts at run time (the TypedDict is for type checkers), and how to say so.
_ACCEPTS: dict[str, tuple[tuple[type, ...], str]] = {
    "profile": ((str, NoneType), "a profile name (str) or None"),
    "config_path": ((str, os.PathLike, NoneType), "a path (str or os.PathLike) or None"),
    "api_base_url": ((str, NoneType), "a URL (str) or None"),
    "endpoint_base_url": ((str, NoneType), "a URL (str) or None"),
    "allow_insecure_http": ((bool,), "True or False"),
    "timeout": ((int, float), "a positive number of seconds"),
    "retry": ((RetryPolicy, NoneType), "a RetryPolicy, or None for the default"),
    "rate_limits": ((bool, RateLimiter), "True, False or a RateLimiter"),
    "polling": ((PollingOptions, NoneType), "a PollingOptions, or None for the default"),
    "cancel_on_exit": ((bool,), "True or False"),
    "debug": ((bool,), "True or False"),
    "max_response_bytes": ((int,), "a positive number of bytes (int)"),
}


def checked_options(options: Mapping[str, object], owner: str) -> ClientOptions:
    """`options` if every name is an option and every value fits it; else ConfigurationError."""
    unknown = sorted(set(options) - _ACCEPTS.keys())
    if unknown:
        named = []
        for name in unknown:
            close = difflib.get_close_matches(name, _ACCEPTS, n=1)
            named.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigurationError(
            f"{owner}() got unknown option{'s' if len(named) > 1 else ''} {', '.join(named)}; "
            f"its options are: {', '.join(_ACCEPTS)}"
        )
    for name, value in options.items():
        if not _fits(name, value):
            wanted = _ACCEPTS[name][1]
            shown = redact(repr(value))
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            raise ConfigurationError(
                f"{owner}(): {name}= must be {wanted}, got {shown} ({type(value).__name__})"
            )
    return cast(ClientOptions, options)


def _fits(name: str, value: object) -> bool:
    if name == "timeout":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return math.isfinite(value) and value > 0
    if name == "max_response_bytes":
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    return isinstance(value, _ACCEPTS[name][0])


def _no_cookies() -> CookieJar:
    """A jar that keeps nothing: RunPod needs no cookies, and tenants sharing a pool
    must not send each other's."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _sync_pool(timeout: float | None) -> httpx.Client:
    """The blocking pool clients create: every request within its total time limit."""
    transport = bounded_transport(DEFAULT_LIMITS)
    return httpx.Client(transport=transport, timeout=timeout, cookies=_no_cookies())


def _bound_callers_pool(client: httpx.Client) -> None:
    """Give a caller's blocking pool the total time limit per request the SDK's own have.

    httpx bounds each socket operation, so a server trickling its answer would outlive
    any deadline. The network backend of each of the pool's httpx transports is wrapped
    (`BoundedBackend`): it cuts operations only for requests the SDK's driver marks with
    their end, so the caller's own requests through the pool are unchanged. A transport
    of another kind (a mock, a custom one) is left as it is.
    """
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        if isinstance(inner, httpcore.NetworkBackend) and not isinstance(inner, BoundedBackend):
            pool._network_backend = BoundedBackend(inner)  # type: ignore[union-attr]


def _async_pool(timeout: float | None) -> httpx.AsyncClient:
    from runpod_typed._pool import ShardedAsyncTransport

    return httpx.AsyncClient(
        transport=ShardedAsyncTransport(DEFAULT_LIMITS), timeout=timeout, cookies=_no_cookies()
    )


def _limiter(rate_limits: bool | RateLimiter) -> RateLimiter:
    """RunPod's published per-endpoint limits (True), none (False), or the caller's own."""
    if isinstance(rate_limits, RateLimiter):
        return rate_limits
    return RateLimiter() if rate_limits else RateLimiter.disabled()


class _ClientKeys(ApiKeyProvider):
    """The client's key provider, which refuses once the client (or its pool) is closed.

    The transport asks for the key right before every request it sends, so this is
    the one check that every endpoint, job and GraphQL call of a client passes
    through, whichever object (an `Endpoint`, a `Job`) holds the pool.
    """

    def __init__(
        self,
        source: ApiKeySource | None,
        *,
        closed: Callable[[], str | None],
        profile: str | None,
        config_path: str | os.PathLike[str] | None,
    ) -> None:
        super().__init__(source, profile=profile, config_path=config_path)
        self._closed = closed
        #: Set by AsyncRunpod: raises WrongEventLoopError from a loop its pool is not in.
        self.check_loop: Callable[[], None] | None = None

    def get(self) -> str:
        reason = self._closed()
        if reason is not None:
            raise ClientClosedError(reason)
        if self.check_loop is not None:
            self.check_loop()
        return super().get()


#: The event loop each async connection pool was first used in: its connections (and
#: httpx's) belong to that loop, and fail in any other with a raw RuntimeError.
_POOL_LOOPS: weakref.WeakKeyDictionary[httpx.AsyncClient, Callable[[], object]] = (
    weakref.WeakKeyDictionary()
)


def _check_loop(pool: httpx.AsyncClient, owner: str) -> None:
    """WrongEventLoopError if `pool` is used from an asyncio loop other than its first."""
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio (trio): anyio's own checks apply
        return
    first = _POOL_LOOPS.get(pool)
    if first is None:
        try:
            _POOL_LOOPS[pool] = weakref.ref(loop)
        except TypeError:  # a loop without weak references: remember it by identity
            _POOL_LOOPS[pool] = lambda: loop
        return
    if first() is not loop:
        raise WrongEventLoopError(
            f"this {owner}'s connection pool was first used in another event loop, and "
            "connections cannot move between loops, so nothing was sent. Make the client in "
            "the loop that uses it (inside the coroutine given to asyncio.run), one per loop "
            "(or per thread running a loop); a RunpodFactory's async clients share one pool, "
            "so use one factory per loop"
        )


class _ClientBase:
    """Settings shared by the blocking and the async client."""

    _http: httpx.Client | httpx.AsyncClient

    def __init__(self, api_key: ApiKeySource | None, options: Mapping[str, object]) -> None:
        settings = checked_options(options, type(self).__name__)
        if settings.get("debug", False) or debug_from_env(os.environ):
            enable_debug(owner=self)
        keys = _ClientKeys(
            api_key,
            closed=self._closed_reason,
            profile=settings.get("profile"),
            config_path=settings.get("config_path"),
        )
        self._closed = False
        self._transport = Transport(
            keys=keys,
            urls=resolve_urls(
                settings.get("api_base_url"),
                settings.get("endpoint_base_url"),
                allow_insecure_http=settings.get("allow_insecure_http", False),
            ),
            retry=settings.get("retry") or RetryPolicy(),
            limiter=_limiter(settings.get("rate_limits", True)),
            timeout=settings.get("timeout", DEFAULT_TIMEOUT),
            max_answer_bytes=settings.get("max_response_bytes", MAX_ANSWER_BYTES),
        )
        self.polling: PollingOptions = settings.get("polling") or DEFAULT_POLLING
        self.cancel_on_exit: bool = settings.get("cancel_on_exit", True)

    def __repr__(self) -> str:
        transport = getattr(self, "_transport", None)
        if transport is None:  # half-built: a traceback printed with locals shows this
            return f"<{type(self).__name__} (not set up)>"
        urls = transport.urls
        return (
            f"{type(self).__name__}(graphql_url={urls.graphql_url!r}, "
            f"endpoint_base_url={urls.endpoint_base_url!r})"
        )

    def _endpoint_kwargs(self) -> dict[str, Any]:
        return {"polling": self.polling, "cancel_on_exit": self.cancel_on_exit}

    @cached_property
    def _graphql_flows(self) -> RunpodGraphQLFlows[Effect]:
        """The generated flow client: what the control-plane namespaces compose."""
        from runpod_typed._generated.graphql.flows import RunpodGraphQLFlows

        transport = self._transport
        return RunpodGraphQLFlows(
            send=lambda payload: graphql_call(transport, payload), invalid=invalid_answer
        )

    @cached_property
    def _rest_flows(self) -> RestFlows[Any]:
        """The generated REST v2 flows over this client's transport (`rest`, and helpers)."""
        from runpod_typed._generated.rest.flows import RestFlows
        from runpod_typed._rest import invalid_answer, rest_call
        from runpod_typed._sse import event_stream

        transport = self._transport
        return RestFlows(
            send=lambda request: rest_call(transport, request),
            stream=lambda request, parse: event_stream(transport, request, parse),
            invalid=invalid_answer,
        )

    def _closed_reason(self) -> str | None:
        """Why this client may send no more requests, or None while it may."""
        name = type(self).__name__
        if self._closed:
            return (
                f"this {name} was closed (by close() or the end of its `with` block), so "
                f"nothing was sent; make a new {name} for more requests"
            )
        if self._http.is_closed:
            return (
                f"the connection pool of this {name} was closed (by its RunpodFactory, or by "
                "the owner of the http_client= it was given), so nothing was sent; make a new "
                "client"
            )
        return None

    def _check_open(self) -> None:
        reason = self._closed_reason()
        if reason is not None:
            raise ClientClosedError(reason)


class Runpod(_ClientBase):
    """Blocking client. Use as a context manager, or call `close()`.

    The key comes from `api_key` (a string, or a callable re-read per request),
    else RUNPOD_API_KEY, else ~/.runpod/config.toml (`profile`, default "default").
    """

    _http: httpx.Client

    def __init__(
        self,
        api_key: ApiKeySource | None = None,
        *,
        http_client: httpx.Client | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise ConfigurationError(
                f"Runpod(): http_client= must be an httpx.Client, got {type(http_client).__name__}"
                " (AsyncRunpod takes an httpx.AsyncClient)"
            )
        api_key = hidden(api_key)  # out of this frame's locals (tracebacks print them)
        super().__init__(api_key, options)
        self._owns_http = http_client is None
        if http_client is not None:
            _bound_callers_pool(http_client)
        self._http = http_client or _sync_pool(self._transport.timeout)

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
    def rest(self) -> RestApi:
        """RunPod's REST API v2, generated: one typed method per operation
        (`rp.rest.get_pod(id)`), the log streams as iterators of `LogEvent`."""
        from runpod_typed._generated.rest.flows import RestApi
        from runpod_typed._sse import iterate_events_sync

        return RestApi(
            self._rest_flows, self._drive, lambda flow: iterate_events_sync(self._http, flow)
        )

    @cached_property
    def pods(self) -> Pods:
        """Pod helpers (REST v2; GraphQL for spot pods): create, get, list, edit, start,
        stop, restart, resume, terminate, wait until running, logs."""
        from runpod_typed._pods import PodFlows, Pods
        from runpod_typed._sse import iterate_events_sync

        flows = PodFlows(self._graphql_flows, self.polling, self._rest_flows)
        return Pods(flows, self._drive, lambda flow: iterate_events_sync(self._http, flow))

    @cached_property
    def billing(self) -> Billing:
        """Spending per time bucket (REST v2): account, pods, volumes, serverless, clusters."""
        from runpod_typed._billing import Billing, BillingFlows

        return Billing(BillingFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def endpoints(self) -> Endpoints:
        """Serverless endpoint management: list, get, create, update, delete."""
        from runpod_typed._endpoints import EndpointFlows, Endpoints
        from runpod_typed._sse import iterate_events_sync

        flows = EndpointFlows(self._graphql_flows, self._rest_flows)
        return Endpoints(flows, self._drive, lambda flow: iterate_events_sync(self._http, flow))

    @cached_property
    def templates(self) -> Templates:
        """Templates: list, get, create, update, delete."""
        from runpod_typed._templates import TemplateFlows, Templates

        return Templates(TemplateFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def volumes(self) -> Volumes:
        """Network volumes: list, get, create, update, delete."""
        from runpod_typed._volumes import VolumeFlows, Volumes

        return Volumes(VolumeFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def registries(self) -> Registries:
        """Container registry credentials: list, get, create, update, delete."""
        from runpod_typed._registries import Registries, RegistryFlows

        return Registries(RegistryFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def secrets(self) -> Secrets:
        """Secrets: list, get, create, delete."""
        from runpod_typed._secrets import SecretFlows, Secrets

        return Secrets(SecretFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def clusters(self) -> Clusters:
        """Instant clusters: create, delete."""
        from runpod_typed._clusters import ClusterFlows, Clusters

        return Clusters(ClusterFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def catalog(self) -> Catalog:
        """GPU and CPU types, CPU flavors, data centers and stock."""
        from runpod_typed._catalog import Catalog, CatalogFlows

        return Catalog(CatalogFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def account(self) -> Account:
        """The account: the user and its settings."""
        from runpod_typed._account import Account, AccountFlows

        return Account(AccountFlows(self._graphql_flows, self._rest_flows), self._drive)

    def _drive(self, flow: Flow[T], *, deadline: Deadline | None = None) -> T:
        return run_sync(self._http, flow, deadline=deadline)

    def close(self) -> None:
        """Release the connection pool (unless it belongs to a factory or the caller).

        Requests made through this client afterwards (by its endpoints, jobs,
        `graphql`, `pods`, ...) raise `ClientClosedError`. Closing twice is fine.
        """
        self._closed = True
        disable_debug(self)
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Runpod:
        self._check_open()
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

    _http: httpx.AsyncClient

    def __init__(
        self,
        api_key: ApiKeySource | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ConfigurationError(
                "AsyncRunpod(): http_client= must be an httpx.AsyncClient, got "
                f"{type(http_client).__name__} (Runpod takes an httpx.Client)"
            )
        api_key = hidden(api_key)  # out of this frame's locals (tracebacks print them)
        super().__init__(api_key, options)
        self._owns_http = http_client is None
        self._http = http_client or _async_pool(self._transport.timeout)
        pool, name = self._http, type(self).__name__
        keys = self._transport.keys
        if isinstance(keys, _ClientKeys):
            keys.check_loop = lambda: _check_loop(pool, name)

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
    def rest(self) -> AsyncRestApi:
        """See `Runpod.rest`: the same operations, awaitable; log streams as `async for`."""
        from runpod_typed._generated.rest.flows import AsyncRestApi
        from runpod_typed._sse import iterate_events_async

        return AsyncRestApi(
            self._rest_flows, self._drive, lambda flow: iterate_events_async(self._http, flow)
        )

    @cached_property
    def pods(self) -> AsyncPods:
        from runpod_typed._pods import AsyncPods, PodFlows
        from runpod_typed._sse import iterate_events_async

        flows = PodFlows(self._graphql_flows, self.polling, self._rest_flows)
        return AsyncPods(flows, self._drive, lambda flow: iterate_events_async(self._http, flow))

    @cached_property
    def billing(self) -> AsyncBilling:
        from runpod_typed._billing import AsyncBilling, BillingFlows

        return AsyncBilling(BillingFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def endpoints(self) -> AsyncEndpoints:
        from runpod_typed._endpoints import AsyncEndpoints, EndpointFlows
        from runpod_typed._sse import iterate_events_async

        flows = EndpointFlows(self._graphql_flows, self._rest_flows)
        return AsyncEndpoints(
            flows, self._drive, lambda flow: iterate_events_async(self._http, flow)
        )

    @cached_property
    def templates(self) -> AsyncTemplates:
        from runpod_typed._templates import AsyncTemplates, TemplateFlows

        return AsyncTemplates(TemplateFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def volumes(self) -> AsyncVolumes:
        from runpod_typed._volumes import AsyncVolumes, VolumeFlows

        return AsyncVolumes(VolumeFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def registries(self) -> AsyncRegistries:
        from runpod_typed._registries import AsyncRegistries, RegistryFlows

        return AsyncRegistries(RegistryFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def secrets(self) -> AsyncSecrets:
        from runpod_typed._secrets import AsyncSecrets, SecretFlows

        return AsyncSecrets(SecretFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def clusters(self) -> AsyncClusters:
        from runpod_typed._clusters import AsyncClusters, ClusterFlows

        return AsyncClusters(ClusterFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def catalog(self) -> AsyncCatalog:
        from runpod_typed._catalog import AsyncCatalog, CatalogFlows

        return AsyncCatalog(CatalogFlows(self._graphql_flows, self._rest_flows), self._drive)

    @cached_property
    def account(self) -> AsyncAccount:
        from runpod_typed._account import AccountFlows, AsyncAccount

        return AsyncAccount(AccountFlows(self._graphql_flows, self._rest_flows), self._drive)

    def _drive(self, flow: Flow[T], *, deadline: Deadline | None = None) -> Awaitable[T]:
        return run_async(self._http, flow, deadline=deadline)

    async def close(self) -> None:
        """See `Runpod.close`."""
        self._closed = True
        disable_debug(self)
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncRunpod:
        self._check_open()
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

    def __init__(self, **options: Unpack[ClientOptions]) -> None:
        if "api_key" in options:
            raise ConfigurationError(
                "RunpodFactory() takes no api_key: pass each tenant's key to client()"
            )
        self._options = checked_options(options, "RunpodFactory")
        # One limiter for all tenants: RunPod's limits are per endpoint, and ids are global.
        self._options["rate_limits"] = _limiter(options.get("rate_limits", True))
        self._http: httpx.Client | None = None
        self._async_http: httpx.AsyncClient | None = None

    def client(self, api_key: ApiKeySource) -> Runpod:
        api_key = hidden(api_key)  # type: ignore[assignment]  # never None here
        if self._http is None:
            self._http = _sync_pool(None)
        return Runpod(api_key, http_client=self._http, **self._options)

    def async_client(self, api_key: ApiKeySource) -> AsyncRunpod:
        api_key = hidden(api_key)  # type: ignore[assignment]  # never None here
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
