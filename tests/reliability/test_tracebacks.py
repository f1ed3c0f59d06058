"""Secrets in tracebacks: every failure, formatted with locals and chained exceptions, for
more tenants than the redactor once remembered, shows no tenant's key.

`pytest -l`, rich's `show_locals`, and error trackers print more than an error's
message: the repr of every local variable of every frame, and the exceptions
chained to it (`__cause__`, `__context__`, even a context suppressed by `from
None`, which a tracker can still reach), whose httpx requests carry headers.
Here `TENANTS` clients with their own keys live at once (a `RunpodFactory`-style
service), and the oldest of them -- the ones a bounded registry forgets first --
meet every kind of failure, many from a server that quotes the key back (a 401,
a 503, an HTML page, a GraphQL error, a job's error message). Each error is
rendered by `traceback.TracebackException(..., capture_locals=True)` with its
chain, each link of the full chain on its own, rich's `Traceback(show_locals=True)`,
and the chain's request headers; no rendering may hold any tenant's key.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest

from runpod_typed import (
    APIStatusError,
    AsyncRunpod,
    ClientClosedError,
    ConfigurationError,
    GraphQLError,
    JobFailed,
    PollingOptions,
    ResponseFormatError,
    ResponseTooLargeError,
    RetryPolicy,
    Runpod,
    RunpodError,
    RunpodFactory,
    StreamInterrupted,
    TransportError,
    WaitTimeout,
)

from . import hostile_server as hs
from .recorder import Case, Results, SecretWitness

SECTION = "tracebacks"
pytestmark = pytest.mark.reliability

#: Live clients, each with its own key: more than the 256 the redactor used to keep.
TENANTS = 300
#: Tenants (the oldest first) that produce each kind of failure, per client kind.
PER_KIND = 2
QUICK_RETRY = RetryPolicy(max_attempts=2, initial_delay=0.0, max_delay=0.01)
POLLING = PollingOptions(first_delay=0.02, max_delay=0.1)
KEY_SHAPE = re.compile(r"rpa_T\d{4}_[0-9a-f]{24}")
HERE = str(Path(__file__).resolve().parent)


def tenant_key(i: int) -> str:
    """A key unique to tenant i, sharing no long prefix with another tenant's."""
    return f"rpa_T{i:04d}_" + hashlib.sha256(f"tenant {i}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    expected: type[BaseException]
    #: The server's behaviour for the tenant (None: no request reaches it).
    plan: hs.Plan | None = None
    #: Client options beside the URLs.
    options: dict[str, Any] = field(default_factory=dict)
    #: The key comes back inside the server's payload (a GraphQL error list, a job's
    #: error), which the SDK keeps as received in attributes (and so in locals): only
    #: the error's message is held to the rule; the rest is reported, not asserted.
    payload: bool = False


KINDS = [
    Kind("401", "401 quoting the key", APIStatusError, hs.Plan({"health": hs.ECHO_401})),
    Kind(
        "503",
        "503 quoting the key, after retries",
        APIStatusError,
        hs.Plan({"health": hs.ECHO_503}),
        {"retry": QUICK_RETRY},
    ),
    Kind(
        "html",
        "HTML page quoting the key as 200",
        ResponseFormatError,
        hs.Plan({"health": hs.ECHO_HTML}),
    ),
    Kind(
        "graphql",
        "GraphQL error quoting the key",
        GraphQLError,
        hs.Plan(),
        payload=True,
    ),
    Kind(
        "job-failed",
        "job failed with an error quoting the key",
        JobFailed,
        hs.Plan(state="FAILED", output="worker could not use {key}"),
        payload=True,
    ),
    Kind(
        "hang",
        "hung request, client timeout, no retry",
        TransportError,
        hs.Plan({"health": hs.HANG}),
        {"timeout": 0.3, "retry": RetryPolicy.none()},
    ),
    Kind(
        "refused",
        "connection refused",
        TransportError,
        None,
        {"retry": RetryPolicy.none()},
    ),
    Kind(
        "deadline",
        "hung wait past timeout= (then /cancel)",
        WaitTimeout,
        hs.Plan({"status-sync": hs.HANG, "status": hs.HANG}),
    ),
    Kind(
        "trickle",
        "trickled answer past timeout=",
        WaitTimeout,
        hs.Plan({"status-sync": hs.TRICKLE_BODY, "status": hs.TRICKLE_BODY}, trickle=0.1),
    ),
    Kind(
        "endless",
        "endless body over max_response_bytes",
        ResponseTooLargeError,
        hs.Plan({"health": hs.ENDLESS}),
        {"max_response_bytes": 256 * 1024},
    ),
    Kind(
        "wrong-id",
        "answer about another job",
        ResponseFormatError,
        hs.Plan({"cancel": hs.WRONG_ID}),
    ),
    Kind(
        "lost-stream",
        "lost /stream answer, output []",
        StreamInterrupted,
        hs.Plan({"stream": hs.LOST}, state="COMPLETED", output=[]),
    ),
    Kind("bad-option", "a bad client option", ConfigurationError),
    Kind("bad-key", "a key with a stray space", ConfigurationError),
    Kind(
        "provider",
        "key provider raising with the key in its message",
        ConfigurationError,
        hs.Plan(),
    ),
    Kind("closed", "use after close()", ClientClosedError, hs.Plan()),
]
CLIENTS = ("sync", "async")


@dataclass
class Produced:
    kind: Kind
    client: str
    tenant: int
    error: BaseException | None = None


def _url(server: hs.HostileServer, kind: Kind, refused: str) -> dict[str, str]:
    if kind.key == "refused":
        return {"api_base_url": refused, "endpoint_base_url": refused + "/v2"}
    return server.urls()


class _Provider:
    """A rotating key source that hands out the key once, then fails quoting it."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError(f"the vault refused to renew {self.key}")
        return self.key


def make_client(
    kind: Kind, client: str, key: str, urls: dict[str, str], pool: httpx.Client | httpx.AsyncClient
) -> Any:
    """Tenant `key`'s client, as `kind` needs it (None for the kinds that fail to make one)."""
    if kind.key in ("bad-option", "bad-key"):
        return None
    cls: Any = Runpod if client == "sync" else AsyncRunpod
    source: Any = _Provider(key) if kind.key == "provider" else key
    return cls(source, http_client=pool, **urls, polling=POLLING, **kind.options)


def fail_sync(kind: Kind, key: str, rp: Any, urls: dict[str, str], pool: httpx.Client) -> Any:
    """Make tenant `key`'s blocking client fail the way `kind` says."""
    if kind.key == "bad-option":
        return Runpod(key, http_client=pool, timeout=-1, **urls)
    if kind.key == "bad-key":
        return Runpod(key + " x", http_client=pool, **urls)
    endpoint = rp.endpoint("t")
    if kind.key == "provider":
        endpoint.health()
    if kind.key == "closed":
        rp.close()
    if kind.key == "graphql":
        return rp.graphql.myself()
    if kind.key == "job-failed":
        return endpoint.job("job-1").output(timeout=30)
    if kind.key in ("deadline", "trickle"):
        return endpoint.job("job-1").output(timeout=0.4)
    if kind.key == "wrong-id":
        return endpoint.job("job-1").cancel()
    if kind.key == "lost-stream":
        return list(endpoint.job("job-1").stream(timeout=2))
    return endpoint.health()


async def fail_async(
    kind: Kind, key: str, arp: Any, urls: dict[str, str], pool: httpx.AsyncClient
) -> Any:
    if kind.key == "bad-option":
        return AsyncRunpod(key, http_client=pool, timeout=-1, **urls)
    if kind.key == "bad-key":
        return AsyncRunpod(key + " x", http_client=pool, **urls)
    endpoint = arp.endpoint("t")
    if kind.key == "provider":
        await endpoint.health()
    if kind.key == "closed":
        await arp.close()
    if kind.key == "graphql":
        return await arp.graphql.myself()
    if kind.key == "job-failed":
        return await endpoint.job("job-1").output(timeout=30)
    if kind.key in ("deadline", "trickle"):
        return await endpoint.job("job-1").output(timeout=0.4)
    if kind.key == "wrong-id":
        return await endpoint.job("job-1").cancel()
    if kind.key == "lost-stream":
        return [chunk async for chunk in endpoint.job("job-1").stream(timeout=2)]
    return await endpoint.health()


def chain(exc: BaseException) -> Iterator[BaseException]:
    """Every exception reachable from `exc` (causes and contexts, suppressed or not)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        link = todo.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        todo += [e for e in (link.__cause__, link.__context__) if e is not None]


def _from_the_call(tb: TracebackType | None) -> TracebackType | None:
    """The traceback from the SDK call on: the frames of this module (which hold every
    tenant's key, as a test must) are the caller's, not the SDK's."""
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(HERE):
        tb = tb.tb_next
    return tb


def renderings(exc: BaseException) -> Iterator[tuple[str, str]]:
    """(what, text) for every way a traceback printer or error tracker shows `exc`."""
    tb = _from_the_call(exc.__traceback__)
    yield "message (str, repr)", f"{exc}\n{exc!r}"
    yield "attributes", repr(vars(exc))
    yield (
        "traceback with locals and chain",
        "".join(traceback.TracebackException(type(exc), exc, tb, capture_locals=True).format()),
    )
    for link in chain(exc):
        if link is exc:
            continue
        yield "chained exception", f"{link}\n{link!r}"
        yield (
            "chained exception's traceback with locals",
            "".join(
                traceback.TracebackException.from_exception(link, capture_locals=True).format(
                    chain=False
                )
            ),
        )
        if isinstance(link, httpx.HTTPError):
            try:
                request = link.request
            except RuntimeError:
                continue
            yield (
                "chained request headers",
                repr([(k.decode(), v.decode()) for k, v in request.headers.raw]),
            )
    try:
        from rich.traceback import Traceback
    except ImportError:
        return
    # What rich's Traceback(show_locals=True) prints, before layout and highlighting
    # (rendering costs seconds per error): every frame's locals, pretty-printed by rich.
    trace = Traceback.extract(type(exc), exc, tb, show_locals=True)
    yield "rich traceback (show_locals)", repr(trace)


@dataclass
class Checked:
    renderings: Counter[str] = field(default_factory=Counter)
    leaks: list[str] = field(default_factory=list)
    #: Keys found in the server's payload kept as received (payload kinds, not asserted).
    payload: list[str] = field(default_factory=list)


def check(produced: Produced, keys: set[str], witness: SecretWitness, checked: Checked) -> None:
    assert produced.error is not None
    for what, text in renderings(produced.error):
        checked.renderings[what] += 1
        witness.check(f"traceback: {what}", text)
        found = [k for k in KEY_SHAPE.findall(text) if k in keys]
        if found:
            at = text.find(found[0])
            where = (
                checked.payload
                if produced.kind.payload and what != "message (str, repr)"
                else checked.leaks
            )
            where.append(
                f"{produced.kind.key}/{produced.client} ({type(produced.error).__name__}) "
                f"in {what}: ...{text[max(0, at - 120) : at].strip()[-120:]!r}"
            )


@pytest.fixture(scope="module")
def produced(secret_witness: SecretWitness) -> Iterator[tuple[list[Produced], set[str]]]:
    """TENANTS live clients; the oldest produce every kind of failure, sync and async."""
    keys = [tenant_key(i) for i in range(TENANTS)]
    with hs.HostileServer() as server:
        refused = _closed_port_url()
        factory = RunpodFactory(**server.urls(), polling=POLLING)
        pool = factory.client(keys[-1])._http
        apool = factory.async_client(keys[-1])._http
        work: list[Produced] = [
            Produced(kind, client, 0)
            for kind in KINDS
            for client in CLIENTS
            for _ in range(PER_KIND)
        ]
        for tenant, item in enumerate(work):
            item.tenant = tenant
            if item.kind.plan is not None:
                server.plan(keys[tenant], item.kind.plan)
        # Every tenant's client made (its key registered) first, the oldest first: a
        # bounded registry forgets those. The oldest are the ones that then fail.
        tenants: list[Any] = []
        for tenant, key in enumerate(keys):
            if tenant < len(work):
                item = work[tenant]
                urls = _url(server, item.kind, refused)
                chosen = pool if item.client == "sync" else apool
                tenants.append(make_client(item.kind, item.client, key, urls, chosen))
            else:
                tenants.append(
                    (Runpod if tenant % 2 else AsyncRunpod)(
                        key, http_client=pool if tenant % 2 else apool
                    )
                )

        def run(item: Produced) -> None:
            urls = _url(server, item.kind, refused)
            try:
                fail_sync(item.kind, keys[item.tenant], tenants[item.tenant], urls, pool)
            except Exception as exc:
                item.error = exc

        threads = [
            threading.Thread(target=run, args=(item,), daemon=True)
            for item in work
            if item.client == "sync"
        ]
        for thread in threads:
            thread.start()

        async def run_async() -> None:
            async def one(item: Produced) -> None:
                urls = _url(server, item.kind, refused)
                try:
                    await fail_async(
                        item.kind, keys[item.tenant], tenants[item.tenant], urls, apool
                    )
                except Exception as exc:
                    item.error = exc

            await asyncio.gather(*(one(item) for item in work if item.client == "async"))
            await apool.aclose()

        asyncio.run(run_async())
        for thread in threads:
            thread.join(timeout=30)
        assert len(tenants) == TENANTS  # alive until here
        yield work, set(keys)
        factory.close()


def _closed_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def checked(produced: tuple[list[Produced], set[str]], secret_witness: SecretWitness) -> Checked:
    work, keys = produced
    result = Checked()
    started = time.monotonic()
    for item in work:
        if item.error is not None:
            check(item, keys, secret_witness, result)
    result.renderings["(seconds to render and search)"] = round(time.monotonic() - started)
    return result


def _record(results: Results, work: list[Produced], checked: Checked) -> None:
    results.figure(SECTION, "live clients, each with its own key", TENANTS)
    results.figure(
        SECTION,
        "failures produced (kinds x blocking/async x tenants)",
        f"{len(work)} ({len(KINDS)} kinds x 2 x {PER_KIND}), by the oldest {len(work)} tenants",
    )
    results.figure(SECTION, "renderings searched", dict(checked.renderings))
    results.figure(SECTION, "tenant keys found", len(checked.leaks))
    results.figure(
        SECTION,
        "renderings showing a key the server put in a payload (kept as received)",
        len(checked.payload),
    )
    rows = []
    for kind in KINDS:
        for client in CLIENTS:
            items = [p for p in work if p.kind is kind and p.client == client]
            raised = Counter(type(p.error).__name__ if p.error else "nothing" for p in items)
            prefix = f"{kind.key}/{client} "
            leaks = [leak for leak in checked.leaks if leak.startswith(prefix)]
            payload = [hit for hit in checked.payload if hit.startswith(prefix)]
            rows.append(
                {
                    "failure": kind.label,
                    "client": client,
                    "raised": ", ".join(f"{n}x {name}" for name, n in raised.items()),
                    "keys found": len(leaks),
                    "in the kept payload": len(payload) if kind.payload else "-",
                }
            )
    results.figure(SECTION, "failures", rows)


@pytest.mark.parametrize("kind", KINDS, ids=[k.key for k in KINDS])
def test_failure_renders_without_keys(
    kind: Kind,
    produced: tuple[list[Produced], set[str]],
    checked: Checked,
    case: Case,
    results: Results,
) -> None:
    """Each failure kind, formatted with locals and its whole chain, shows no tenant key."""
    work, _ = produced
    _record(results, work, checked)
    items = [p for p in work if p.kind is kind]
    leaks = [leak for leak in checked.leaks if leak.startswith(f"{kind.key}/")]
    raised = Counter(type(p.error).__name__ if p.error else "nothing" for p in items)
    case.expected = (
        f"{kind.expected.__name__} from {len(items)} old tenants (sync and async); "
        "no key in any rendering"
    )
    case.observed = (
        ", ".join(f"{n}x {name}" for name, n in raised.items())
        + f"; keys found {len(leaks)}"
        + (f": {leaks[0]}" if leaks else "")
    )
    for item in items:
        assert isinstance(item.error, kind.expected), (
            f"{kind.key}/{item.client}: expected {kind.expected.__name__}, "
            f"got {type(item.error).__name__}: {item.error}"
        )
        assert isinstance(item.error, RunpodError)
    assert not leaks, "\n".join(leaks[:5])


def test_chain_carries_no_request_with_the_key(
    produced: tuple[list[Produced], set[str]], case: Case
) -> None:
    """No error reaches an httpx request (whose headers hold the key) through its chain."""
    work, _ = produced
    reached = Counter(
        f"{type(p.error).__name__} -> {type(link).__name__}"
        for p in work
        if p.error is not None
        for link in chain(p.error)
        if isinstance(link, httpx.HTTPError)
    )
    case.observed = ", ".join(f"{k}: {n}" for k, n in reached.items()) or "none"
    assert not reached, reached
