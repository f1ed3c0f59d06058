"""The helpers re-routed to REST v2 against the emulator, blocking and async.

rp.pods (v2's Pod; spot pods through GraphQL), its log stream, the fail-fast wait,
rp.endpoints' workers, releases and worker logs, rp.billing and rp.catalog's
availability. Both planes share the emulator's state: a pod made by rp.pods is seen
by rp.graphql and the other way round.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from runpod_typed import (
    AsyncRunpod,
    EndpointNotFound,
    PodFailed,
    PodNotFound,
    PollingOptions,
    Runpod,
)
from runpod_typed.emulator import Emulator, RunningEmulator
from runpod_typed.emulator.control_plane._state import FAILS_TO_START
from runpod_typed.graphql import PodFilter, PodFindAndDeployOnDemandInput
from runpod_typed.rest import (
    AvailabilityLevel,
    ListPodBillingResponse,
    LogEvent,
    LogSource,
    Pod,
    PodAction,
    PodStatus,
)

FAST = PollingOptions(first_delay=0.02, max_delay=0.1)
GPU = "NVIDIA RTX A6000"


@pytest.fixture(scope="module")
def pods_emulator() -> Iterator[RunningEmulator]:
    with Emulator(rate_limits=False, pod_transition_seconds=0.05).serve() as server:
        yield server


@pytest.fixture(params=["sync", "async"])
async def rp(
    request: pytest.FixtureRequest, pods_emulator: RunningEmulator
) -> AsyncIterator[Runpod | AsyncRunpod]:
    pods_emulator.reset()
    urls: dict[str, Any] = {"api_base_url": pods_emulator.url, "polling": FAST}
    if request.param == "sync":
        with httpx.Client() as http, Runpod("test-key", http_client=http, **urls) as client:
            yield client
    else:
        async with (
            httpx.AsyncClient() as async_http,
            AsyncRunpod("test-key", http_client=async_http, **urls) as async_client,
        ):
            yield async_client


async def call(method: Any, *args: Any, **kwargs: Any) -> Any:
    result = method(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


async def first_lines(stream: Iterator[LogEvent] | AsyncIterator[LogEvent], n: int) -> list[str]:
    """The first `n` lines of a log stream, leaving it (which closes the connection)."""
    if isinstance(stream, Iterator):
        return [event.line for event in itertools.islice(stream, n)]
    lines: list[str] = []
    async with contextlib.aclosing(stream) as events:  # type: ignore[type-var]
        async for event in events:
            lines.append(event.line)
            if len(lines) == n:
                break
    return lines


async def test_a_pods_life_through_v2(rp: Runpod | AsyncRunpod) -> None:
    pods = rp.pods
    pod = await call(pods.create, name="p", image_name="img:1", gpu_type_id=GPU, ports="22/tcp")
    assert isinstance(pod, Pod) and pod.status in (PodStatus.PROVISIONING, PodStatus.STARTING)
    assert pod.actions == [PodAction.STOP, PodAction.TERMINATE] and pod.ports == ["22/tcp"]
    running = await call(pods.wait_until_running, pod.id, timeout=10)
    assert running.status is PodStatus.RUNNING and PodAction.RESTART in running.actions
    assert pod.id in [p.id for p in await call(pods.list)]
    assert (await call(pods.get, pod.id)).name == "p"
    assert (await call(pods.restart, pod.id)).status is PodStatus.STARTING
    await call(pods.wait_until_running, pod.id, timeout=10)
    assert (await call(pods.stop, pod.id)).status is PodStatus.EXITED
    assert (await call(pods.wait_until_stopped, pod.id, timeout=10)).actions == [
        PodAction.START,
        PodAction.TERMINATE,
    ]
    assert (await call(pods.start, pod.id)).status is PodStatus.STARTING
    await call(pods.wait_until_running, pod.id, timeout=10)
    await call(pods.delete, pod.id)
    assert pod.id not in [p.id for p in await call(pods.list)]
    with pytest.raises(PodNotFound):
        await call(pods.wait_until_running, pod.id, timeout=10)


async def test_the_planes_see_the_same_pods(rp: Runpod | AsyncRunpod) -> None:
    pod = await call(rp.pods.create, name="both", image_name="img", gpu_type_id=GPU)
    seen = (await call(rp.graphql.pod, input=PodFilter(pod_id=pod.id))).pod
    assert seen is not None and (seen.id, seen.name, seen.image_name) == (pod.id, "both", "img")
    deploy = PodFindAndDeployOnDemandInput(name="gql", image_name="img", gpu_type_id=GPU)
    made = (await call(rp.graphql.create_pod, input=deploy)).pod_find_and_deploy_on_demand
    assert made is not None
    assert (await call(rp.pods.get, made.id)).name == "gql"


async def test_a_spot_pod_goes_through_graphql_and_answers_as_v2(rp: Runpod | AsyncRunpod) -> None:
    pod = await call(
        rp.pods.create, name="spot", image_name="img", gpu_type_id=GPU, bid_per_gpu=0.3
    )
    assert isinstance(pod, Pod)
    await call(rp.pods.wait_until_running, pod.id, timeout=10)
    await call(rp.pods.stop, pod.id)
    await call(rp.pods.wait_until_stopped, pod.id, timeout=10)
    resumed = await call(rp.pods.resume, pod.id, bid_per_gpu=0.3)
    assert isinstance(resumed, Pod) and resumed.status is not PodStatus.EXITED
    await call(rp.pods.terminate, pod.id)


async def test_waiting_for_a_pod_that_cannot_start_fails_fast(rp: Runpod | AsyncRunpod) -> None:
    image = f"{FAILS_TO_START}:latest"
    pod = await call(rp.pods.create, name="bad", image_name=image, gpu_type_id=GPU)
    with pytest.raises(PodFailed) as caught:
        await call(rp.pods.wait_until_running, pod.id, timeout=600)  # not its timeout
    failed = caught.value
    assert (failed.pod_id, failed.status) == (pod.id, "ERROR")
    assert "restart" in failed.actions and isinstance(failed.pod, Pod)
    assert f"pod {pod.id} ({image}) failed to start" in str(failed)
    await call(rp.pods.terminate, pod.id)


async def test_a_pods_log_is_a_typed_stream_closed_on_leaving(rp: Runpod | AsyncRunpod) -> None:
    pod = await call(rp.pods.create, name="logs", image_name="img", gpu_type_id=GPU)
    await call(rp.pods.wait_until_running, pod.id, timeout=10)
    lines = await first_lines(rp.pods.logs(pod.id, source=LogSource.SYSTEM), 2)
    assert lines[0].startswith(f"Pod {pod.id} scheduled on machine ")
    assert lines[1] == "Pulling image img"
    again = await first_lines(rp.pods.logs(pod.id, tail=1), 1)  # a new stream each time
    assert len(again) == 1
    with pytest.raises(PodNotFound):
        await first_lines(rp.pods.logs("missing"), 1)


async def test_a_stream_ends_when_the_pod_is_terminated(rp: Runpod | AsyncRunpod) -> None:
    pod = await call(rp.pods.create, name="ends", image_name="img", gpu_type_id=GPU)
    await call(rp.pods.wait_until_running, pod.id, timeout=10)
    await call(rp.pods.terminate, pod.id)
    lines = await first_lines(rp.pods.logs(pod.id), 1000)  # ends by itself, does not hang
    assert len(lines) < 1000


async def test_endpoint_workers_releases_and_worker_logs(rp: Runpod | AsyncRunpod) -> None:
    template = await call(
        rp.templates.create, name="w", image_name="example/worker:1", is_serverless=True
    )
    endpoint = await call(
        rp.endpoints.create, name="e", template_id=template.id, gpu_ids="AMPERE_24", workers_min=1
    )
    workers = await call(rp.endpoints.workers, endpoint.id)
    assert len(workers.workers) >= 1
    releases = await call(rp.endpoints.releases, endpoint.id)
    assert releases.releases
    lines = await first_lines(rp.endpoints.worker_logs(endpoint.id, workers.workers[0].id), 1)
    assert len(lines) == 1
    with pytest.raises(EndpointNotFound):
        await call(rp.endpoints.workers, "missing")


async def test_billing_and_the_catalogs_availability(rp: Runpod | AsyncRunpod) -> None:
    pod = await call(rp.pods.create, name="b", image_name="img", gpu_type_id=GPU)
    bill = await call(rp.billing.pods, pod_id=pod.id)
    assert isinstance(bill, ListPodBillingResponse)
    assert all(record.pod_id == pod.id for record in bill.records)
    assert (await call(rp.billing.account)).metadata is not None
    gpus = await call(rp.catalog.gpus)
    assert gpus and all(g.availability is not AvailabilityLevel.NONE for g in gpus)
    assert len(await call(rp.catalog.gpus, in_stock=False)) >= len(gpus)
    assert all(g.memory >= 80 for g in await call(rp.catalog.gpus, min_memory_gb=80))
    assert await call(rp.catalog.cpus)
    places = await call(rp.catalog.data_centers_available, gpu_type_id=gpus[0].id)
    assert places and all(p.gpu_availability for p in places)
