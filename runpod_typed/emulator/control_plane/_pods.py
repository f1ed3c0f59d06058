"""Pods: pod, the three deploys (GPU on demand, GPU spot, CPU), edit, resume, bid resume, stop,
terminate.

Pod state changes are computed lazily from timestamps when a pod is read
(:func:`settle`), so no background task is needed and a test can step through
the states by polling.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from graphql import GraphQLError

from runpod_typed.emulator.control_plane._bindings import Bindings
from runpod_typed.emulator.control_plane._catalogue_queries import (
    cpu_instance,
    gpu_fits,
    placements,
)
from runpod_typed.emulator.control_plane._errors import (
    NOT_ENOUGH_GPUS_ON_HOST,
    SPOT_AS_ON_DEMAND,
    error,
    get_or_not_found,
    no_instances,
)
from runpod_typed.emulator.control_plane._registry import registry_auth_id
from runpod_typed.emulator.control_plane._state import (
    NetworkVolume,
    Pod,
    State,
    Template,
)
from runpod_typed.emulator.control_plane._templates import pod_template
from runpod_typed.emulator.control_plane._wire import (
    Input,
    Json,
    bid,
    camel_fields,
    env_map,
    first,
    integer,
    iso,
    parse_ports,
    text,
)
from runpod_typed.emulator.control_plane.catalogue import (
    CPU_TYPES,
    DATA_CENTERS,
    DATA_CENTERS_BY_ID,
    GPU_TYPES_BY_ID,
    GpuType,
)

BINDINGS = Bindings()


def settle(state: State) -> float:
    """Apply every transition whose time has come (start pods, forget terminated ones): now."""
    now = time.monotonic()
    for pod in list(state.pods.values()):
        if now - pod.since < state.pod_transition_seconds:
            continue
        if pod.phase == "starting" and pod.fails_to_start:
            pod.set_phase("error", now, "Error: the container exited while starting")
        elif pod.phase == "starting":
            pod.phase, pod.since, pod.running_since = "running", now, now
            pod.last_started_at = time.time()
        elif pod.phase == "terminated":
            del state.pods[pod.id]
    return now


# Pod fields the API shows under their own (camelCase) names.
_POD_FIELDS = (
    "id",
    "name",
    "image_name",
    "docker_args",
    "desired_status",
    "gpu_count",
    "vcpu_count",
    "memory_in_gb",
    "container_disk_in_gb",
    "volume_in_gb",
    "volume_mount_path",
    "cost_per_hr",
    "machine_id",
    "template_id",
    "network_volume_id",
)


def pod_view(state: State, pod: Pod, now: float) -> Json:
    gpu = pod.gpu
    uptime = int(now - pod.running_since) if pod.running_since is not None else 0
    volume = state.volumes.get(pod.network_volume_id or "")
    return {
        **camel_fields(pod, *_POD_FIELDS),
        "env": [f"{key}={value}" for key, value in pod.env.items()],
        "lastStatusChange": pod.status_change,
        "createdAt": iso(pod.created_at),
        "lastStartedAt": iso(pod.last_started_at) if pod.last_started_at else None,
        "podType": "INTERRUPTABLE" if pod.spot else "RESERVED",
        "ports": ",".join(f"{number}/{kind}" for number, kind in pod.ports),
        "port": pod.ports[0][0] if pod.ports else None,
        "adjustedCostPerHr": pod.cost_per_hr,
        "lowestBidPriceToResume": gpu.spot_price(pod.secure_cloud) if gpu and pod.spot else None,
        "uptimeSeconds": uptime,
        "locked": False,
        "version": 0,
        "costMultiplier": 1.0,
        "gpuPowerLimitPercent": 100,
        "volumeEncrypted": False,
        "consumerUserId": state.user.id,
        "gpus": [{"id": gpu_id, "podId": pod.id} for gpu_id in pod.gpu_ids],
        "networkVolume": volume.view() if volume is not None else None,
        "containerRegistryAuthId": pod.registry_auth_id,
        "clusterIp": pod.cluster_ip,
        "machine": {
            "id": pod.machine_id,
            "podHostId": f"{pod.id}-{pod.host_suffix}",
            "gpuTypeId": gpu.id if gpu else None,
            "gpuDisplayName": gpu.display_name if gpu else None,
            "gpuAvailable": gpu.max_gpu_count - pod.gpu_count if gpu else 0,
            "currentPricePerGpu": pod.unit_price if gpu else None,
            "costPerHr": pod.cost_per_hr,
            "cpuTypeId": CPU_TYPES[0].id,
            "dataCenterId": pod.data_center_id,
            "location": DATA_CENTERS_BY_ID[pod.data_center_id].location,
            "secureCloud": pod.secure_cloud,
            "supportPublicIp": pod.support_public_ip,
            "listed": True,
            "diskMBps": 2000,
            "maxDownloadSpeedMbps": 5000,
            "maxUploadSpeedMbps": 2000,
        },
        "runtime": _runtime_view(pod, uptime) if pod.phase == "running" else None,
    }


def _runtime_view(pod: Pod, uptime: int) -> Json:
    ports = []
    for number, kind in pod.ports:
        public = kind != "http" and pod.support_public_ip
        ports.append(
            {
                # TEST-NET-3 (documentation) public and 100.64/10 internal addresses:
                # nothing here is reachable.
                "ip": "203.0.113.10" if public else "100.65.0.10",
                "isIpPublic": public,
                "privatePort": number,
                "publicPort": pod.public_ports.get(number, number),
                "type": kind,
            }
        )
    return {
        "uptimeInSeconds": uptime,
        "ports": ports,
        "gpus": [
            {"id": gpu_id, "gpuUtilPercent": 0, "memoryUtilPercent": 0} for gpu_id in pod.gpu_ids
        ],
        "container": {"cpuPercent": 0, "memoryPercent": 0},
    }


def _bid_too_low(amount: float, minimum: float, gpu: GpuType) -> GraphQLError:
    return error(
        f"Your bid of ${amount:.3f}/hr per GPU is below the current minimum bid of "
        f"${minimum:.3f}/hr for {gpu.display_name}."
    )


@BINDINGS.field("Query.pod")
def _get(state: State, input: Input | None = None) -> Json:
    now = settle(state)
    return pod_view(state, get_or_not_found(state.pods, (input or {}).get("podId"), Pod.KIND), now)


def deploy_pod(
    state: State,
    inp: Input,
    *,
    gpu: GpuType | None,
    gpu_count: int,
    vcpu_count: int,
    memory_in_gb: int,
    unit_price: float,
    secure_cloud: bool,
    spot: bool,
    candidates: Iterable[str],
) -> Pod:
    """What every deploy shares: template defaults, image, ports, volume, placement."""
    template = pod_template(state, inp["templateId"]) if inp.get("templateId") else None
    defaults = template or Template(id="", name="", image_name="")
    image = text(inp.get("imageName") or defaults.image_name, "imageName")
    volume = (
        get_or_not_found(state.volumes, inp["networkVolumeId"], NetworkVolume.KIND)
        if inp.get("networkVolumeId")
        else None
    )
    if volume is not None and inp.get("dataCenterId") not in (None, volume.data_center_id):
        raise error("The network volume is in another data center than the one requested.")
    placement = {**inp, "dataCenterId": volume.data_center_id} if volume else inp
    data_centers = placements(candidates, placement)
    if not data_centers:
        raise no_instances()
    ports = parse_ports(first(inp.get("ports"), defaults.ports))
    pod = Pod(
        id=state.ids.make(14),
        name=str(inp.get("name") or image.split(":")[0]),
        image_name=image,
        docker_args=str(first(inp.get("dockerArgs"), defaults.docker_args)),
        env={**defaults.env, **env_map(inp.get("env"))},
        ports=ports,
        gpu=gpu,
        gpu_count=gpu_count,
        vcpu_count=vcpu_count,
        memory_in_gb=memory_in_gb,
        container_disk_in_gb=integer(
            first(inp.get("containerDiskInGb"), defaults.container_disk_in_gb),
            "containerDiskInGb",
            1,
        ),
        volume_in_gb=integer(first(inp.get("volumeInGb"), defaults.volume_in_gb), "volumeInGb"),
        volume_mount_path=str(inp.get("volumeMountPath") or defaults.volume_mount_path),
        secure_cloud=secure_cloud,
        unit_price=unit_price,
        spot=spot,
        data_center_id=data_centers[0],
        template_id=template.id if template else None,
        network_volume_id=volume.id if volume else None,
        registry_auth_id=registry_auth_id(
            state, inp.get("containerRegistryAuthId") or defaults.container_registry_auth_id
        ),
        support_public_ip=inp.get("supportPublicIp") is not False,
        machine_id=state.ids.make(12),
        host_suffix=state.ids.make(8),
        public_ports={number: state.ids.port() for number, kind in ports if kind != "http"},
        created_at=time.time(),
    )
    state.pods[pod.id] = pod
    return pod


def _deploy_gpu_pod(state: State, inp: Input, spot_bid: float | None) -> Json:
    """podFindAndDeployOnDemand and podRentInterruptable: pick a GPU type and price it."""
    gpu_count = integer(first(inp.get("gpuCount"), 1), "gpuCount", 1)
    secure = {"SECURE": True, "COMMUNITY": False}.get(inp.get("cloudType") or "ALL")
    choices = [inp.get("gpuTypeId"), *(inp.get("gpuTypeIdList") or ())]
    for gpu in (GPU_TYPES_BY_ID[c] for c in choices if c in GPU_TYPES_BY_ID):
        price = gpu.spot_price(secure) if spot_bid is not None else gpu.on_demand_price(secure)
        if price is None or not gpu_fits(gpu, gpu_count, inp):
            continue
        if spot_bid is not None and spot_bid < price:
            raise _bid_too_low(spot_bid, price, gpu)
        if secure is None:  # ALL: the cheaper cloud wins
            secure = price == (gpu.secure_spot_price if spot_bid is not None else gpu.secure_price)
        pod = deploy_pod(
            state,
            inp,
            gpu=gpu,
            gpu_count=gpu_count,
            vcpu_count=gpu.vcpu_per_gpu * gpu_count,
            memory_in_gb=gpu.memory_per_gpu_gb * gpu_count,
            unit_price=spot_bid if spot_bid is not None else price,
            secure_cloud=secure,
            spot=spot_bid is not None,
            candidates=gpu.data_center_ids,
        )
        return pod_view(state, pod, time.monotonic())
    raise no_instances()


@BINDINGS.field("Mutation.podFindAndDeployOnDemand")
def _deploy_on_demand(state: State, input: Input | None) -> Json:
    return _deploy_gpu_pod(state, input or {}, spot_bid=None)


@BINDINGS.field("Mutation.podRentInterruptable")
def _rent_interruptable(state: State, input: Input) -> Json:
    return _deploy_gpu_pod(state, input, spot_bid=bid(input))


@BINDINGS.field("Mutation.deployCpuPod")
def _deploy_cpu_pod(state: State, input: Input) -> Json:
    flavor, vcpus, memory = cpu_instance(input.get("instanceId"))
    pod = deploy_pod(
        state,
        input,
        gpu=None,
        gpu_count=0,
        vcpu_count=vcpus,
        memory_in_gb=memory,
        unit_price=flavor.price_per_vcpu,
        secure_cloud=True,
        spot=False,
        candidates=[dc.id for dc in DATA_CENTERS if flavor.offered_in(dc.id)],
    )
    return pod_view(state, pod, time.monotonic())


def _live_pod(state: State, inp: Input) -> tuple[Pod, float]:
    """The pod ``podId`` names, if not terminated, after settling: (pod, now)."""
    now = settle(state)
    return get_or_not_found(state.live_pods(), inp.get("podId"), Pod.KIND), now


def _resume_as(state: State, inp: Input, spot_bid: float | None) -> Json:
    """podResume (no bid) and podBidResume: start an exited pod again, as it was rented."""
    pod, now = _live_pod(state, inp)
    if pod.spot and spot_bid is None:
        raise error(SPOT_AS_ON_DEMAND)
    if not pod.spot and spot_bid is not None:
        raise error("Cannot resume an on demand pod as a spot pod.")
    if pod.phase == "exited":
        gpu = pod.gpu
        if gpu is not None:
            count = integer(first(inp.get("gpuCount"), pod.gpu_count), "gpuCount", 1)
            if gpu.stock is None or count > gpu.max_gpu_count:
                raise error(NOT_ENOUGH_GPUS_ON_HOST, "INTERNAL_SERVER_ERROR")
            minimum = gpu.spot_price(pod.secure_cloud)
            if spot_bid is not None and minimum is not None and spot_bid < minimum:
                raise _bid_too_low(spot_bid, minimum, gpu)
            pod.gpu_count = count
            pod.vcpu_count = gpu.vcpu_per_gpu * count
            pod.memory_in_gb = gpu.memory_per_gpu_gb * count
            pod.unit_price = spot_bid if spot_bid is not None else pod.unit_price
        pod.set_phase("starting", now, "Resumed by User")
        pod.started_before = True
    return pod_view(state, pod, now)


@BINDINGS.field("Mutation.podResume")
def _resume(state: State, input: Input) -> Json:
    return _resume_as(state, input, spot_bid=None)


@BINDINGS.field("Mutation.podBidResume")
def _bid_resume(state: State, input: Input) -> Json:
    return _resume_as(state, input, spot_bid=bid(input))


@BINDINGS.field("Mutation.podEditJob")
def _edit(state: State, input: Input) -> Json:
    """Change a pod's container settings; fields left out keep their value.

    A running (or starting) pod restarts with the new settings; a stopped one keeps them
    for its next start. The pod volume can only grow.
    """
    pod, now = _live_pod(state, input)
    if input.get("imageName") is not None:
        pod.image_name = text(input["imageName"], "imageName")
    if input.get("containerDiskInGb") is not None:
        pod.container_disk_in_gb = integer(input["containerDiskInGb"], "containerDiskInGb", 1)
    if input.get("volumeInGb") is not None:
        size = integer(input["volumeInGb"], "volumeInGb")
        if size < pod.volume_in_gb:
            raise error("The pod volume can only grow: volumeInGb must not decrease.")
        pod.volume_in_gb = size
    if input.get("volumeMountPath") is not None:
        pod.volume_mount_path = text(input["volumeMountPath"], "volumeMountPath")
    if input.get("dockerArgs") is not None:
        pod.docker_args = str(input["dockerArgs"])
    if input.get("env") is not None:
        pod.env = env_map(input["env"])
    ports = input.get("ports")
    if ports is None and input.get("port") is not None:
        ports = f"{integer(input['port'], 'port', 1)}/http"
    if ports is not None:
        pod.ports = parse_ports(str(ports))
        pod.public_ports = {n: state.ids.port() for n, kind in pod.ports if kind != "http"}
    if "containerRegistryAuthId" in input:
        pod.registry_auth_id = registry_auth_id(state, input["containerRegistryAuthId"])
    if pod.phase in ("starting", "running"):
        pod.set_phase("starting", now, "Edited by User")
        pod.started_before = True
    return pod_view(state, pod, now)


@BINDINGS.field("Mutation.podStop")
def _stop(state: State, input: Input) -> Json:
    pod, now = _live_pod(state, input)
    if pod.phase != "exited":
        pod.set_phase("exited", now, "Exited by User")
    return pod_view(state, pod, now)


@BINDINGS.field("Mutation.podTerminate")
def _terminate(state: State, input: Input) -> None:
    pod, now = _live_pod(state, input)
    pod.set_phase("terminated", now, "Terminated by User")
