"""rp.graphql and rp.pods against the emulator's control plane, sync and async.

rp.pods answers with REST v2's `Pod` (tests/integration/test_control_plane_pods.py has
the rest of the re-routed helpers: actions, logs, fail-fast, spot pods, cross-plane).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from runpod_typed import (
    APIStatusError,
    AsyncRunpod,
    GraphQLError,
    NotFoundError,
    PodNotFound,
    PollingOptions,
    Runpod,
    WaitTimeout,
)
from runpod_typed.graphql import CloudTypeEnum
from runpod_typed.rest import PodStatus

FAST = PollingOptions(first_delay=0.02, max_delay=0.1)


@pytest.fixture
def rp(runpod_emulator: Any) -> Iterator[Runpod]:
    with Runpod("k", api_base_url=runpod_emulator.url, polling=FAST) as client:
        yield client


def test_generated_client_is_typed_and_uses_variables(rp: Runpod) -> None:
    from runpod_typed._generated.graphql import GpuTypeFilter

    answer = rp.graphql.gpu_types(input=GpuTypeFilter(id="NVIDIA GeForce RTX 4090"))
    (gpu,) = [g for g in answer.gpu_types or [] if g is not None]
    assert gpu.id == "NVIDIA GeForce RTX 4090"
    assert gpu.memory_in_gb is not None and gpu.memory_in_gb > 0


def test_pod_lifecycle(rp: Runpod) -> None:
    pod = rp.pods.create(
        name="train",
        image_name="runpod/pytorch:2.4.0",
        gpu_type_id="NVIDIA GeForce RTX 4090",
        cloud_type=CloudTypeEnum.SECURE,
        env={"HF_TOKEN": "x"},
    )
    running = rp.pods.wait_until_running(pod.id, timeout=10)
    assert running.runtime is not None
    assert pod.id in [p.id for p in rp.pods.list()]
    rp.pods.stop(pod.id)
    assert rp.pods.wait_until_stopped(pod.id, timeout=10).status is PodStatus.EXITED
    rp.pods.resume(pod.id, gpu_count=1)
    rp.pods.wait_until_running(pod.id, timeout=10)
    rp.pods.terminate(pod.id)
    with pytest.raises(PodNotFound):
        rp.pods.wait_until_running(pod.id, timeout=10)


def test_an_unknown_pod_is_pod_not_found_not_a_bare_status_error(rp: Runpod) -> None:
    with pytest.raises(PodNotFound) as caught:
        rp.pods.get("missing")
    assert caught.value.pod_id == "missing"
    assert isinstance(caught.value.__cause__, NotFoundError)  # RunPod's own answer is kept
    for call in (rp.pods.stop, rp.pods.start, rp.pods.restart, rp.pods.resume, rp.pods.terminate):
        with pytest.raises(PodNotFound, match="no pod with id 'missing'"):
            call("missing")


def test_unavailable_gpu_is_v2s_refusal_with_runpods_message(rp: Runpod) -> None:
    with pytest.raises(APIStatusError) as caught:
        rp.pods.create(name="x", image_name="img", gpu_type_id="NVIDIA H100 NVL")
    assert caught.value.status_code == 422
    assert "POST /v2/pods (createPod)" in str(caught.value)
    assert "no longer any instances" in str(caught.value)
    with pytest.raises(GraphQLError):  # a spot pod goes through GraphQL: its error kind
        rp.pods.create(name="x", image_name="img", gpu_type_id="NVIDIA H100 NVL", bid_per_gpu=0.1)


def test_wait_until_running_times_out(runpod_emulator_factory: Any) -> None:
    server = runpod_emulator_factory(pod_transition_seconds=60)
    with Runpod("k", api_base_url=server.url, polling=FAST) as rp:
        pod = rp.pods.create(name="slow", image_name="img", gpu_type_id="NVIDIA RTX A6000")
        with pytest.raises(WaitTimeout):
            rp.pods.wait_until_running(pod.id, timeout=0.3)


def test_names_with_quotes_and_newlines_travel_as_variables(rp: Runpod) -> None:
    name = 'evil" } mutation { podTerminate(input: {podId: "x"}) } #\n名前'
    pod = rp.pods.create(name=name, image_name="img", gpu_type_id="NVIDIA RTX A6000")
    assert rp.pods.get(pod.id).name == name


async def test_async_pods_and_graphql(runpod_emulator: Any) -> None:
    async with AsyncRunpod("k", api_base_url=runpod_emulator.url, polling=FAST) as rp:
        me = await rp.graphql.myself()
        assert me.myself is not None
        pod = await rp.pods.create(name="a", image_name="img", gpu_type_id="NVIDIA RTX A6000")
        assert (await rp.pods.wait_until_running(pod.id, timeout=10)).runtime is not None
        await rp.pods.terminate(pod.id)
        with pytest.raises(PodNotFound):
            await rp.pods.wait_until_running(pod.id, timeout=10)
        with pytest.raises(PodNotFound):
            await rp.pods.get("missing")


def test_account_and_the_helpers_that_moved_from_it(rp: Runpod) -> None:
    """GPU types moved to rp.catalog, registry credentials to rp.registries."""
    assert not hasattr(rp.account, "gpus") and not hasattr(rp.account, "create_registry_auth")
    gpus = rp.catalog.gpu_types(gpu_count=1)
    assert any(g.id == "NVIDIA GeForce RTX 4090" for g in gpus)
    gpu = rp.catalog.gpu_type("NVIDIA GeForce RTX 4090", gpu_count=2)
    assert gpu.lowest_price is not None
    assert rp.account.update_user_settings(pub_key="ssh-ed25519 AAAA test").pub_key == (
        "ssh-ed25519 AAAA test"
    )
    assert rp.account.user().pub_key == "ssh-ed25519 AAAA test"
    cred = rp.registries.create(name="ghcr", username="me", password="pw-1")
    assert cred.id is not None
    assert "pw-1" not in repr(cred)
    rp.registries.update(cred.id, username="me", password="pw-2")
    assert [c.name for c in rp.registries.list()] == ["ghcr"]
    rp.registries.delete(cred.id)
    assert rp.registries.list() == []


def test_bad_input_and_unknown_ids(rp: Runpod) -> None:
    from runpod_typed import GpuTypeNotFound, InvalidRequestError

    with pytest.raises(InvalidRequestError, match="username"):
        rp.registries.create(name="ghcr", username=" ", password="pw")
    with pytest.raises(GpuTypeNotFound, match="no GPU type with id"):
        rp.catalog.gpu_type("NVIDIA GeForce GTX 9999")


async def test_async_account(runpod_emulator: Any) -> None:
    async with AsyncRunpod("k", api_base_url=runpod_emulator.url) as rp:
        assert (await rp.account.user()).id is not None
        assert len(await rp.catalog.gpu_types()) > 3
