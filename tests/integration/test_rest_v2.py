"""REST API v2 (`rp.rest`) against the emulator over loopback: CRUD on every resource, pod
actions and lifecycle, one state shared with GraphQL, validation, 404s, the log streams
(sync and async), and /v2 shared with the job API without collisions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from runpod_typed import (
    APIStatusError,
    AsyncRunpod,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    Runpod,
)
from runpod_typed._generated.rest.operations import OPERATIONS
from runpod_typed.emulator import Emulator
from runpod_typed.emulator.control_plane._state import FAILS_TO_START
from runpod_typed.emulator.rest_v2 import _spec
from runpod_typed.graphql import PodFilter, PodFindAndDeployOnDemandInput, PodStopInput
from runpod_typed.rest import (
    UNSET,
    BaseContainerConfigEnv,
    BaseCpuConfig,
    CatalogInclude,
    CreateClusterRequest,
    CreateDelegationRequest,
    CreateEndpointGpuConfig,
    CreateEndpointRequest,
    CreateGpuConfig,
    CreateNetworkVolumeRequest,
    CreatePodRequest,
    CreateRegistryRequest,
    CreateTemplateRequest,
    DataCenterInclude,
    DataCenterRegion,
    EndpointType,
    EndpointWorkers,
    LogSource,
    Pod,
    PodAction,
    PodActionRequest,
    PodStatus,
    QueueBasedRequestUrls,
    QueueDelayScaling,
    QueueDelayScalingType,
    UpdateEndpointRequest,
    UpdateNetworkVolumeRequest,
    UpdatePodRequest,
    UpdateSshKeysRequest,
    UpdateTemplateRequest,
)

T = TypeVar("T")
GPU = "NVIDIA GeForce RTX 4090"
KEY = "sk-rest-v2-integration"


@pytest.fixture
def urls(runpod_emulator: Any) -> dict[str, str]:
    return {
        "api_base_url": runpod_emulator.url,
        "endpoint_base_url": runpod_emulator.endpoint_base_url,
    }


@pytest.fixture
def rp(urls: dict[str, str]) -> Iterator[Runpod]:
    with Runpod(KEY, **urls) as client:
        yield client


def until(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 5.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def gpu_pod(rp: Runpod, name: str = "p", image: str = "runpod/base:1", **extra: Any) -> Pod:
    body = CreatePodRequest(name=name, image=image, gpu=CreateGpuConfig(id=GPU), **extra)
    return rp.rest.create_pod(body=body)


def status_of(rp: Runpod, pod_id: str) -> PodStatus:
    return rp.rest.get_pod(pod_id).status


def action(rp: Runpod, pod_id: str, what: PodAction) -> Pod:
    answer = rp.rest.pod_action(pod_id, body=PodActionRequest(action=what))
    assert answer is not None
    return answer


# -- pods ----------------------------------------------------------------------------------------


def test_a_pod_goes_through_its_lifecycle_with_the_actions_each_state_allows(rp: Runpod) -> None:
    env = BaseContainerConfigEnv.from_dict({"HF_TOKEN": "x"})
    pod = gpu_pod(rp, ports=["22/tcp", "8888/http"], env=env)
    assert pod.status in (PodStatus.PROVISIONING, PodStatus.STARTING)
    assert pod.actions == [PodAction.STOP, PodAction.TERMINATE]
    assert pod.env.additional_properties == {"HF_TOKEN": "x"} and pod.runtime is None
    running = until(lambda: rp.rest.get_pod(pod.id), lambda p: p.status is PodStatus.RUNNING)
    assert running.status is PodStatus.RUNNING and running.runtime is not None
    assert running.actions == [PodAction.STOP, PodAction.RESTART, PodAction.TERMINATE]
    assert running.ssh.direct is not None and running.ssh.direct.port > 0
    assert pod.id in [p.id for p in rp.rest.list_pods().pods]

    stopped = action(rp, pod.id, PodAction.STOP)
    assert stopped.status is PodStatus.EXITED and stopped.actions == [
        PodAction.START,
        PodAction.TERMINATE,
    ]
    assert action(rp, pod.id, PodAction.START).status is PodStatus.STARTING
    until(lambda: status_of(rp, pod.id), lambda s: s is PodStatus.RUNNING)
    assert action(rp, pod.id, PodAction.RESTART).status is PodStatus.STARTING
    until(lambda: status_of(rp, pod.id), lambda s: s is PodStatus.RUNNING)

    edited = rp.rest.update_pod(
        pod.id, body=UpdatePodRequest(name="renamed", image="runpod/base:2")
    )
    assert (edited.name, edited.image, edited.status) == (
        "renamed",
        "runpod/base:2",
        PodStatus.STARTING,
    )

    assert rp.rest.delete_pod(pod.id) is None
    with pytest.raises(NotFoundError):
        until(lambda: rp.rest.get_pod(pod.id), lambda p: False, timeout=2)
    assert pod.id not in [p.id for p in rp.rest.list_pods().pods]


def test_an_action_the_state_does_not_allow_is_409(rp: Runpod) -> None:
    pod = gpu_pod(rp)
    until(lambda: status_of(rp, pod.id), lambda s: s is PodStatus.RUNNING)
    with pytest.raises(APIStatusError) as caught:
        action(rp, pod.id, PodAction.START)
    assert caught.value.status_code == 409 and "cannot start a pod that is RUNNING" in str(
        caught.value
    )


def test_a_locked_pod_refuses_to_stop_or_go(rp: Runpod) -> None:
    pod = gpu_pod(rp)
    assert rp.rest.update_pod(pod.id, body=UpdatePodRequest(locked=True)).locked is True
    for attempt in (lambda: action(rp, pod.id, PodAction.STOP), lambda: rp.rest.delete_pod(pod.id)):
        with pytest.raises(APIStatusError, match="locked") as caught:
            attempt()
        assert caught.value.status_code == 409
    rp.rest.update_pod(pod.id, body=UpdatePodRequest(locked=False))
    rp.rest.delete_pod(pod.id)


def test_a_pod_that_cannot_start_is_error_and_graphql_shows_no_runtime(rp: Runpod) -> None:
    pod = gpu_pod(rp, image=f"{FAILS_TO_START}:latest")
    failed = until(lambda: rp.rest.get_pod(pod.id), lambda p: p.status is PodStatus.ERROR)
    assert failed.status is PodStatus.ERROR and failed.runtime is None
    assert PodAction.RESTART in failed.actions
    seen = rp.graphql.pod(input=PodFilter(pod_id=pod.id)).pod
    assert seen is not None and seen.runtime is None and seen.desired_status == "RUNNING"
    lines = []
    for event in rp.rest.get_pod_logs(pod.id, source=LogSource.SYSTEM):
        lines.append(event.line)
        if event.line.startswith("Container exited"):
            break
    assert lines[-1] == "Container exited with code 1 while starting"
    assert action(rp, pod.id, PodAction.RESTART).status is PodStatus.STARTING
    rp.rest.delete_pod(pod.id)


def test_a_cpu_pod_in_a_chosen_data_center(rp: Runpod) -> None:
    body = CreatePodRequest(
        name="cpu",
        image="img",
        cpu=BaseCpuConfig(id="cpu3g", vcpu_count=4),
        data_center_ids=["EU-RO-1"],
    )
    pod = rp.rest.create_pod(body=body)
    assert pod.data_center_id == "EU-RO-1" and pod.gpu is UNSET
    assert (pod.cpu.id, pod.cpu.vcpu_count, pod.cpu.memory) == ("cpu3g", 4, 16)


# -- one state, two planes -----------------------------------------------------------------------


def test_what_v2_creates_graphql_sees_and_the_other_way_round(rp: Runpod) -> None:
    pod = gpu_pod(rp, name="from-rest")
    seen = rp.graphql.pod(input=PodFilter(pod_id=pod.id)).pod
    assert seen is not None and seen.name == "from-rest"
    assert pod.id in [p.id for p in rp.graphql.pods().myself.pods]

    created = rp.graphql.create_pod(
        input=PodFindAndDeployOnDemandInput(
            name="from-graphql", image_name="img", gpu_type_id=GPU, gpu_count=1, cloud_type=None
        )
    ).pod_find_and_deploy_on_demand
    assert created is not None and created.id is not None
    assert rp.rest.get_pod(created.id).name == "from-graphql"
    until(lambda: status_of(rp, created.id), lambda s: s is PodStatus.RUNNING)
    rp.graphql.stop_pod(input=PodStopInput(pod_id=created.id))
    assert status_of(rp, created.id) is PodStatus.EXITED

    template = rp.rest.create_template(body=CreateTemplateRequest(name="tpl", image="img"))
    assert "tpl" in [t.name for t in rp.graphql.templates().myself.pod_templates or [] if t]
    volume = rp.rest.create_network_volume(
        body=CreateNetworkVolumeRequest(name="vol", size=20, data_center="US-TX-3")
    )
    volumes = rp.graphql.network_volumes().myself.network_volumes or []
    assert volume.id in [v.id for v in volumes if v]
    rp.rest.update_ssh_keys(body=UpdateSshKeysRequest(keys=["ssh-ed25519 AAAAC3Nz me@laptop"]))
    assert rp.graphql.myself().myself.pub_key == "ssh-ed25519 AAAAC3Nz me@laptop"
    assert rp.rest.get_ssh_keys().keys == ["ssh-ed25519 AAAAC3Nz me@laptop"]
    assert template.id in [t.id for t in rp.rest.list_templates().templates]


# -- templates, endpoints, volumes, registries ---------------------------------------------------


def test_templates_crud(rp: Runpod) -> None:
    template = rp.rest.create_template(
        body=CreateTemplateRequest(name="t1", image="img:1", ports=["8888/http"], serverless=True)
    )
    assert (template.start_jupyter, template.start_ssh, template.serverless) == (True, True, True)
    assert rp.rest.get_template(template.id).ports == ["8888/http"]
    updated = rp.rest.update_template(
        template.id, body=UpdateTemplateRequest(args="serve", image="img:2")
    )
    assert (updated.args, updated.image, updated.name) == ("serve", "img:2", "t1")
    with pytest.raises(BadRequestError, match="unique"):
        rp.rest.create_template(body=CreateTemplateRequest(name="t1", image="x"))
    public = rp.rest.list_public_templates().templates
    assert public and all(t.public for t in public)
    rp.rest.delete_template(template.id)
    with pytest.raises(NotFoundError):
        rp.rest.get_template(template.id)


def test_endpoints_crud_and_a_job_on_the_urls_they_return(rp: Runpod, urls: dict[str, str]) -> None:
    template = rp.rest.create_template(
        body=CreateTemplateRequest(name="worker", image="me/worker:1", serverless=True)
    )
    endpoint = rp.rest.create_endpoint(
        body=CreateEndpointRequest(
            name="ep",
            template_id=template.id,
            gpu=CreateEndpointGpuConfig(pools=["ADA_24"]),
            scaling=QueueDelayScaling(queue_delay=4, type_=QueueDelayScalingType.QUEUE_DELAY),
            type_=EndpointType.QUEUE,
            workers=EndpointWorkers(min_=1, max_=2),
        )
    )
    assert endpoint.image == "me/worker:1" and endpoint.workers.min_ == 1
    assert isinstance(endpoint.request_urls, QueueBasedRequestUrls)
    assert endpoint.request_urls.run == f"{urls['endpoint_base_url']}/{endpoint.id}/run"
    result = rp.endpoint(endpoint.id).run_sync({"prompt": "hi"}, timeout=30)
    assert result is not None

    updated = rp.rest.update_endpoint(
        endpoint.id, body=UpdateEndpointRequest(workers=EndpointWorkers(max_=5), name="ep2")
    )
    assert (updated.name, updated.workers.max_, updated.workers.min_) == ("ep2", 5, 1)
    workers = rp.rest.list_endpoint_workers(endpoint.id)
    assert workers.summary.total == 1 and len(workers.workers) == 1
    releases = rp.rest.list_endpoint_releases(endpoint.id)
    assert [r.version for r in releases.releases] == [1, 0]
    assert endpoint.id in [e.id for e in rp.rest.list_endpoints().endpoints]
    assert rp.graphql.endpoints().myself.endpoints  # the same records

    cpu = rp.rest.create_endpoint(
        body=CreateEndpointRequest.from_dict(
            {
                "name": "cpu-ep",
                "image": "me/cpu:1",
                "cpu": [{"id": "cpu3c", "vcpuCount": 2}],
                "scaling": {"type": "REQUEST_COUNT", "requestCount": 2},
                "type": "QUEUE",
            }
        )
    )
    assert cpu.gpu is None and cpu.cpu is not UNSET and cpu.image == "me/cpu:1"

    rp.rest.delete_endpoint(endpoint.id)
    with pytest.raises(NotFoundError):
        rp.rest.get_endpoint(endpoint.id)


def test_network_volumes_registries_and_delegations(rp: Runpod) -> None:
    volume = rp.rest.create_network_volume(
        body=CreateNetworkVolumeRequest(name="data", size=50, data_center="EU-RO-1")
    )
    grown = rp.rest.update_network_volume(volume.id, body=UpdateNetworkVolumeRequest(size=100))
    assert (grown.size, grown.data_center) == (100, "EU-RO-1")
    with pytest.raises(BadRequestError, match="only grow"):
        rp.rest.update_network_volume(volume.id, body=UpdateNetworkVolumeRequest(size=60))
    assert [v.id for v in rp.rest.list_network_volumes().network_volumes] == [volume.id]
    rp.rest.delete_network_volume(volume.id)
    with pytest.raises(NotFoundError):
        rp.rest.get_network_volume(volume.id)

    registry = rp.rest.create_registry(
        body=CreateRegistryRequest(name="ghcr", username="me", password="secret")
    )
    assert rp.rest.get_registry(registry.id).name == "ghcr"
    assert "secret" not in str(rp.rest.list_registries().to_dict())
    rp.rest.delete_registry(registry.id)

    delegation = rp.rest.create_delegation(
        body=CreateDelegationRequest(
            resource="123456789012.dkr.ecr.eu-west-1.amazonaws.com/models:v3", name="models"
        )
    )
    assert (delegation.aws_region, delegation.repository, delegation.tag) == (
        "eu-west-1",
        "models",
        "v3",
    )
    assert [d.id for d in rp.rest.list_delegations().delegations] == [delegation.id]
    rp.rest.revoke_delegation(delegation.id)
    with pytest.raises(NotFoundError):
        rp.rest.revoke_delegation(delegation.id)


def test_clusters_and_billing(rp: Runpod) -> None:
    cluster = rp.rest.create_cluster(
        body=CreateClusterRequest.from_dict(
            {
                "name": "train",
                "type": "TRAINING",
                "image": "img",
                "compute": {
                    "gpuTypeId": "NVIDIA H100 80GB HBM3",
                    "gpuCountPerPod": 8,
                    "podCount": 2,
                },
            }
        )
    )
    assert cluster.pods.total == 2
    pods = rp.rest.list_cluster_pods(cluster.id).pods
    assert len(pods) == 2 and all(p.cluster is not UNSET for p in pods)
    assert all(p.id not in [q.id for q in rp.rest.list_pods().pods] for p in pods)
    assert len(rp.rest.list_pods(include_cluster_pods=True).pods) == 2
    billing = rp.rest.list_pod_billing()
    assert {r.pod_id for r in billing.records} == {p.id for p in pods}
    assert rp.rest.list_cluster_billing().metadata.unique_cluster_count == 1
    assert rp.rest.list_billing().metadata.totals.total_amount >= 0
    rp.rest.delete_cluster(cluster.id)
    with pytest.raises(NotFoundError):
        rp.rest.get_cluster(cluster.id)


# -- the catalogue --------------------------------------------------------------------------------


def test_the_catalog_with_availability(rp: Runpod) -> None:
    gpus = rp.rest.list_gpu_types(include=[CatalogInclude.AVAILABILITY]).gpus
    by_id = {g.id: g for g in gpus}
    assert by_id[GPU].availability == "HIGH" and by_id["NVIDIA H100 NVL"].availability == "NONE"
    assert rp.rest.get_gpu_type(GPU).name == "RTX 4090"  # an id with spaces, quoted
    with pytest.raises(NotFoundError):
        rp.rest.get_gpu_type("NVIDIA GeForce RTX 9999")
    assert {c.id for c in rp.rest.list_cpu_types().cpus} >= {"cpu3c", "cpu5g"}
    europe = rp.rest.list_data_centers(
        regions=[DataCenterRegion.EUROPE], include=[DataCenterInclude.GPU_AVAILABILITY]
    ).data_centers
    assert europe and all(dc.region is DataCenterRegion.EUROPE for dc in europe)
    assert all(dc.gpu_availability is not UNSET for dc in europe)
    assert rp.rest.get_data_center("US-TX-3").id == "US-TX-3"


# -- validation and not found ---------------------------------------------------------------------


def test_an_unknown_field_is_refused_by_name(rp: Runpod) -> None:
    body = CreatePodRequest(name="p", image="img", gpu=CreateGpuConfig(id=GPU))
    body.additional_properties["gpuTypeId"] = GPU  # v1 habits
    with pytest.raises(BadRequestError, match="unknown field 'gpuTypeId'") as caught:
        rp.rest.create_pod(body=body)
    assert caught.value.status_code == 400
    nested = CreatePodRequest.from_dict(
        {"name": "p", "image": "i", "gpu": {"id": GPU, "counts": 2}}
    )
    with pytest.raises(BadRequestError, match=r"body\.gpu\.counts: unknown field"):
        rp.rest.create_pod(body=nested)


def test_bad_values_are_400_with_the_field(runpod_emulator: Any) -> None:
    client = httpx.Client(base_url=runpod_emulator.url, headers={"Authorization": f"Bearer {KEY}"})
    cases = [
        (
            "POST",
            "/v2/pods",
            {"name": "p", "image": "i", "disk": 0, "gpu": {"id": GPU}},
            "body.disk",
        ),
        (
            "POST",
            "/v2/pods",
            {"name": "p", "image": "i", "cloud": "MOON", "gpu": {"id": GPU}},
            "body.cloud",
        ),
        ("POST", "/v2/pods", {"image": "i", "gpu": {"id": GPU}}, "body.name: required"),
        ("POST", "/v2/pods", {"name": "p", "gpu": {"id": GPU}}, "body.image: required"),
        (
            "POST",
            "/v2/network-volumes",
            {"name": "v", "size": 5, "dataCenter": "US-TX-3"},
            "at least 10",
        ),
        ("POST", "/v2/pods/x/action", {"action": "explode"}, "body.action"),
        ("PATCH", "/v2/network-volumes/x", {}, "at least 1 field"),
    ]
    for method, path, body, expected in cases:
        answer = client.request(method, path, json=body)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["status"] == 400 and problem["title"] == "Bad Request"
        assert any(expected in e for e in problem["errors"]), (expected, problem)
    assert client.post("/v2/pods", content=b"{nope").status_code == 400
    tail = client.get("/v2/pods/x/logs?tail=lots")
    assert tail.status_code == 400 and "query.tail" in tail.json()["detail"]


def test_unknown_ids_are_404_and_wrong_methods_405(rp: Runpod, runpod_emulator: Any) -> None:
    calls = [
        lambda: rp.rest.get_pod("nope"),
        lambda: rp.rest.get_template("nope"),
        lambda: rp.rest.get_endpoint("nope"),
        lambda: rp.rest.get_network_volume("nope"),
        lambda: rp.rest.get_registry("nope"),
        lambda: rp.rest.get_cluster("nope"),
        lambda: rp.rest.get_cpu_type("nope"),
        lambda: rp.rest.list_endpoint_workers("nope"),
        lambda: rp.rest.delete_pod("nope"),
        lambda: list(rp.rest.get_pod_logs("nope")),
        lambda: list(rp.rest.get_worker_logs("nope", "w")),
    ]
    for call in calls:
        with pytest.raises(NotFoundError, match="not found"):
            call()
    client = httpx.Client(base_url=runpod_emulator.url, headers={"Authorization": f"Bearer {KEY}"})
    wrong = client.put("/v2/pods")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, POST"
    assert client.get("/v2/pods/x/y/z").status_code == 404


def test_a_wrong_key_is_refused(runpod_emulator_factory: Callable[..., Any]) -> None:
    emulator = runpod_emulator_factory(api_key="the-key")
    with Runpod("not-the-key", api_base_url=emulator.url) as rp, pytest.raises(AuthenticationError):
        rp.rest.list_pods()


# -- log streams -----------------------------------------------------------------------------------


def test_pod_logs_stream_resume_filter_and_end_with_the_pod(rp: Runpod) -> None:
    pod = gpu_pod(rp, name="logger")
    until(lambda: status_of(rp, pod.id), lambda s: s is PodStatus.RUNNING)
    stream = rp.rest.get_pod_logs(pod.id)
    first = [next(stream) for _ in range(3)]
    assert [e.source for e in first] == [LogSource.SYSTEM, LogSource.SYSTEM, LogSource.SYSTEM]
    assert first[1].line == "Pulling image runpod/base:1"
    stream.close()  # type: ignore[attr-defined]

    rest = list(
        until_terminated(
            rp, pod.id, rp.rest.get_pod_logs(pod.id, last_event_id=first[1].ts.isoformat())
        )
    )
    assert [e.line for e in rest][:2] == ["Container started", "logger: up (no ports)"]
    assert rest[-1].line == f"Pod {pod.id} terminated"  # and the stream ended by itself
    assert [e.ts for e in rest] == sorted(e.ts for e in rest) and rest[0].ts > first[1].ts


def until_terminated(rp: Runpod, pod_id: str, stream: Iterator[T]) -> Iterator[T]:
    """Yield from `stream`, terminating the pod once the first event has come."""
    for index, item in enumerate(stream):
        if index == 0:
            threading.Timer(0.1, rp.rest.delete_pod, args=(pod_id,)).start()
        yield item


def test_tail_and_source_pick_the_backlog(rp: Runpod) -> None:
    pod = gpu_pod(rp, name="quiet")
    until(lambda: status_of(rp, pod.id), lambda s: s is PodStatus.RUNNING)
    rp.rest.get_pod(pod.id)  # the lines of the start are written
    stream = rp.rest.get_pod_logs(pod.id, source=LogSource.CONTAINER, tail=1)
    (only,) = [next(stream)]
    assert (only.source, only.line) == (LogSource.CONTAINER, "quiet: ready")
    stream.close()  # type: ignore[attr-defined]


def test_worker_logs_stream(rp: Runpod) -> None:
    template = rp.rest.create_template(
        body=CreateTemplateRequest(name="w", image="img", serverless=True)
    )
    endpoint = rp.rest.create_endpoint(
        body=CreateEndpointRequest(
            name="e",
            template_id=template.id,
            gpu=CreateEndpointGpuConfig(pools=["AMPERE_16"]),
            scaling=QueueDelayScaling(queue_delay=2, type_=QueueDelayScalingType.QUEUE_DELAY),
            type_=EndpointType.QUEUE,
            workers=EndpointWorkers(min_=1, max_=1),
        )
    )
    (worker,) = rp.rest.list_endpoint_workers(endpoint.id).workers
    stream = rp.rest.get_worker_logs(endpoint.id, worker.id)
    lines = [next(stream).line for _ in range(3)]
    assert lines[1] == "--- Starting Serverless Worker ---"
    stream.close()  # type: ignore[attr-defined]


async def test_async_rest_and_log_streams(urls: dict[str, str]) -> None:
    async with AsyncRunpod(KEY, **urls) as rp:
        pod = await rp.rest.create_pod(
            body=CreatePodRequest(name="async", image="img", gpu=CreateGpuConfig(id=GPU))
        )
        seen = []
        async for event in rp.rest.get_pod_logs(pod.id):
            seen.append(event.line)
            if event.line == "async: ready":
                break
        assert seen[0].startswith(f"Pod {pod.id} scheduled") and seen[1] == "Pulling image img"
        assert (await rp.rest.get_pod(pod.id)).status is PodStatus.RUNNING
        await rp.rest.delete_pod(pod.id)
        with pytest.raises(NotFoundError):
            await rp.rest.get_template("nope")


# -- /v2 shared with the job API --------------------------------------------------------------------


def test_the_job_api_and_rest_share_v2_without_colliding(runpod_emulator: Any) -> None:
    port = runpod_emulator.url.rsplit(":", 1)[1]
    # Two base URLs that differ (as RunPod's hosts do) but reach the same emulator.
    with Runpod(
        KEY,
        api_base_url=f"http://localhost:{port}",
        endpoint_base_url=f"http://127.0.0.1:{port}/v2",
    ) as rp:
        assert rp.endpoint("my-endpoint").run_sync({"x": 1}, timeout=30) is not None
        assert rp.rest.list_pods().pods == []
    client = httpx.Client(base_url=runpod_emulator.url, headers={"Authorization": f"Bearer {KEY}"})
    not_a_job = client.post("/v2/pods/run", json={"input": {}})
    assert (
        not_a_job.status_code == 405
        and not_a_job.headers["content-type"] == "application/problem+json"
    )
    assert client.get("/v2/serverless/health").status_code == 404  # an endpoint id named health
    description = client.get("/v2/openapi.json").json()
    assert (
        len([op for item in description["paths"].values() for op in item if op != "parameters"])
        == 53
    )
    with pytest.raises(ValueError, match="shadow REST v2"):
        Emulator(handlers={"pods": "echo"})


# -- the emulator answers what the description promises -----------------------------------------------


def test_every_answer_matches_the_description(runpod_emulator: Any) -> None:
    client = httpx.Client(base_url=runpod_emulator.url, headers={"Authorization": f"Bearer {KEY}"})
    checked: set[str] = set()

    def call(operation_id: str, path: str, body: Any = None, method: str | None = None) -> Any:
        operation = OPERATIONS[operation_id]
        answer = client.request(method or operation.method, path, json=body)
        assert answer.status_code in operation.success, (operation_id, answer.text)
        node = _spec.document()["paths"][operation.path][operation.method.lower()]
        described = _spec._resolve(node["responses"][str(answer.status_code)])
        schema = (described.get("content") or {}).get("application/json", {}).get("schema")
        if schema is not None:
            errors = _spec.validate(schema, answer.json(), "answer")
            assert not errors, (operation_id, errors[:5])
        checked.add(operation_id)
        return answer.json() if answer.content else None

    for path, op in [
        ("/v2/catalog/gpus?include=AVAILABILITY", "listGpuTypes"),
        (f"/v2/catalog/gpus/{GPU}?include=AVAILABILITY", "getGpuType"),
        ("/v2/catalog/cpus?include=AVAILABILITY", "listCpuTypes"),
        ("/v2/catalog/cpus/cpu5c", "getCpuType"),
        ("/v2/catalog/datacenters?include=GPU_AVAILABILITY,CPU_AVAILABILITY", "listDataCenters"),
        ("/v2/catalog/datacenters/EU-SE-1?include=CPU_AVAILABILITY", "getDataCenter"),
        ("/v2/catalog/templates", "listPublicTemplates"),
        ("/v2/account/ssh-keys", "getSshKeys"),
    ]:
        call(op, path)
    volume = call(
        "createNetworkVolume",
        "/v2/network-volumes",
        {"name": "v", "size": 20, "dataCenter": "US-TX-3"},
    )
    registry = call(
        "createRegistry", "/v2/registries", {"name": "r", "username": "u", "password": "p"}
    )
    template = call(
        "createTemplate",
        "/v2/templates",
        {
            "name": "t",
            "image": "i",
            "serverless": True,
            "mounts": {"persistent": {"path": "/w", "size": 10}},
        },
    )
    pod = call(
        "createPod",
        "/v2/pods",
        {
            "name": "p",
            "image": "i",
            "gpu": {"id": GPU},
            "ports": ["22/tcp"],
            "mounts": {"network": [{"volumeId": volume["id"], "path": "/data"}]},
        },
    )
    time.sleep(0.1)
    call("getPod", f"/v2/pods/{pod['id']}")
    call("listPods", "/v2/pods")
    call("updatePod", f"/v2/pods/{pod['id']}", {"name": "p2", "env": {"A": "b"}})
    call("podAction", f"/v2/pods/{pod['id']}/action", {"action": "stop"})
    endpoint = call(
        "createEndpoint",
        "/v2/serverless",
        {
            "name": "e",
            "templateId": template["id"],
            "gpu": {"pools": ["AMPERE_24"], "excludedTypes": ["NVIDIA L4"]},
            "scaling": {"type": "QUEUE_DELAY", "queueDelay": 3},
            "type": "QUEUE",
            "workers": {"min": 1, "max": 2},
            "networkVolumes": [volume["id"]],
            "dataCenterIds": ["US-TX-3"],
        },
    )
    call("updateEndpoint", f"/v2/serverless/{endpoint['id']}", {"image": "i2", "timeout": 60000})
    call("getEndpoint", f"/v2/serverless/{endpoint['id']}")
    call("listEndpoints", "/v2/serverless")
    call("listEndpointWorkers", f"/v2/serverless/{endpoint['id']}/workers")
    call("listEndpointReleases", f"/v2/serverless/{endpoint['id']}/releases")
    call("updateTemplate", f"/v2/templates/{template['id']}", {"name": "t-renamed"})
    call("getTemplate", f"/v2/templates/{template['id']}")
    call("listTemplates", "/v2/templates")
    call("getNetworkVolume", f"/v2/network-volumes/{volume['id']}")
    call("listNetworkVolumes", "/v2/network-volumes")
    call("updateNetworkVolume", f"/v2/network-volumes/{volume['id']}", {"name": "v2"})
    call("getRegistry", f"/v2/registries/{registry['id']}")
    call("listRegistries", "/v2/registries")
    call("updateSshKeys", "/v2/account/ssh-keys", {"keys": ["ssh-ed25519 AAAA a@b"]})
    delegation = call(
        "createDelegation",
        "/v2/registries/delegations",
        {"resource": "1.dkr.ecr.us-east-1.amazonaws.com/r"},
    )
    call("listDelegations", "/v2/registries/delegations")
    cluster = call(
        "createCluster",
        "/v2/clusters",
        {
            "name": "c",
            "type": "TRAINING",
            "image": "i",
            "compute": {"gpuTypeId": "NVIDIA A100-SXM4-80GB", "gpuCountPerPod": 8, "podCount": 2},
        },
    )
    call("getCluster", f"/v2/clusters/{cluster['id']}")
    call("listClusters", "/v2/clusters")
    call("updateCluster", f"/v2/clusters/{cluster['id']}", {"name": "c2"})
    call("listClusterPods", f"/v2/clusters/{cluster['id']}/pods")
    for op, path in [
        ("listBilling", "/v2/billing"),
        ("listPodBilling", "/v2/billing/pods?bucketSize=hour"),
        ("listClusterBilling", "/v2/billing/clusters?lastN=3"),
        ("listEndpointBilling", "/v2/billing/endpoints"),
        ("listNetworkVolumeBilling", "/v2/billing/network-volumes"),
        ("listServerlessBilling", f"/v2/billing/serverless?serverlessId={endpoint['id']}"),
    ]:
        call(op, path)
    call("deleteCluster", f"/v2/clusters/{cluster['id']}")
    call("revokeDelegation", f"/v2/registries/delegations/{delegation['id']}")
    call("deleteEndpoint", f"/v2/serverless/{endpoint['id']}")
    call("deletePod", f"/v2/pods/{pod['id']}")
    call("deleteTemplate", f"/v2/templates/{template['id']}")
    call("deleteRegistry", f"/v2/registries/{registry['id']}")
    time.sleep(0.1)
    call("deleteNetworkVolume", f"/v2/network-volumes/{volume['id']}")
    streams = {op.id for op in OPERATIONS.values() if op.stream}
    assert checked | streams == set(OPERATIONS)  # the two streams: the tests above
