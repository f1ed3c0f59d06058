"""The emulator's GraphQL control plane: RunPod's schema, executed against in-memory state.

The executable schema is built from the same SDL snapshot the SDK is generated from,
so a document RunPod would reject (unknown field, wrong argument type, missing
required input) is rejected here by GraphQL validation before any resolver runs.
Resolvers keep a user, pods, templates, endpoints, registry credentials and network
volumes in memory. Pod state changes are computed lazily from timestamps when a pod
is read, so no background task is needed and a test can step through the states by
polling. Errors come back the way RunPod's Apollo server sends them: HTTP 200,
``data`` with the failed field set to null, and ``errors`` with message, path and
``extensions.code``; a document that fails parsing or validation gets HTTP 400.
"""

from __future__ import annotations

import logging
import random
import string
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import resources
from typing import Any, Literal

from ariadne import MutationType, ObjectType, QueryType, make_executable_schema
from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from graphql import GraphQLEnumType, GraphQLError, GraphQLSchema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from runpod_typed.emulator.catalogue import (
    COMMITMENT_FIELDS,
    CPU_FLAVORS_BY_ID,
    CPU_TYPES,
    DATA_CENTERS,
    DATA_CENTERS_BY_ID,
    GPU_POOLS_BY_ID,
    GPU_TYPES,
    GPU_TYPES_BY_ID,
    CpuFlavor,
    CpuType,
    DataCenter,
    GpuType,
)

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
Json = dict[str, Any]
Input = Mapping[str, Any]

# RunPod's own wording (clients match on these), reproduced exactly.
NO_INSTANCES = (
    "There are no longer any instances available with the requested specifications. "
    "Please refresh and try again."
)
NOT_ENOUGH_GPUS_ON_HOST = "There are not enough free GPUs on the host machine to start this pod."
SPOT_AS_ON_DEMAND = "Cannot resume a spot pod as an on demand pod."

_LOG = logging.getLogger("runpod_typed.emulator.graphql")


def _error(message: str, code: str = "BAD_USER_INPUT") -> GraphQLError:
    """A resolver error with the ``extensions.code`` Apollo (and so RunPod) attaches."""
    return GraphQLError(message, extensions={"code": code})


def _not_found(kind: str, key: object) -> GraphQLError:
    return _error(f"{kind} not found: {key}", "NOT_FOUND")


def _no_instances() -> GraphQLError:
    return _error(NO_INSTANCES, "INTERNAL_SERVER_ERROR")


def load_sdl() -> str:
    """The SDL snapshot shipped in the package (codegen copies schema/runpod.graphql there)."""
    sdl = resources.files("runpod_typed._generated").joinpath("runpod.graphql")
    return sdl.read_text(encoding="utf-8")


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _status_text(event: str) -> str:
    """lastStatusChange as RunPod writes it: an event and a JavaScript Date string."""
    now = datetime.now(timezone.utc)
    return f"{event}: {now:%a %b %d %Y %H:%M:%S} GMT+0000 (Coordinated Universal Time)"


def _first(*values: Any) -> Any:
    """The first value that is not None (GraphQL's "argument not given")."""
    return next((v for v in values if v is not None), None)


