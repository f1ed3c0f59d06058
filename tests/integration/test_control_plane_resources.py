"""The control-plane namespaces against the emulator over loopback, blocking and async.

Every helper of `rp.templates`, `rp.endpoints`, `rp.volumes`, `rp.registries`,
`rp.secrets`, `rp.clusters`, `rp.catalog`, `rp.pods.edit` and `rp.account` runs once per
client kind (the `rp` fixture), and so do their not-found errors and the validation
rules RunPod's server enforces beyond the schema (which the emulator reproduces).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from runpod_typed import (
    APIStatusError,
    AsyncRunpod,
    ClusterNotFound,
    CpuFlavorNotFound,
    DataCenterNotFound,
    EndpointNotFound,
    GpuTypeNotFound,
    GraphQLError,
    InvalidRequestError,
    NetworkVolumeNotFound,
    PodNotFound,
    PollingOptions,
    RegistryAuthNotFound,
    ResourceNotFound,
    Runpod,
    SecretNotFound,
    TemplateNotFound,
)
from runpod_typed.emulator import Emulator, RunningEmulator
from runpod_typed.graphql import (
    ClusterType,
    ComputeType,
    CreateClusterInput,
    EndpointInput,
    EndpointTemplateInput,
    FlashBootType,
)

FAST = PollingOptions(first_delay=0.02, max_delay=0.1)
H100 = "NVIDIA H100 80GB HBM3"


class Awaited:
    """A namespace whose helpers are awaited whether they block (Runpod) or not (AsyncRunpod)."""

    def __init__(self, namespace: Any) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._namespace, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return call


class Plane:
    """The client under test, its namespaces as `Awaited`, and its generated GraphQL client."""

    def __init__(self, client: Runpod | AsyncRunpod) -> None:
        self.client = client
        self.is_async = isinstance(client, AsyncRunpod)

    def __getattr__(self, name: str) -> Awaited:
        return Awaited(getattr(self.client, name))


@pytest.fixture(scope="module")
def plane_emulator() -> Iterator[RunningEmulator]:
    """One emulator for the module (its state is reset for every test)."""
    with Emulator(rate_limits=False, pod_transition_seconds=0.05).serve() as server:
        yield server


@pytest.fixture(params=["sync", "async"])
async def rp(
    request: pytest.FixtureRequest, plane_emulator: RunningEmulator
) -> AsyncIterator[Plane]:
    plane_emulator.reset()
    urls: dict[str, Any] = {"api_base_url": plane_emulator.url, "polling": FAST}
    # A plain httpx pool per test: the client's own (sharded) async pool is slow to build.
    if request.param == "sync":
        with httpx.Client() as http, Runpod("test-key", http_client=http, **urls) as client:
            yield Plane(client)
    else:
        async with (
            httpx.AsyncClient() as async_http,
            AsyncRunpod("test-key", http_client=async_http, **urls) as async_client,
        ):
            yield Plane(async_client)


async def _template(rp: Plane, name: str = "worker", **spec: Any) -> Any:
    return await rp.templates.create(
        name=name, image_name="example/worker:1", is_serverless=True, **spec
    )


def _graphql_message(caught: pytest.ExceptionInfo[GraphQLError]) -> str:
    return " ".join(caught.value.messages)


# -- the shape every namespace shares ----------------------------------------------------


def test_every_not_found_is_a_resource_not_found_and_a_lookup_error() -> None:
    kinds = [
        PodNotFound,
        TemplateNotFound,
        EndpointNotFound,
        NetworkVolumeNotFound,
        RegistryAuthNotFound,
        SecretNotFound,
        ClusterNotFound,
        GpuTypeNotFound,
        CpuFlavorNotFound,
        DataCenterNotFound,
    ]
    assert all(issubclass(kind, ResourceNotFound) for kind in kinds)
    assert issubclass(ResourceNotFound, LookupError)
    assert len({kind.kind for kind in kinds}) == len(kinds)
    error = PodNotFound("gone", pod_id="p1")
    assert (error.id, error.pod_id, error.kind) == ("p1", "p1", "pod")


def test_helpers_show_their_flow_signature_and_async_ones_are_coroutines() -> None:
    rp, arp = Runpod("k"), AsyncRunpod("k")  # nothing is sent: no pool is opened
    signature = inspect.signature(rp.templates.get)
    assert list(signature.parameters) == ["template_id"]
    assert signature.return_annotation == "TemplateFields"
    assert rp.endpoints.create.__doc__ and "template_id" in rp.endpoints.create.__doc__
    assert inspect.iscoroutinefunction(arp.secrets.delete)
    assert not inspect.iscoroutinefunction(rp.secrets.delete)
    assert inspect.signature(arp.volumes.update) == inspect.signature(rp.volumes.update)


# -- templates ----------------------------------------------------------------------------


async def test_templates(rp: Plane) -> None:
    made = await _template(rp, env={"MODE": "a"}, ports="8000/http")
    assert made.id and made.is_serverless and made.container_disk_in_gb == 10
    assert [t.id for t in await rp.templates.list()] == [made.id]
    assert (await rp.templates.get(made.id)).name == "worker"
    changed = await rp.templates.update(made.id, readme="# hi", env={"MODE": "b"})
    assert changed.readme == "# hi" and changed.ports == "8000/http"  # the rest is kept
    assert [(e.key, e.value) for e in changed.env or [] if e] == [("MODE", "b")]
    await rp.templates.delete(made.id)
    assert await rp.templates.list() == []


async def test_template_errors(rp: Plane) -> None:
    for call in (rp.templates.get, rp.templates.delete):
        with pytest.raises(TemplateNotFound) as caught:
            await call("nosuchtmpl")
        assert caught.value.id == "nosuchtmpl" and caught.value.kind == "template"
    with pytest.raises(TemplateNotFound):
        await rp.templates.update("nosuchtmpl", readme="x")
    with pytest.raises(InvalidRequestError, match="image_name"):
        await rp.templates.create(name="t", image_name=" ")
    made = await _template(rp)
    with pytest.raises(GraphQLError, match="unique"):
        await _template(rp)
    await rp.endpoints.create(name="user", template_id=made.id, gpu_ids="ADA_24", workers_max=0)
    with pytest.raises(GraphQLError, match="in use"):
        await rp.templates.delete(made.id)


# -- network volumes ----------------------------------------------------------------------


async def test_volumes(rp: Plane) -> None:
    volume = await rp.volumes.create(name="data", size=20, data_center_id="EU-RO-1")
    assert (volume.size, volume.data_center_id) == (20, "EU-RO-1")
    assert [v.id for v in await rp.volumes.list()] == [volume.id]
    assert (await rp.volumes.get(volume.id)).name == "data"
    grown = await rp.volumes.update(volume.id, name="bigger", size=40)
    assert (grown.name, grown.size) == ("bigger", 40)
    await rp.volumes.delete(volume.id)
    assert await rp.volumes.list() == []


async def test_volume_errors(rp: Plane) -> None:
    for call in (rp.volumes.get, rp.volumes.delete):
        with pytest.raises(NetworkVolumeNotFound) as caught:
            await call("novolume")
        assert caught.value.id == "novolume"
    with pytest.raises(NetworkVolumeNotFound):
        await rp.volumes.update("novolume", size=50)
    with pytest.raises(InvalidRequestError, match="size"):
        await rp.volumes.create(name="d", size=0, data_center_id="EU-RO-1")
    with pytest.raises(GraphQLError, match="no network storage"):
        await rp.volumes.create(name="d", size=5, data_center_id="US-CA-2")
    volume = await rp.volumes.create(name="d", size=20, data_center_id="EU-RO-1")
    with pytest.raises(GraphQLError, match="grow"):
        await rp.volumes.update(volume.id, size=10)


# -- registry credentials -----------------------------------------------------------------


async def test_registries(rp: Plane) -> None:
    auth = await rp.registries.create(name="ghcr", username="me", password="pw-1")
    assert auth.id and "pw-1" not in repr(auth)
    assert [a.name for a in await rp.registries.list()] == ["ghcr"]
    assert (await rp.registries.get(auth.id)).name == "ghcr"
    assert (await rp.registries.update(auth.id, username="me", password="pw-2")).id == auth.id
    await rp.registries.delete(auth.id)
    assert await rp.registries.list() == []


async def test_registry_errors(rp: Plane) -> None:
    with pytest.raises(RegistryAuthNotFound):
        await rp.registries.get("cnope")
    with pytest.raises(RegistryAuthNotFound):
        await rp.registries.update("cnope", username="u", password="p")
    with pytest.raises(RegistryAuthNotFound):
        await rp.registries.delete("cnope")
    with pytest.raises(InvalidRequestError, match="username"):
        await rp.registries.create(name="ghcr", username=" ", password="pw")
    auth = await rp.registries.create(name="ghcr", username="me", password="pw")
    await _template(rp, container_registry_auth_id=auth.id)
    with pytest.raises(GraphQLError, match="in use"):
        await rp.registries.delete(auth.id)


# -- secrets ------------------------------------------------------------------------------


async def test_secrets(rp: Plane) -> None:
    secret = await rp.secrets.create(name="HF_TOKEN", value="hf_s3cr3t", description="hub")
    assert (secret.name, secret.description) == ("HF_TOKEN", "hub")
    assert "hf_s3cr3t" not in repr(await rp.secrets.list())
    assert (await rp.secrets.get(secret.id)).name == "HF_TOKEN"
    await rp.secrets.delete(secret.id)
    assert await rp.secrets.list() == []
    with pytest.raises(SecretNotFound) as caught:
        await rp.secrets.delete(secret.id)
    assert caught.value.id == secret.id
    assert isinstance(caught.value.__cause__, GraphQLError)  # RunPod's own answer is kept


async def test_secret_errors(rp: Plane) -> None:
    with pytest.raises(SecretNotFound):
        await rp.secrets.get("snope")
    with pytest.raises(InvalidRequestError, match="value"):
        await rp.secrets.create(name="x", value="")
    await rp.secrets.create(name="dup", value="1")
    with pytest.raises(GraphQLError, match="unique"):
        await rp.secrets.create(name="dup", value="2")


# -- serverless endpoints -----------------------------------------------------------------


async def test_endpoints_queue_based_gpu(rp: Plane) -> None:
    template = await _template(rp)
    endpoint = await rp.endpoints.create(
        name="llm",
        template_id=template.id,
        gpu_ids="ADA_24,AMPERE_24",
        workers_max=2,
        idle_timeout=30,
        flash_boot_type=FlashBootType.FLASHBOOT,
        scaler_type="REQUEST_COUNT",
        scaler_value=2,
    )
    assert endpoint.type_ == "QB" and endpoint.compute_type is ComputeType.GPU
    assert endpoint.flash_boot_type is FlashBootType.FLASHBOOT
    assert [e.id for e in await rp.endpoints.list()] == [endpoint.id]
    assert (await rp.endpoints.get(endpoint.id)).name == "llm"
    scaled = await rp.endpoints.update(endpoint.id, workers_max=0, name="llm-2")
    assert (scaled.workers_max, scaled.name, scaled.version) == (0, "llm-2", 1)
    assert (scaled.idle_timeout, scaled.scaler_type, scaled.gpu_ids) == (
        30,
        "REQUEST_COUNT",
        "ADA_24,AMPERE_24",
    )
    await rp.endpoints.delete(endpoint.id)
    assert await rp.endpoints.list() == []


async def test_endpoints_load_balancing_with_an_inline_template(rp: Plane) -> None:
    inline = EndpointTemplateInput(image_name="example/lb:1", ports="8000/http", env=[])
    endpoint = await rp.endpoints.create(
        name="api", type="LB", gpu_ids="AMPERE_16", template=inline, workers_max=1
    )
    assert endpoint.type_ == "LB" and endpoint.template_id
    created = await rp.templates.get(endpoint.template_id)
    assert created.is_serverless and created.image_name == "example/lb:1"
    updated = await rp.endpoints.update(endpoint.id, workers_max=0)
    assert updated.type_ == "LB"  # sent back unchanged: the type is fixed at creation


async def test_endpoints_cpu_and_multi_region_with_volumes(rp: Plane) -> None:
    template = await _template(rp)
    ro = await rp.volumes.create(name="ro", size=10, data_center_id="EU-RO-1")
    se = await rp.volumes.create(name="se", size=10, data_center_id="EU-SE-1")
    endpoint = await rp.endpoints.create(
        name="cpu",
        template_id=template.id,
        instance_ids=["cpu3c-2-4"],
        data_center_ids=["EU-RO-1", "EU-SE-1"],
        network_volume_ids=[ro.id, se.id],
    )
    assert endpoint.compute_type is ComputeType.CPU and endpoint.instance_ids == ["cpu3c-2-4"]
    placed = {(v.network_volume_id, v.data_center_id) for v in endpoint.network_volume_ids or []}
    assert placed == {(ro.id, "EU-RO-1"), (se.id, "EU-SE-1")}
    with pytest.raises(GraphQLError, match="in use"):
        await rp.volumes.delete(ro.id)


async def test_endpoint_not_found(rp: Plane) -> None:
    for call in (rp.endpoints.get, rp.endpoints.delete):
        with pytest.raises(EndpointNotFound) as caught:
            await call("noendpoint")
        assert caught.value.id == "noendpoint"
    with pytest.raises(EndpointNotFound):
        await rp.endpoints.update("noendpoint", workers_max=0)


async def test_endpoint_rules_of_runpods_server(rp: Plane) -> None:
    template = await _template(rp)
    base = {"name": "e", "template_id": template.id}
    with pytest.raises(InvalidRequestError, match="template_id= or template="):
        await rp.endpoints.create(name="e", gpu_ids="ADA_24")
    with pytest.raises(InvalidRequestError, match="not both"):
        await rp.endpoints.create(
            **base, gpu_ids="ADA_24", template=EndpointTemplateInput(image_name="x")
        )
    with pytest.raises(GraphQLError, match="gpuIds is required") as caught:
        await rp.endpoints.create(**base, type="LB", instance_ids=["cpu3c-2-4"])
    assert caught.value.errors[0]["path"] == ["saveEndpoint"]
    with pytest.raises(GraphQLError, match="gpuIds is required"):
        await rp.endpoints.create(**base)
    ro_1 = await rp.volumes.create(name="a", size=5, data_center_id="EU-RO-1")
    ro_2 = await rp.volumes.create(name="b", size=5, data_center_id="EU-RO-1")
    with pytest.raises(GraphQLError, match="one network volume is allowed per data center"):
        await rp.endpoints.create(**base, gpu_ids="ADA_24", network_volume_ids=[ro_1.id, ro_2.id])
    with pytest.raises(GraphQLError, match="not in the endpoint's dataCenterIds"):
        await rp.endpoints.create(
            **base, gpu_ids="ADA_24", network_volume_ids=[ro_1.id], data_center_ids=["US-TX-3"]
        )
    endpoint = await rp.endpoints.create(**base, gpu_ids="ADA_24", workers_max=1)
    with pytest.raises(GraphQLError, match="workersMin and workersMax to 0"):
        await rp.endpoints.delete(endpoint.id)
    as_lb = EndpointInput(
        id=endpoint.id, name="e", template_id=template.id, gpu_ids="ADA_24", type_="LB"
    )
    with pytest.raises(GraphQLError, match="type cannot be changed"):
        await Awaited(rp.client.graphql).save_endpoint(input=as_lb)
    assert [e.id for e in await rp.endpoints.list()] == [endpoint.id]


async def test_server_wants_exactly_one_of_template_id_and_template(rp: Plane) -> None:
    """The rule as RunPod's server applies it, for a document the helper would not send."""
    template = await _template(rp)
    both = EndpointInput(
        name="e",
        gpu_ids="ADA_24",
        template_id=template.id,
        template=EndpointTemplateInput(image_name="x"),
    )
    neither = EndpointInput(name="e", gpu_ids="ADA_24")
    for wrong in (both, neither):
        with pytest.raises(GraphQLError, match="exactly one of templateId or template"):
            await Awaited(rp.client.graphql).save_endpoint(input=wrong)
    assert await rp.endpoints.list() == []


