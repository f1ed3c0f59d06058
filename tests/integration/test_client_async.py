"""The async client against the emulator over loopback: the same surface, awaitable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pydantic
import pytest

from runpod_typed import (
    AsyncRunpod,
    ClientClosedError,
    JobCancelled,
    JobFailed,
    JobState,
    PollingOptions,
    RunpodFactory,
    WaitTimeout,
)

FAST = PollingOptions(first_delay=0.05, max_delay=0.2)


class Story(pydantic.BaseModel):
    text: str


@pytest.fixture(params=["httpx", "aiohttp"])
async def http(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient | None]:
    """Every test runs on each HTTP stack: AsyncRunpod's default (httpx), and aiohttp."""
    if request.param == "httpx":
        yield None
        return
    from runpod_typed import AioHttpClient

    async with AioHttpClient() as client:
        yield client


@pytest.fixture
async def rp(runpod_emulator: Any, http: httpx.AsyncClient | None) -> AsyncIterator[AsyncRunpod]:
    async with AsyncRunpod(
        "test-key",
        api_base_url=runpod_emulator.url,
        endpoint_base_url=runpod_emulator.endpoint_base_url,
        polling=FAST,
        http_client=http,
    ) as client:
        yield client


async def wait_for_state(server: Any, endpoint_id: str, job_id: str, *states: str) -> str:
    for _ in range(200):
        state = str((server.job_state(endpoint_id, job_id) or {}).get("status"))
        if state in states:
            return state
        await asyncio.sleep(0.02)
    return state


async def test_run_sync_typed(rp: AsyncRunpod) -> None:
    story = await rp.endpoint("echo").run_sync({"text": "once"}, output_type=Story)
    assert story == Story(text="once")


async def test_run_status_output_cancel_retry(rp: AsyncRunpod, runpod_emulator: Any) -> None:
    ep = rp.endpoint("sleep")
    job = await ep.run({"seconds": 0.1, "output": {"text": "t"}})
    assert (await job.status()).id == job.id
    assert await job.output(Story) == Story(text="t")
    long_job = await ep.run({"seconds": 30})
    await wait_for_state(runpod_emulator, "sleep", long_job.id, "IN_PROGRESS")
    assert (await long_job.cancel()).state is JobState.CANCELLED
    with pytest.raises(JobCancelled):
        await long_job.output()
    failed = await rp.endpoint("fail").run({"message": "nope"})
    with pytest.raises(JobFailed, match="nope"):
        await failed.output()
    assert (await failed.retry()).id == failed.id


async def test_task_cancellation_cancels_remote_job(rp: AsyncRunpod, runpod_emulator: Any) -> None:
    ep = rp.endpoint("sleep")
    job = await ep.run({"seconds": 30})
    task = asyncio.create_task(job.output())
    await wait_for_state(runpod_emulator, "sleep", job.id, "IN_PROGRESS")
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_for_state(runpod_emulator, "sleep", job.id, "CANCELLED") == "CANCELLED"


async def test_wait_for_timeout_cancels_remote_job(rp: AsyncRunpod, runpod_emulator: Any) -> None:
    with pytest.raises(asyncio.TimeoutError):  # not the builtin TimeoutError before 3.11
        await asyncio.wait_for(rp.endpoint("sleep").run_sync({"seconds": 30}), 0.5)
    states = list(runpod_emulator.counters()["final_states"].values())
    deadline = time.monotonic() + 5
    while states != ["CANCELLED"] and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        states = list(runpod_emulator.counters()["final_states"].values())
    assert states == ["CANCELLED"]


async def test_anyio_cancel_scope_cancels_remote_job(rp: AsyncRunpod, runpod_emulator: Any) -> None:
    job = await rp.endpoint("sleep").run({"seconds": 30})
    with anyio.move_on_after(0.3) as scope:
        await job.output()
    assert scope.cancelled_caught
    assert await wait_for_state(runpod_emulator, "sleep", job.id, "CANCELLED") == "CANCELLED"


async def test_sdk_timeout_is_timeout_error(rp: AsyncRunpod, runpod_emulator: Any) -> None:
    job = await rp.endpoint("sleep").run({"seconds": 30})
    with pytest.raises(WaitTimeout) as caught:
        await job.output(timeout=0.2)
    assert isinstance(caught.value, TimeoutError) and caught.value.cancelled
    assert await wait_for_state(runpod_emulator, "sleep", job.id, "CANCELLED") == "CANCELLED"


async def test_async_stream_in_order_and_early_exit(rp: AsyncRunpod, runpod_emulator: Any) -> None:
    ep = rp.endpoint("tokens")
    words = [f"t{i}" for i in range(15)]
    job = await ep.run({"prompt": " ".join(words), "delay": 0.01})
    assert [chunk async for chunk in job.stream(str)] == words

    long_job = await ep.run({"prompt": " ".join(["x"] * 200), "delay": 0.05})
    chunks = long_job.stream()
    async for _ in chunks:
        break
    await chunks.aclose()  # type: ignore[attr-defined]
    assert await wait_for_state(runpod_emulator, "tokens", long_job.id, "CANCELLED") == "CANCELLED"


async def test_map_results_in_order(rp: AsyncRunpod) -> None:
    results = await rp.endpoint("demo").map(
        [{"output": i} for i in range(50)], output_type=int, concurrency=8
    )
    assert results == list(range(50))


async def test_map_failure_cancels_the_rest(
    runpod_emulator_factory: Any, http: httpx.AsyncClient | None
) -> None:
    runpod_emulator = runpod_emulator_factory(workers=8)
    inputs: list[dict[str, Any]] = [{"sleep": 30} for _ in range(4)] + [{"fail": "first"}]
    url = runpod_emulator.endpoint_base_url
    async with AsyncRunpod("k", endpoint_base_url=url, http_client=http) as rp:
        with pytest.raises(JobFailed, match="first"):
            await rp.endpoint("demo").map(inputs, concurrency=5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        states = list(runpod_emulator.counters()["final_states"].values())
        if states.count("CANCELLED") == 4:
            break
        await asyncio.sleep(0.02)
    assert sorted(states) == ["CANCELLED"] * 4 + ["FAILED"]


async def test_health_and_purge(rp: AsyncRunpod) -> None:
    ep = rp.endpoint("sleep")
    for _ in range(6):
        await ep.run({"seconds": 5})
    health = await ep.health()
    assert health.jobs_in_queue + health.jobs_in_progress == 6
    assert (await ep.purge_queue()).removed == health.jobs_in_queue


async def test_factory_clients_share_one_pool(runpod_emulator_factory: Any) -> None:
    server = runpod_emulator_factory(api_key=None)
    async with RunpodFactory(endpoint_base_url=server.endpoint_base_url) as factory:
        alice = factory.async_client("alice-key")
        bob = factory.async_client(lambda: "bob-key")
        assert alice._http is bob._http
        await alice.close()  # leaves the shared pool open; alice herself is done
        assert await bob.endpoint("echo").run_sync({"who": "bob"}) == {"who": "bob"}
        with pytest.raises(ClientClosedError):
            await alice.endpoint("echo").run_sync({"who": "alice"})
        alice = factory.async_client("alice-key")  # a new client for her is cheap
        assert await alice.endpoint("echo").run_sync({"who": "alice"}) == {"who": "alice"}