def _int(value: Any, name: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or value < minimum:
        raise _error(f"{name} must be an integer of at least {minimum}.")
    return value


def _text(value: Any, name: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise _error(f"{name} must not be empty.")
    return text


def _bid(inp: Input) -> float:
    bid = inp.get("bidPerGpu")
    if not isinstance(bid, (int, float)) or bid <= 0:
        raise _error("bidPerGpu must be a positive number.")
    return float(bid)


def _parse_ports(text: str) -> list[tuple[int, str]]:
    """``"8888/http,22/tcp"`` -> [(8888, "http"), (22, "tcp")], rejecting malformed entries."""
    ports: list[tuple[int, str]] = []
    for raw in text.replace(" ", "").split(","):
        if not raw:
            continue
        number, _, kind = raw.partition("/")
        if not (number.isdigit() and 0 < int(number) < 65536 and kind in ("http", "tcp", "udp")):
            raise _error(f"Invalid port {raw!r}: expected PORT/http or PORT/tcp.")
        ports.append((int(number), kind))
    return ports


def _env_map(items: Iterable[Input | None] | None) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items or ():
        if item is not None:
            env[_text(item.get("key"), "Environment variable key")] = str(item.get("value") or "")
    return env


def _env_list(env: Mapping[str, str]) -> list[Json]:
    return [{"key": key, "value": value} for key, value in env.items()]


class _Ids:
    """RunPod-shaped random ids: 14 characters for pods and endpoints, 10 for templates."""

    _ALPHABET = string.ascii_lowercase + string.digits

    def __init__(self) -> None:
        self._random = random.Random()

    def make(self, length: int, prefix: str = "") -> str:
        return prefix + "".join(self._random.choices(self._ALPHABET, k=length))

    def port(self) -> int:
        return self._random.randint(10000, 49999)


# --------------------------------------------------------------------------- catalogue views


def _placements(candidates: Iterable[str], inp: Input) -> list[str]:
    """Data centers among `candidates` that meet dataCenterId, countryCode and compliance."""
    wanted = inp.get("dataCenterId")
    country = inp.get("countryCode")
    compliance = set(inp.get("compliance") or ())
    return [
        dc_id
        for dc_id in candidates
        if (not wanted or dc_id == wanted)
        and (not country or DATA_CENTERS_BY_ID[dc_id].country_code == country)
        and compliance <= set(DATA_CENTERS_BY_ID[dc_id].compliance)
    ]


def _gpu_fits(gpu: GpuType, gpu_count: int, inp: Input) -> bool:
    """Whether stock, GPU count, minimum vCPU/RAM and placement can all be met."""
    return (
        gpu.stock is not None
        and gpu_count <= gpu.max_gpu_count
        and (inp.get("minVcpuCount") or 0) <= gpu.vcpu_per_gpu * gpu_count
        and (inp.get("minMemoryInGb") or 0) <= gpu.memory_per_gpu_gb * gpu_count
        and bool(_placements(gpu.data_center_ids, inp))
    )


def _gpu_view(gpu: GpuType) -> Json:
    return {
        "id": gpu.id,
        "displayName": gpu.display_name,
        "manufacturer": gpu.manufacturer,
        "memoryInGb": gpu.memory_in_gb,
        "cudaCores": gpu.cuda_cores,
        "maxGpuCount": gpu.max_gpu_count,
        "maxGpuCountSecureCloud": gpu.max_gpu_count if gpu.secure_cloud else 0,
        "maxGpuCountCommunityCloud": gpu.max_gpu_count if gpu.community_cloud else 0,
        "minPodGpuCount": 1,
        "secureCloud": gpu.secure_cloud,
        "communityCloud": gpu.community_cloud,
        "securePrice": gpu.secure_price,
        "communityPrice": gpu.community_price,
        "secureSpotPrice": gpu.secure_spot_price,
        "communitySpotPrice": gpu.community_spot_price,
        **{name: gpu.commitment_price(name) for name in COMMITMENT_FIELDS},
    }


def _lowest_price(obj: Json, _info: object, input: Input | None = None) -> Json:
    """GpuType.lowestPrice: per-GPU prices for the requested shape, null when it cannot be met."""
    gpu = GPU_TYPES_BY_ID[obj["id"]]
    inp = input or {}
    count = inp.get("gpuCount") or 1
    secure = inp.get("secureCloud")
    on_demand = gpu.on_demand_price(secure)
    fits = on_demand is not None and _gpu_fits(gpu, count, inp)
    total = gpu.max_gpu_count * 4 * len(gpu.data_center_ids)
    rented = {"High": total // 4, "Medium": total // 2, "Low": total - 2, None: total}[gpu.stock]
    return {
        "gpuName": gpu.display_name,
        "gpuTypeId": gpu.id,
        "minimumBidPrice": gpu.spot_price(secure) if fits else None,
        "uninterruptablePrice": on_demand if fits else None,
        "minMemory": gpu.memory_per_gpu_gb * count,
        "minVcpu": gpu.vcpu_per_gpu * count,
        "stockStatus": gpu.stock if fits else None,
        "availableGpuCounts": [n for n in (1, 2, 4, 8) if n <= gpu.max_gpu_count] if fits else [],
        "rentedCount": rented,
        "totalCount": total,
        "rentalPercentage": round(rented / total, 2),
        "countryCode": inp.get("countryCode"),
        "compliance": inp.get("compliance"),
        "supportPublicIp": inp.get("supportPublicIp", True) is not False,
        "minDisk": inp.get("minDisk"),
        "minDownload": inp.get("minDownload"),
        "minUpload": inp.get("minUpload"),
    }


def _data_center_view(dc: DataCenter) -> Json:
    return {
        "id": dc.id,
        "name": dc.name,
        "location": dc.location,
        "storageSupport": dc.storage_support,
        "listed": True,
        "compliance": list(dc.compliance),
        "gpuAvailability": [
            {
                "id": gpu.id,
                "gpuTypeId": gpu.id,
                "gpuTypeDisplayName": gpu.display_name,
                "displayName": gpu.display_name,
                "available": gpu.stock is not None,
                "stockStatus": gpu.stock,
            }
            for gpu in GPU_TYPES
            if dc.id in gpu.data_center_ids
        ],
    }


def _cpu_type_view(cpu: CpuType) -> Json:
    return {
        "id": cpu.id,
        "displayName": cpu.display_name,
        "manufacturer": cpu.manufacturer,
        "cores": cpu.cores,
        "threadsPerCore": cpu.threads_per_core,
        "groupId": cpu.group_id,
    }


def _cpu_instance(instance_id: Any) -> tuple[CpuFlavor, int, int]:
    """``cpu3c-2-4`` -> (flavour cpu3c, 2 vCPUs, 4 GB); the default is a small cpu3g."""
    parts = str(instance_id or "cpu3g-2-8").split("-")
    flavor = CPU_FLAVORS_BY_ID.get(parts[0])
    if flavor is None or len(parts) != 3 or not all(p.isdigit() for p in parts[1:]):
        raise _no_instances()
    vcpus, memory = int(parts[1]), int(parts[2])
    if not flavor.min_vcpu <= vcpus <= flavor.max_vcpu or memory != vcpus * flavor.ram_multiplier:
        raise _no_instances()
    return flavor, vcpus, memory


def _check_gpu_ids(gpu_ids: str) -> None:
    """gpuIds is a comma list of GPU pool ids, optionally with ``-GPU TYPE`` exclusions."""
    entries = [e.strip() for e in gpu_ids.split(",") if e.strip()]
    if not any(not e.startswith("-") for e in entries):
        raise _error("gpuIds must name at least one GPU pool, like AMPERE_16.")
    for entry in entries:
        excluded = entry.startswith("-")
        if not (entry[1:] in GPU_TYPES_BY_ID if excluded else entry in GPU_POOLS_BY_ID):
            raise _error(f"Unknown GPU pool or GPU type in gpuIds: {entry!r}.")


# --------------------------------------------------------------------------- state


PodPhase = Literal["starting", "running", "exited", "terminated"]


@dataclass
class _Template:
    id: str
    name: str
    image_name: str
    docker_args: str = ""
    container_disk_in_gb: int = 10
    volume_in_gb: int = 0
    volume_mount_path: str = "/workspace"
    ports: str = ""
    env: dict[str, str] = field(default_factory=dict)
    is_serverless: bool = False
    is_public: bool = False
    is_runpod: bool = False
    readme: str = ""
    start_ssh: bool = True
    start_jupyter: bool = False
    start_script: str | None = None
    advanced_start: bool = False
    category: str = "NVIDIA"
    container_registry_auth_id: str | None = None

    def view(self) -> Json:
        return {
            "id": self.id,
            "name": self.name,
            "imageName": self.image_name,
            "dockerArgs": self.docker_args,
            "containerDiskInGb": self.container_disk_in_gb,
            "volumeInGb": self.volume_in_gb,
            "volumeMountPath": self.volume_mount_path,
            "ports": self.ports,
            "env": _env_list(self.env),
            "isServerless": self.is_serverless,
            "isPublic": self.is_public,
            "isRunpod": self.is_runpod,
            "readme": self.readme,
            "startSsh": self.start_ssh,
            "startJupyter": self.start_jupyter,
            "startScript": self.start_script,
            "advancedStart": self.advanced_start,
            "category": self.category,
            "containerRegistryAuthId": self.container_registry_auth_id,
        }


# Public templates any account can deploy from; the official client deploys CPU pods
# from "runpod-ubuntu" when given no template.
_PUBLIC_TEMPLATES = {
    t.id: t
    for t in (
        _Template(
            "runpod-ubuntu",
            "Runpod Ubuntu",
            "runpod/base:0.6.2-ubuntu2204",
            category="CPU",
            is_public=True,
            is_runpod=True,
        ),
        _Template(
            "runpod-torch-v240",
            "Runpod Pytorch 2.4.0",
            "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04",
            container_disk_in_gb=50,
            volume_in_gb=20,
            ports="8888/http,22/tcp",
            start_jupyter=True,
            is_public=True,
            is_runpod=True,
        ),
    )
}


@dataclass
class _RegistryAuth:
    id: str
    name: str
    username: str
    password: str

    def view(self, user_id: str) -> Json:
        # The password never leaves the emulator, as RunPod never echoes it.
        return {"id": self.id, "name": self.name, "userId": user_id, "registryAuth": None}


@dataclass
class _NetworkVolume:
    id: str
    name: str
    size: int
    data_center_id: str

    def view(self) -> Json:
        return {
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "dataCenterId": self.data_center_id,
            "dataCenter": _data_center_view(DATA_CENTERS_BY_ID[self.data_center_id]),
        }


@dataclass
class _Endpoint:
    id: str
    name: str = ""
    template_id: str = ""
    gpu_ids: str = ""
    compute_type: str = "GPU"
    instance_ids: list[str] | None = None
    network_volume_ids: list[Json] = field(default_factory=list)
    locations: str | None = None
    idle_timeout: int = 5
    scaler_type: str = "QUEUE_DELAY"
    scaler_value: int = 4
    workers_min: int = 0
    workers_max: int = 3
    gpu_count: int = 1
    allowed_cuda_versions: str | None = None
    min_cuda_version: str | None = None
    model_references: list[str] | None = None
    flash_boot_type: str = "OFF"
    execution_timeout_ms: int = 600_000
    created_at: float = field(default_factory=time.time)
    version: int = 0


@dataclass
class _Pod:
    id: str
    name: str
    image_name: str
    docker_args: str
    env: dict[str, str]
    ports: list[tuple[int, str]]
    gpu: GpuType | None
    gpu_count: int
    vcpu_count: int
    memory_in_gb: int
    container_disk_in_gb: int
    volume_in_gb: int
    volume_mount_path: str
    secure_cloud: bool
    unit_price: float
    """Per GPU per hour (per vCPU for CPU pods); for spot pods, the bid."""
    spot: bool
    data_center_id: str
    template_id: str | None
    network_volume_id: str | None
    registry_auth_id: str | None
    support_public_ip: bool
    machine_id: str
    host_suffix: str
    public_ports: dict[int, int]
    created_at: float
    phase: PodPhase = "starting"
    since: float = field(default_factory=time.monotonic)
    started_before: bool = False
    running_since: float | None = None
    last_started_at: float | None = None
    status_change: str = field(default_factory=lambda: _status_text("Rented by User"))

    @property
    def cost_per_hr(self) -> float:
        units = self.gpu_count if self.gpu is not None else self.vcpu_count
        return round(self.unit_price * units, 4)

    @property
    def gpu_ids(self) -> list[str]:
        return [f"GPU-{self.machine_id}-{index}" for index in range(self.gpu_count)]

    @property
    def desired_status(self) -> str:
        if self.phase == "starting":
            return "RUNNING" if self.started_before else "CREATED"
        return {"running": "RUNNING", "exited": "EXITED", "terminated": "TERMINATED"}[self.phase]

    def set_phase(self, phase: PodPhase, now: float, event: str) -> None:
        self.phase, self.since, self.running_since = phase, now, None
        self.status_change = _status_text(event)


@dataclass
class _User:
    id: str = "user_2emulatorDefaultUserId0000"
    email: str = "developer@example.com"
    pub_key: str = ""
    client_balance: float = 250.0
    spend_limit: float = 80.0
    min_balance: float = 0.0
    credit_alert_threshold: float = 10.0
    max_serverless_concurrency: int = 30


# --------------------------------------------------------------------------- control plane


class ControlPlane:
    """RunPod's GraphQL API over in-memory state; :meth:`asgi_app` serves it.

    ``pod_transition_seconds`` is how long a pod takes to start (CREATED -> RUNNING
    with a runtime) and how long a terminated pod stays listed before it is gone.
    """

    def __init__(self, *, pod_transition_seconds: float = 0.2, sdl: str | None = None) -> None:
        self.pod_transition_seconds = pod_transition_seconds
        self._lock = threading.RLock()
        self._ids = _Ids()
        self._schema = self._build_schema(load_sdl() if sdl is None else sdl)
        self._user = _User()
        self._pods: dict[str, _Pod] = {}
        self._templates: dict[str, _Template] = {}
        self._endpoints: dict[str, _Endpoint] = {}
        self._registry_auths: dict[str, _RegistryAuth] = {}
        self._volumes: dict[str, _NetworkVolume] = {}

    @property
    def schema(self) -> GraphQLSchema:
        """The executable schema, for in-process execution with graphql-core."""
        return self._schema

    def asgi_app(self) -> ASGIApp:
        """GraphQL over HTTP at the app's root: POST JSON, GET for tools; introspection on."""
        app: ASGIApp = GraphQL(
            self._schema,
            introspection=True,
            logger=_LOG,
            error_formatter=_format_error,
            http_handler=_RunpodHTTPHandler(),
            execute_get_queries=True,
        )
        return app

    def reset(self) -> None:
        """Forget every pod, template, endpoint, credential and volume; restore the user."""
        with self._lock:
            self._user = _User()
            for store in (
                self._pods,
                self._templates,
                self._endpoints,
                self._registry_auths,
                self._volumes,
            ):
                store.clear()

    # ----------------------------------------------------------------- schema

    def _build_schema(self, sdl: str) -> GraphQLSchema:
        bindings: dict[str, dict[str, Callable[..., Any]]] = {
            "Query": {
                "myself": self._q_myself,
                "pod": self._q_pod,
                "podTemplate": self._q_pod_template,
                "gpuTypes": _q_gpu_types,
                "cpuTypes": lambda *_: [_cpu_type_view(cpu) for cpu in CPU_TYPES],
                "dataCenters": lambda *_: [_data_center_view(dc) for dc in DATA_CENTERS],
            },
            "Mutation": {
                "updateUserSettings": self._m_update_user_settings,
                "podFindAndDeployOnDemand": self._m_deploy_on_demand,
                "podRentInterruptable": self._m_rent_interruptable,
                "deployCpuPod": self._m_deploy_cpu_pod,
                "podResume": self._m_pod_resume,
                "podBidResume": self._m_pod_bid_resume,
                "podStop": self._m_pod_stop,
                "podTerminate": self._m_pod_terminate,
                "saveTemplate": self._m_save_template,
                "deleteTemplate": self._m_delete_template,
                "saveEndpoint": self._m_save_endpoint,
                "updateEndpointTemplate": self._m_update_endpoint_template,
                "deleteEndpoint": self._m_delete_endpoint,
                "saveRegistryAuth": self._m_save_registry_auth,
                "updateRegistryAuth": self._m_update_registry_auth,
                "deleteRegistryAuth": self._m_delete_registry_auth,
                "createNetworkVolume": self._m_create_network_volume,
                "updateNetworkVolume": self._m_update_network_volume,
                "deleteNetworkVolume": self._m_delete_network_volume,
            },
            "User": {"endpoint": self._r_user_endpoint},
            "GpuType": {"lowestPrice": _lowest_price},
        }
        types = [QueryType(), MutationType(), ObjectType("User"), ObjectType("GpuType")]
        for bindable in types:
            for name, resolver in bindings[bindable.name].items():
                bindable.set_field(name, resolver)
        schema = make_executable_schema(sdl, *types)
        _unpatch_enum_parsing(schema)
        return schema

    # ----------------------------------------------------------------- views

    def _settle(self, now: float) -> None:
        """Apply every transition whose time has come: start pods, forget terminated ones."""
        for pod in list(self._pods.values()):
            if now - pod.since < self.pod_transition_seconds:
                continue
            if pod.phase == "starting":
                pod.phase, pod.since, pod.running_since = "running", now, now
                pod.last_started_at = time.time()
            elif pod.phase == "terminated":
                del self._pods[pod.id]

    def _pod_view(self, pod: _Pod, now: float) -> Json:
        gpu = pod.gpu
        uptime = int(now - pod.running_since) if pod.running_since is not None else 0
        volume = self._volumes.get(pod.network_volume_id or "")
        return {
            "id": pod.id,
            "name": pod.name,
            "imageName": pod.image_name,
            "dockerArgs": pod.docker_args,
            "env": [f"{key}={value}" for key, value in pod.env.items()],
            "desiredStatus": pod.desired_status,
            "lastStatusChange": pod.status_change,
            "createdAt": _iso(pod.created_at),
            "lastStartedAt": _iso(pod.last_started_at) if pod.last_started_at else None,
            "podType": "INTERRUPTABLE" if pod.spot else "RESERVED",
            "gpuCount": pod.gpu_count,
            "vcpuCount": pod.vcpu_count,
            "memoryInGb": pod.memory_in_gb,
            "containerDiskInGb": pod.container_disk_in_gb,
            "volumeInGb": pod.volume_in_gb,
            "volumeMountPath": pod.volume_mount_path,
            "ports": ",".join(f"{number}/{kind}" for number, kind in pod.ports),
            "port": pod.ports[0][0] if pod.ports else None,
            "costPerHr": pod.cost_per_hr,
            "adjustedCostPerHr": pod.cost_per_hr,
            "lowestBidPriceToResume": gpu.spot_price(pod.secure_cloud)
            if gpu and pod.spot
            else None,
            "uptimeSeconds": uptime,
            "locked": False,
            "version": 0,
            "costMultiplier": 1.0,
            "gpuPowerLimitPercent": 100,
            "volumeEncrypted": False,
            "consumerUserId": self._user.id,
            "gpus": [{"id": gpu_id, "podId": pod.id} for gpu_id in pod.gpu_ids],
            "machineId": pod.machine_id,
            "templateId": pod.template_id,
            "networkVolumeId": pod.network_volume_id,
            "networkVolume": volume.view() if volume is not None else None,
            "containerRegistryAuthId": pod.registry_auth_id,
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
            "runtime": self._runtime_view(pod, uptime) if pod.phase == "running" else None,
        }

    @staticmethod
    def _runtime_view(pod: _Pod, uptime: int) -> Json:
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
                {"id": gpu_id, "gpuUtilPercent": 0, "memoryUtilPercent": 0}
                for gpu_id in pod.gpu_ids
            ],
            "container": {"cpuPercent": 0, "memoryPercent": 0},
        }

    def _endpoint_view(self, endpoint: _Endpoint) -> Json:
        template = self._templates[endpoint.template_id]
        volume = self._volumes.get(
            endpoint.network_volume_ids[0]["networkVolumeId"] if endpoint.network_volume_ids else ""
        )
        return {
            "id": endpoint.id,
            "name": endpoint.name,
            "templateId": endpoint.template_id,
            "template": template.view(),
            "env": _env_list(template.env),
            "gpuIds": endpoint.gpu_ids,
            "gpuCount": endpoint.gpu_count,
            "computeType": endpoint.compute_type,
            "instanceIds": endpoint.instance_ids,
            "networkVolumeId": volume.id if volume else None,
            "networkVolume": volume.view() if volume else None,
            "networkVolumeIds": endpoint.network_volume_ids,
            "locations": endpoint.locations,
            "idleTimeout": endpoint.idle_timeout,
            "scalerType": endpoint.scaler_type,
            "scalerValue": endpoint.scaler_value,
            "workersMin": endpoint.workers_min,
            "workersMax": endpoint.workers_max,
            "workersStandby": endpoint.workers_min,
            "allowedCudaVersions": endpoint.allowed_cuda_versions,
            "minCudaVersion": endpoint.min_cuda_version,
            "modelReferences": endpoint.model_references,
            "flashBootType": endpoint.flash_boot_type,
            "executionTimeoutMs": endpoint.execution_timeout_ms,
            "type": "QB",
            "userId": self._user.id,
            "version": endpoint.version,
            "createdAt": _iso(endpoint.created_at),
            "pods": [],
        }

    def _user_view(self) -> Json:
        now = time.monotonic()
        self._settle(now)
        user = self._user
        pods = [self._pod_view(pod, now) for pod in self._pods.values()]
        active = ("CREATED", "RUNNING")
        spend = sum(pod["costPerHr"] for pod in pods if pod["desiredStatus"] in active)
        return {
            "id": user.id,
            "email": user.email,
            "pubKey": user.pub_key,
            "clientBalance": user.client_balance,
            "currentSpendPerHr": round(spend, 4),
            "spendLimit": user.spend_limit,
            "minBalance": user.min_balance,
            "creditAlertThreshold": user.credit_alert_threshold,
            "maxServerlessConcurrency": user.max_serverless_concurrency,
            "multiFactorEnabled": False,
            "signedTermsOfService": True,
            "referralEarned": 0.0,
            "templateEarned": 0.0,
            "notifyPodsStale": True,
            "notifyPodsGeneral": True,
            "notifyLowBalance": True,
            "notifyOther": True,
            "pods": pods,
            "endpoints": [self._endpoint_view(e) for e in self._endpoints.values()],
            "podTemplates": [t.view() for t in self._templates.values()],
            "networkVolumes": [v.view() for v in self._volumes.values()],
            "containerRegistryCreds": [a.view(user.id) for a in self._registry_auths.values()],
        }

    # ----------------------------------------------------------------- lookups

    def _pod(self, pod_id: Any) -> _Pod:
        """A pod that still exists (terminated pods are found only until they are gone)."""
        pod = self._pods.get(str(pod_id))
        if pod is None:
            raise _not_found("Pod", pod_id)
        return pod

    def _live_pods(self) -> list[_Pod]:
        """Pods not terminated: a terminated pod holds no template or volume any more."""
        return [pod for pod in self._pods.values() if pod.phase != "terminated"]

    def _live_pod(self, pod_id: Any) -> _Pod:
        pod = self._pod(pod_id)
        if pod.phase == "terminated":
            raise _not_found("Pod", pod_id)
        return pod

    def _template(self, template_id: Any) -> _Template:
        template = self._templates.get(str(template_id)) or _PUBLIC_TEMPLATES.get(str(template_id))
        if template is None:
            raise _not_found("Template", template_id)
        return template

    def _serverless_template(self, template_id: Any) -> _Template:
        template = self._templates.get(str(template_id))
        if template is None:
            raise _not_found("Template", template_id)
        if not template.is_serverless:
            raise _error(f"Template {template_id} is not a serverless template.")
        return template

    def _endpoint(self, endpoint_id: Any) -> _Endpoint:
        endpoint = self._endpoints.get(str(endpoint_id))
        if endpoint is None:
            raise _not_found("Endpoint", endpoint_id)
        return endpoint

    def _volume(self, volume_id: Any) -> _NetworkVolume:
        volume = self._volumes.get(str(volume_id))
        if volume is None:
            raise _not_found("Network volume", volume_id)
        return volume

    def _registry_auth_id(self, auth_id: Any) -> str | None:
        """An optional registry credential id; RunPod's clients send "" for none."""
        if not auth_id:
            return None
        if auth_id not in self._registry_auths:
            raise _not_found("Container registry auth", auth_id)
        return str(auth_id)

    # ----------------------------------------------------------------- queries

    def _q_myself(self, _obj: object, _info: object) -> Json:
        with self._lock:
            return self._user_view()

    def _q_pod(self, _obj: object, _info: object, input: Input | None = None) -> Json:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            return self._pod_view(self._pod((input or {}).get("podId")), now)

    def _q_pod_template(self, _obj: object, _info: object, id: str | None = None) -> Json:
        with self._lock:
            return self._template(id).view()

    def _r_user_endpoint(self, _user: Json, _info: object, id: str | None = None) -> Json:
        with self._lock:
            return self._endpoint_view(self._endpoint(id))

    # ----------------------------------------------------------------- user

    def _m_update_user_settings(self, _obj: object, _info: object, input: Input | None) -> Json:
        inp = input or {}
        with self._lock:
            user = self._user
            if inp.get("pubKey") is not None:
                user.pub_key = str(inp["pubKey"])
            return self._user_view()

    # ----------------------------------------------------------------- pods

    def _deploy(
        self,
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
    ) -> Json:
        """What every deploy shares: template defaults, image, ports, volume, placement."""
        template = self._template(inp["templateId"]) if inp.get("templateId") else None
        defaults = template or _Template(id="", name="", image_name="")
        image = _text(inp.get("imageName") or defaults.image_name, "imageName")
        volume = self._volume(inp["networkVolumeId"]) if inp.get("networkVolumeId") else None
        if volume is not None and inp.get("dataCenterId") not in (None, volume.data_center_id):
            raise _error("The network volume is in another data center than the one requested.")
        placement = {**inp, "dataCenterId": volume.data_center_id} if volume else inp
        data_centers = _placements(candidates, placement)
        if not data_centers:
            raise _no_instances()
        ports = _parse_ports(_first(inp.get("ports"), defaults.ports))
        pod = _Pod(
            id=self._ids.make(14),
            name=str(inp.get("name") or image.split(":")[0]),
            image_name=image,
            docker_args=str(_first(inp.get("dockerArgs"), defaults.docker_args)),
            env={**defaults.env, **_env_map(inp.get("env"))},
            ports=ports,
            gpu=gpu,
            gpu_count=gpu_count,
            vcpu_count=vcpu_count,
            memory_in_gb=memory_in_gb,
            container_disk_in_gb=_int(
                _first(inp.get("containerDiskInGb"), defaults.container_disk_in_gb),
                "containerDiskInGb",
                1,
            ),
            volume_in_gb=_int(_first(inp.get("volumeInGb"), defaults.volume_in_gb), "volumeInGb"),
            volume_mount_path=str(inp.get("volumeMountPath") or defaults.volume_mount_path),
            secure_cloud=secure_cloud,
            unit_price=unit_price,
            spot=spot,
            data_center_id=data_centers[0],
            template_id=template.id if template else None,
            network_volume_id=volume.id if volume else None,
            registry_auth_id=self._registry_auth_id(
                inp.get("containerRegistryAuthId") or defaults.container_registry_auth_id
            ),
            support_public_ip=inp.get("supportPublicIp") is not False,
            machine_id=self._ids.make(12),
            host_suffix=self._ids.make(8),
            public_ports={number: self._ids.port() for number, kind in ports if kind != "http"},
            created_at=time.time(),
        )
        self._pods[pod.id] = pod
        return self._pod_view(pod, time.monotonic())

    def _deploy_gpu_pod(self, inp: Input, bid: float | None) -> Json:
        """podFindAndDeployOnDemand and podRentInterruptable: pick a GPU type and price it."""
        gpu_count = _int(_first(inp.get("gpuCount"), 1), "gpuCount", 1)
        secure = {"SECURE": True, "COMMUNITY": False}.get(inp.get("cloudType") or "ALL")
        choices = [inp.get("gpuTypeId"), *(inp.get("gpuTypeIdList") or ())]
        for gpu in (GPU_TYPES_BY_ID[c] for c in choices if c in GPU_TYPES_BY_ID):
            price = gpu.spot_price(secure) if bid is not None else gpu.on_demand_price(secure)
            if price is None or not _gpu_fits(gpu, gpu_count, inp):
                continue
            if bid is not None and bid < price:
                raise _bid_too_low(bid, price, gpu)
            if secure is None:  # ALL: the cheaper cloud wins
                secure = price == (gpu.secure_spot_price if bid is not None else gpu.secure_price)
            return self._deploy(
                inp,
                gpu=gpu,
                gpu_count=gpu_count,
                vcpu_count=gpu.vcpu_per_gpu * gpu_count,
                memory_in_gb=gpu.memory_per_gpu_gb * gpu_count,
                unit_price=bid if bid is not None else price,
                secure_cloud=secure,
                spot=bid is not None,
                candidates=gpu.data_center_ids,
            )
        raise _no_instances()

    def _m_deploy_on_demand(self, _obj: object, _info: object, input: Input | None) -> Json:
        with self._lock:
            return self._deploy_gpu_pod(input or {}, bid=None)

    def _m_rent_interruptable(self, _obj: object, _info: object, input: Input) -> Json:
        with self._lock:
            return self._deploy_gpu_pod(input, bid=_bid(input))

    def _m_deploy_cpu_pod(self, _obj: object, _info: object, input: Input) -> Json:
        with self._lock:
            flavor, vcpus, memory = _cpu_instance(input.get("instanceId"))
            return self._deploy(
                input,
                gpu=None,
                gpu_count=0,
                vcpu_count=vcpus,
                memory_in_gb=memory,
                unit_price=flavor.price_per_vcpu,
                secure_cloud=True,
                spot=False,
                candidates=[dc.id for dc in DATA_CENTERS],
            )

    def _resume(self, inp: Input, bid: float | None) -> Json:
        now = time.monotonic()
        self._settle(now)
        pod = self._live_pod(inp.get("podId"))
        if pod.spot and bid is None:
            raise _error(SPOT_AS_ON_DEMAND)
        if not pod.spot and bid is not None:
            raise _error("Cannot resume an on demand pod as a spot pod.")
        if pod.phase == "exited":
            gpu = pod.gpu
            if gpu is not None:
                count = _int(_first(inp.get("gpuCount"), pod.gpu_count), "gpuCount", 1)
                if gpu.stock is None or count > gpu.max_gpu_count:
                    raise _error(NOT_ENOUGH_GPUS_ON_HOST, "INTERNAL_SERVER_ERROR")
                minimum = gpu.spot_price(pod.secure_cloud)
                if bid is not None and minimum is not None and bid < minimum:
                    raise _bid_too_low(bid, minimum, gpu)
                pod.gpu_count = count
                pod.vcpu_count = gpu.vcpu_per_gpu * count
                pod.memory_in_gb = gpu.memory_per_gpu_gb * count
                pod.unit_price = bid if bid is not None else pod.unit_price
            pod.set_phase("starting", now, "Resumed by User")
            pod.started_before = True
        return self._pod_view(pod, now)

    def _m_pod_resume(self, _obj: object, _info: object, input: Input) -> Json:
        with self._lock:
            return self._resume(input, bid=None)

    def _m_pod_bid_resume(self, _obj: object, _info: object, input: Input) -> Json:
        with self._lock:
            return self._resume(input, bid=_bid(input))

    def _m_pod_stop(self, _obj: object, _info: object, input: Input) -> Json:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            pod = self._live_pod(input.get("podId"))
            if pod.phase != "exited":
                pod.set_phase("exited", now, "Exited by User")
            return self._pod_view(pod, now)

    def _m_pod_terminate(self, _obj: object, _info: object, input: Input) -> None:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            pod = self._live_pod(input.get("podId"))
            pod.set_phase("terminated", now, "Terminated by User")

    # ----------------------------------------------------------------- templates

    def _m_save_template(self, _obj: object, _info: object, input: Input | None) -> Json:
        inp = input or {}
        with self._lock:
            existing = self._templates.get(inp["id"]) if inp.get("id") else None
            if inp.get("id") and existing is None:
                raise _not_found("Template", inp["id"])
            name = _text(inp.get("name"), "Template name")
            if any(t.name == name and t is not existing for t in self._templates.values()):
                raise _error(f"Template name must be unique: {name!r} is already used.")
            base = existing or _Template(id=self._ids.make(10), name=name, image_name="")
            template = replace(
                base,
                name=name,
                image_name=_text(inp.get("imageName"), "imageName"),
                docker_args=str(_first(inp.get("dockerArgs"), base.docker_args)),
                container_disk_in_gb=_int(
                    _first(inp.get("containerDiskInGb"), base.container_disk_in_gb),
                    "containerDiskInGb",
                    1,
                ),
                volume_in_gb=_int(_first(inp.get("volumeInGb"), base.volume_in_gb), "volumeInGb"),
                volume_mount_path=str(inp.get("volumeMountPath") or base.volume_mount_path),
                ports=str(_first(inp.get("ports"), base.ports)),
                env=_env_map(inp["env"]) if inp.get("env") is not None else base.env,
                is_serverless=bool(_first(inp.get("isServerless"), base.is_serverless)),
                is_public=bool(_first(inp.get("isPublic"), base.is_public)),
                readme=str(_first(inp.get("readme"), base.readme)),
                start_ssh=bool(_first(inp.get("startSsh"), base.start_ssh)),
                start_jupyter=bool(_first(inp.get("startJupyter"), base.start_jupyter)),
                start_script=_first(inp.get("startScript"), base.start_script),
                advanced_start=bool(_first(inp.get("advancedStart"), base.advanced_start)),
                category=str(_first(inp.get("category"), base.category)),
                container_registry_auth_id=self._registry_auth_id(
                    inp.get("containerRegistryAuthId")
                ),
            )
            _parse_ports(template.ports)
            self._templates[template.id] = template
            return template.view()

    def _m_delete_template(
        self, _obj: object, _info: object, templateName: str | None = None
    ) -> None:
        with self._lock:
            template = next((t for t in self._templates.values() if t.name == templateName), None)
            if template is None:
                raise _not_found("Template", templateName)
            users = [e.id for e in self._endpoints.values() if e.template_id == template.id]
            users += [p.id for p in self._live_pods() if p.template_id == template.id]
            if users:
                raise _error(f"Template {templateName!r} is in use by {', '.join(users)}.")
            del self._templates[template.id]

    # ----------------------------------------------------------------- endpoints

    def _m_save_endpoint(self, _obj: object, _info: object, input: Input) -> Json:
        """Create an endpoint, or update the one ``id`` names (fields left out are kept)."""
        with self._lock:
            existing = self._endpoint(input["id"]) if input.get("id") else None
            base = existing or _Endpoint(id=self._ids.make(14))

            def pick(key: str, current: Any) -> Any:
                return _first(input.get(key), current)

            compute_type = str(pick("computeType", base.compute_type))
            instance_ids = pick("instanceIds", base.instance_ids)
            if compute_type == "CPU":
                for instance_id in instance_ids or ["cpu3g-2-8"]:
                    _cpu_instance(instance_id)
            else:
                _check_gpu_ids(input["gpuIds"])
            endpoint = replace(
                base,
                name=_text(input.get("name"), "Endpoint name"),
                template_id=self._serverless_template(input.get("templateId")).id,
                gpu_ids=str(input["gpuIds"]),
                compute_type=compute_type,
                instance_ids=instance_ids,
                network_volume_ids=self._endpoint_volumes(input, base.network_volume_ids),
                locations=pick("locations", base.locations) or None,
                idle_timeout=_int(pick("idleTimeout", base.idle_timeout), "idleTimeout"),
                scaler_type=str(pick("scalerType", base.scaler_type)),
                scaler_value=_int(pick("scalerValue", base.scaler_value), "scalerValue", 1),
                workers_min=_int(pick("workersMin", base.workers_min), "workersMin"),
                workers_max=_int(pick("workersMax", base.workers_max), "workersMax"),
                gpu_count=_int(pick("gpuCount", base.gpu_count), "gpuCount", 1),
                allowed_cuda_versions=pick("allowedCudaVersions", base.allowed_cuda_versions)
                or None,
                min_cuda_version=pick("minCudaVersion", base.min_cuda_version) or None,
                model_references=pick("modelReferences", base.model_references),
                flash_boot_type=str(pick("flashBootType", base.flash_boot_type)),
                execution_timeout_ms=_int(
                    pick("executionTimeoutMs", base.execution_timeout_ms), "executionTimeoutMs", 1
                ),
                version=base.version + 1 if existing else 0,
            )
            if endpoint.workers_min > endpoint.workers_max:
                raise _error("workersMin must not be greater than workersMax.")
            if endpoint.scaler_type not in ("QUEUE_DELAY", "REQUEST_COUNT"):
                raise _error("scalerType must be QUEUE_DELAY or REQUEST_COUNT.")
            self._endpoints[endpoint.id] = endpoint
            return self._endpoint_view(endpoint)

    def _endpoint_volumes(self, inp: Input, current: list[Json]) -> list[Json]:
        """networkVolumeIds, or the older single networkVolumeId ("" detaches)."""
        if inp.get("networkVolumeIds") is not None:
            wanted = [v["networkVolumeId"] for v in inp["networkVolumeIds"]]
        elif inp.get("networkVolumeId") is not None:
            wanted = [inp["networkVolumeId"]] if inp["networkVolumeId"] else []
        else:
            return current
        volumes = [self._volume(volume_id) for volume_id in wanted]
        return [{"networkVolumeId": v.id, "dataCenterId": v.data_center_id} for v in volumes]

    def _m_update_endpoint_template(self, _obj: object, _info: object, input: Input | None) -> Json:
        inp = input or {}
        with self._lock:
            endpoint = self._endpoint(inp.get("endpointId"))
            endpoint.template_id = self._serverless_template(inp.get("templateId")).id
            endpoint.version += 1
            return self._endpoint_view(endpoint)

    def _m_delete_endpoint(self, _obj: object, _info: object, id: str | None = None) -> None:
        with self._lock:
            endpoint = self._endpoint(id)
            if endpoint.workers_min or endpoint.workers_max:
                raise _error(
                    "Set workersMin and workersMax to 0 before deleting the endpoint "
                    f"(they are {endpoint.workers_min} and {endpoint.workers_max})."
                )
            del self._endpoints[endpoint.id]

    # ----------------------------------------------------------------- registry auth

    def _m_save_registry_auth(self, _obj: object, _info: object, input: Input | None) -> Json:
        inp = input or {}
        with self._lock:
            name = _text(inp.get("name"), "Registry auth name")
            if any(auth.name == name for auth in self._registry_auths.values()):
                raise _error(f"Registry auth name must be unique: {name!r} is already used.")
            auth = _RegistryAuth(
                id=self._ids.make(24, prefix="c"),
                name=name,
                username=_text(inp.get("username"), "username"),
                password=_text(inp.get("password"), "password"),
            )
            self._registry_auths[auth.id] = auth
            return auth.view(self._user.id)

    def _m_update_registry_auth(self, _obj: object, _info: object, input: Input | None) -> Json:
        inp = input or {}
        with self._lock:
            auth = self._registry_auths.get(str(inp.get("id")))
            if auth is None:
                raise _not_found("Container registry auth", inp.get("id"))
            auth.username = _text(inp.get("username"), "username")
            auth.password = _text(inp.get("password"), "password")
            return auth.view(self._user.id)

    def _m_delete_registry_auth(
        self, _obj: object, _info: object, registryAuthId: str | None = None
    ) -> None:
        with self._lock:
            auth_id = self._registry_auth_id(registryAuthId)
            if auth_id is None:
                raise _not_found("Container registry auth", registryAuthId)
            users = [
                t.name for t in self._templates.values() if t.container_registry_auth_id == auth_id
            ]
            if users:
                raise _error(f"Registry auth is in use by template(s) {', '.join(users)}.")
            del self._registry_auths[auth_id]

    # ----------------------------------------------------------------- network volumes

    def _m_create_network_volume(self, _obj: object, _info: object, input: Input | None) -> Json:
        inp = input or {}
        with self._lock:
            dc = DATA_CENTERS_BY_ID.get(str(inp.get("dataCenterId")))
            if dc is None or not dc.storage_support:
                raise _error(f"Data center {inp.get('dataCenterId')} has no network storage.")
            volume = _NetworkVolume(
                id=self._ids.make(10),
                name=_text(inp.get("name"), "Network volume name"),
                size=_int(inp.get("size"), "size", 1),
                data_center_id=dc.id,
            )
            self._volumes[volume.id] = volume
            return volume.view()

    def _m_update_network_volume(self, _obj: object, _info: object, input: Input | None) -> Json:
        inp = input or {}
        with self._lock:
            volume = self._volume(inp.get("id"))
            if inp.get("size") is not None:
                size = _int(inp["size"], "size", 1)
                if size < volume.size:
                    raise _error("A network volume can only grow: size must not decrease.")
                volume.size = size
            if inp.get("name") is not None:
                volume.name = _text(inp["name"], "Network volume name")
            return volume.view()

    def _m_delete_network_volume(self, _obj: object, _info: object, input: Input | None) -> None:
        inp = input or {}
        with self._lock:
            volume = self._volume(inp.get("id"))
            users = [p.id for p in self._live_pods() if p.network_volume_id == volume.id]
            users += [
                e.id
                for e in self._endpoints.values()
                if any(v["networkVolumeId"] == volume.id for v in e.network_volume_ids)
            ]
            if users:
                raise _error(f"Network volume is in use by {', '.join(users)}.")
            del self._volumes[volume.id]


def _q_gpu_types(_obj: object, _info: object, input: Input | None = None) -> list[Json]:
    inp = input or {}
    wanted = {*(inp.get("ids") or ()), *([inp["id"]] if inp.get("id") else [])}
    return [_gpu_view(gpu) for gpu in GPU_TYPES if not wanted or gpu.id in wanted]


def _bid_too_low(bid: float, minimum: float, gpu: GpuType) -> GraphQLError:
    return _error(
        f"Your bid of ${bid:.3f}/hr per GPU is below the current minimum bid of "
        f"${minimum:.3f}/hr for {gpu.display_name}."
    )


# --------------------------------------------------------------------------- HTTP


def _format_error(error: GraphQLError, debug: bool = False) -> Json:
    """RunPod's error shape: message, locations, path and an Apollo ``extensions.code``."""
    formatted: Json = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if "code" not in extensions:
        if error.path is not None:
            extensions["code"] = "INTERNAL_SERVER_ERROR"
        elif error.message.startswith("Syntax Error"):
            extensions["code"] = "GRAPHQL_PARSE_FAILED"
        else:
            extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
    formatted["extensions"] = extensions
    return formatted


class _RunpodHTTPHandler(GraphQLHTTPHandler):
    """HTTP 200 whenever the operation executed (even if every field failed), 400 otherwise.

    That is what RunPod's server does; ariadne's default answers 400 when ``data`` is
    null, e.g. after an error in a non-null root field.
    """

    async def create_json_response(
        self, request: Request, result: dict[str, Any], success: bool
    ) -> Response:
        status = 200 if success or "data" in result else 400
        return JSONResponse(result, status_code=status)


class _ExpectedErrorFilter(logging.Filter):
    """Keep client mistakes (validation, not-found, no capacity) out of the server's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while isinstance(exc, GraphQLError) and exc.original_error is not None:
            exc = exc.original_error
        return not isinstance(exc, GraphQLError)  # a raised GraphQLError is a deliberate answer


_LOG.addFilter(_ExpectedErrorFilter())


def _unpatch_enum_parsing(schema: GraphQLSchema) -> None:
    """Undo ariadne 1.1's per-enum `parse_value` patch.

    The patch (for Python enum values bound to GraphQL enums, which this schema
    does not use) takes one argument, but graphql-core 3.2.14 passes two, so every
    enum in a variable failed to parse. Deleting the instance attribute brings back
    graphql-core's own method.
    """
    for named in schema.type_map.values():
        if isinstance(named, GraphQLEnumType) and "parse_value" in vars(named):
            del named.parse_value