# -- instant clusters ---------------------------------------------------------------------


async def test_clusters(rp: Plane) -> None:
    cluster = await rp.clusters.create(
        name="train",
        gpu_type_id=H100,
        pod_count=2,
        gpu_count_per_pod=8,
        deploy_cost=48.0,
        image_name="example/trainer:1",
        type=ClusterType.TRAINING,
        env={"NCCL_DEBUG": "INFO"},
    )
    pods = [pod for pod in cluster.pods or [] if pod]
    assert [pod.cluster_ip for pod in pods] == ["10.65.0.2", "10.65.0.3"]
    assert all(pod.gpu_count == 8 for pod in pods)
    first = await rp.pods.get(pods[0].id)  # REST v2's Pod: its cluster and IP in it
    assert first.cluster and first.cluster.id == cluster.id
    assert first.cluster.ip == "10.65.0.2"
    await rp.clusters.delete(cluster.id)
    with pytest.raises(PodNotFound):
        await rp.pods.wait_until_running(pods[0].id, timeout=10)
    with pytest.raises(ClusterNotFound) as caught:
        await rp.clusters.delete(cluster.id)
    assert caught.value.id == cluster.id


async def test_cluster_rules_of_runpods_server(rp: Plane) -> None:
    with pytest.raises(InvalidRequestError, match="image_name= or template_id="):
        await rp.clusters.create(
            name="c", gpu_type_id=H100, pod_count=2, gpu_count_per_pod=8, deploy_cost=1.0
        )
    with pytest.raises(GraphQLError, match="not offered as an instant cluster"):
        await rp.clusters.create(
            name="c",
            gpu_type_id="NVIDIA RTX A4000",
            pod_count=2,
            gpu_count_per_pod=8,
            deploy_cost=1.0,
            image_name="img",
        )
    shape = {"clusterName": "c", "gpuTypeId": H100, "podCount": 2, "gpuCountPerPod": 8}
    graphql = Awaited(rp.client.graphql)
    no_cost = CreateClusterInput.model_validate({**shape, "imageName": "img"})
    with pytest.raises(GraphQLError, match="insufficient resources") as caught:
        await graphql.create_cluster(input=no_cost)
    assert caught.value.errors[0]["extensions"]["code"] == "RUNPOD"
    with_cuda = CreateClusterInput.model_validate(
        {**shape, "imageName": "img", "deployCost": 1.0, "minCudaVersion": "12.4"}
    )
    with pytest.raises(GraphQLError) as caught:
        await graphql.create_cluster(input=with_cuda)
    assert _graphql_message(caught) == "Error creating cluster - cluster creation failed"


