"""Use after close(): a ClientClosedError that says so, before anything is sent (no sockets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from runpod_typed import AsyncRunpod, ClientClosedError, RunpodError, RunpodFactory
from runpod_typed import Runpod as SyncRunpod

sent: list[str] = []


def answer(request: httpx.Request) -> httpx.Response:
    sent.append(request.url.path)
    if request.url.path == "/graphql":
        return httpx.Response(200, json={"data": {"myself": None}})
    return httpx.Response(200, json={"id": "j1", "status": "COMPLETED", "output": 1})


@pytest.fixture(autouse=True)
def _fresh() -> None:
    sent.clear()


def sync_client() -> SyncRunpod:
    return SyncRunpod("k", http_client=httpx.Client(transport=httpx.MockTransport(answer)))


def async_client() -> AsyncRunpod:
    transport = httpx.MockTransport(answer)
    return AsyncRunpod("k", http_client=httpx.AsyncClient(transport=transport))


SYNC_CALLS: dict[str, Callable[[SyncRunpod], Any]] = {
    "endpoint.run_sync": lambda rp: rp.endpoint("ep").run_sync({"x": 1}),
    "endpoint.health": lambda rp: rp.endpoint("ep").health(),
    "job.status": lambda rp: rp.endpoint("ep").job("j1").status(),
    "job.cancel": lambda rp: rp.endpoint("ep").job("j1").cancel(),
    "graphql": lambda rp: rp.graphql.myself(),
    "pods": lambda rp: rp.pods.list(),
    "account": lambda rp: rp.account.user(),
}


def closed_sync() -> SyncRunpod:
    rp = sync_client()
    rp.endpoint("ep").run_sync({"x": 1})  # works while open
    rp.close()
    rp._http.close()  # the caller's pool, closed too: the client's own state still decides
    sent.clear()
    return rp


@pytest.mark.parametrize("call", SYNC_CALLS.values(), ids=SYNC_CALLS.keys())
def test_sync_calls_after_close_raise_client_closed(call: Callable[[SyncRunpod], Any]) -> None:
    rp = closed_sync()
    with pytest.raises(ClientClosedError) as caught:
        call(rp)
    assert "this Runpod was closed" in str(caught.value)
    assert "make a new Runpod" in str(caught.value)
    assert isinstance(caught.value, RunpodError) and isinstance(caught.value, RuntimeError)
    assert sent == []


def test_handles_made_before_close_refuse_too() -> None:
    rp = sync_client()
    endpoint, job, pods = rp.endpoint("ep"), rp.endpoint("ep").job("j1"), rp.pods
    rp.close()
    for call in (lambda: endpoint.run({"x": 1}), job.output, pods.list):
        with pytest.raises(ClientClosedError):
            call()
    assert sent == []


def test_an_owned_pool_is_closed_and_the_error_is_ours_not_httpx() -> None:
    with SyncRunpod("k") as rp:
        pass
    assert rp._http.is_closed
    with pytest.raises(ClientClosedError, match="was closed"):
        rp.endpoint("ep").health()


def test_entering_a_closed_client_refuses_and_closing_twice_is_fine() -> None:
    rp = sync_client()
    rp.close()
    rp.close()
    with pytest.raises(ClientClosedError), rp:
        pass


def test_a_tenant_of_a_closed_factory_says_its_pool_was_closed() -> None:
    factory = RunpodFactory()
    tenant = factory.client("k")
    factory.close()
    with pytest.raises(ClientClosedError, match="connection pool of this Runpod was closed"):
        tenant.endpoint("ep").health()
    fresh = factory.client("k")  # the factory makes a new pool on demand
    assert not fresh._http.is_closed
    factory.close()


def test_closing_a_tenant_leaves_the_factory_and_other_tenants_working() -> None:
    factory = RunpodFactory()
    factory._http = httpx.Client(transport=httpx.MockTransport(answer))
    with factory:
        first, second = factory.client("a"), factory.client("b")
        first.close()
        with pytest.raises(ClientClosedError):
            first.endpoint("ep").health()
        assert second.endpoint("ep").job("j1").status().id == "j1"


ASYNC_CALLS: dict[str, Callable[[AsyncRunpod], Any]] = {
    "endpoint.run_sync": lambda rp: rp.endpoint("ep").run_sync({"x": 1}),
    "endpoint.health": lambda rp: rp.endpoint("ep").health(),
    "job.status": lambda rp: rp.endpoint("ep").job("j1").status(),
    "job.cancel": lambda rp: rp.endpoint("ep").job("j1").cancel(),
    "graphql": lambda rp: rp.graphql.myself(),
    "pods": lambda rp: rp.pods.list(),
    "account": lambda rp: rp.account.user(),
}


@pytest.mark.parametrize("call", ASYNC_CALLS.values(), ids=ASYNC_CALLS.keys())
async def test_async_calls_after_close_raise_client_closed(
    call: Callable[[AsyncRunpod], Any],
) -> None:
    rp = async_client()
    await rp.endpoint("ep").run_sync({"x": 1})
    await rp.close()
    sent.clear()
    with pytest.raises(ClientClosedError, match="this AsyncRunpod was closed"):
        await call(rp)
    assert sent == []


async def test_async_stream_and_context_after_close() -> None:
    async with async_client() as rp:
        job = rp.endpoint("ep").job("j1")
    with pytest.raises(ClientClosedError):
        async for _ in job.stream():
            pass
    with pytest.raises(ClientClosedError):
        async with rp:
            pass
    assert sent == []