# -- pods: edit ---------------------------------------------------------------------------


async def test_pod_edit(rp: Plane) -> None:
    pod = await rp.pods.create(name="p", image_name="img:1", gpu_type_id="NVIDIA RTX A6000")
    await rp.pods.wait_until_running(pod.id, timeout=10)
    auth = await rp.registries.create(name="private", username="u", password="p")
    edited = await rp.pods.edit(
        pod.id,
        image_name="img:2",
        env={"A": "1"},
        ports="8888/http,22/tcp",
        container_registry_auth_id=auth.id,
        volume_in_gb=30,
    )
    assert (edited.image, edited.env.additional_properties, edited.ports) == (
        "img:2",
        {"A": "1"},
        ["8888/http", "22/tcp"],
    )
    assert edited.registry == auth.id
    assert edited.mounts.persistent and edited.mounts.persistent.size == 30
    running = await rp.pods.wait_until_running(pod.id, timeout=10)  # it restarted
    assert running.image == "img:2"
    renamed = await rp.pods.update(pod.id, name="renamed", locked=True)
    assert (renamed.name, renamed.locked) == ("renamed", True)
    await rp.pods.edit(pod.id, locked=False)
    with pytest.raises(APIStatusError, match="only grow"):
        await rp.pods.edit(pod.id, volume_in_gb=20)
    with pytest.raises(APIStatusError, match=r"body.mounts.persistent.size: must be at least 10"):
        await rp.pods.edit(pod.id, volume_in_gb=1)  # v2's check, by field name
    with pytest.raises(PodNotFound, match="no pod with id 'missing' to edit"):
        await rp.pods.edit("missing", image_name="x")


# -- catalogue ----------------------------------------------------------------------------


async def test_catalog_gpus(rp: Plane) -> None:
    gpus = await rp.catalog.gpu_types(gpu_count=1)
    assert any(g.id == "NVIDIA GeForce RTX 4090" for g in gpus)
    assert {g.id for g in await rp.catalog.gpu_types(cluster=True)} == {
        H100,
        "NVIDIA A100-SXM4-80GB",
    }
    future_cuda = await rp.catalog.gpu_types(min_cuda_version="13.0")
    assert all(g.lowest_price and g.lowest_price.stock_status is None for g in future_cuda)
    gpu = await rp.catalog.gpu_type("NVIDIA GeForce RTX 4090", gpu_count=2)
    assert gpu.lowest_price is not None and gpu.lowest_price.uninterruptable_price
    stock = await rp.catalog.gpu_availability("NVIDIA GeForce RTX 4090", secure_cloud=True)
    assert stock.stock_status == "High" and stock.max_unreserved_gpu_count
    sold_out = await rp.catalog.gpu_availability("NVIDIA H100 NVL")
    assert sold_out.stock_status is None
    with pytest.raises(GpuTypeNotFound) as caught:
        await rp.catalog.gpu_type("NVIDIA GeForce GTX 9999")
    assert caught.value.kind == "GPU type"


async def test_catalog_cpus_and_places(rp: Plane) -> None:
    assert all(cpu.cores for cpu in await rp.catalog.cpu_types())
    flavors = await rp.catalog.cpu_flavors()
    assert {"cpu3c", "cpu5g"} <= {f.id for f in flavors}
    assert (await rp.catalog.cpu_flavor("cpu3c")).display_name == "Compute-Optimized"
    with pytest.raises(CpuFlavorNotFound):
        await rp.catalog.cpu_flavor("cpu9z")
    here = await rp.catalog.cpu_availability("cpu5c-2-4", data_center_id="US-TX-3")
    there = await rp.catalog.cpu_availability("cpu5c-2-4", data_center_id="EU-RO-1")
    assert here.stock_status == "High" and there.stock_status is None
    assert here.secure_price and here.sls_price and here.sls_price > here.secure_price
    with pytest.raises(CpuFlavorNotFound):
        await rp.catalog.cpu_availability("cpu9z-2-4")
    with pytest.raises(GraphQLError, match="no longer any instances"):
        await rp.catalog.cpu_availability("cpu3c-3-4")  # 3 vCPUs do not come with 4 GB
    centers = await rp.catalog.data_centers()
    assert len(centers) > 3
    assert (await rp.catalog.data_center("EU-RO-1")).storage_support is True
    with pytest.raises(DataCenterNotFound):
        await rp.catalog.data_center("XX-NO-1")
    assert "US" in await rp.catalog.country_codes()


# -- account ------------------------------------------------------------------------------


async def test_account(rp: Plane) -> None:
    assert (await rp.account.user()).email
    updated = await rp.account.update_user_settings(pub_key="ssh-ed25519 AAAA test")
    assert updated.pub_key == "ssh-ed25519 AAAA test"
    assert (await rp.account.user()).pub_key == "ssh-ed25519 AAAA test"
