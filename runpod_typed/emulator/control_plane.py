"""The emulator's GraphQL control plane: RunPod's schema, executed against in-memory state.

The executable schema is built from the same SDL snapshot the SDK is generated from,
so a document RunPod would reject (unknown field, wrong argument type, missing
required input) is rejected here by GraphQL validation before any resolver runs.
Resolvers keep a user, pods, templates, endpoints, registry credentials and network
volumes in memory. Pod state changes are computed lazily from timestamps when a pod
is read, so no background task is needed and a test can step through the states by
polling. Errors come back the way RunPod's Apollo server sends them: HTTP 200,
``data`` with the failed field set to null, and ``errors`` with message, path and
``extensions.code``.
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
from pathlib import Path
from typing import Any, Literal

from ariadne import MutationType, ObjectType, QueryType, make_executable_schema
from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from graphql import GraphQLError, GraphQLSchema
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
    DataCenter,
    GpuType,
)

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
Json = dict[str, Any]

# RunPod's own wording for a deploy that finds no machine (unknown, sold-out or too
# large a request); clients match on it, so it is reproduced exactly.
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


def _no_instances() -> GraphQLError:
    return _error(NO_INSTANCES, "INTERNAL_SERVER_ERROR")


def load_sdl() -> str:
    """The packaged SDL snapshot (a byte copy of schema/runpod.graphql made by codegen)."""
    packaged = resources.files("runpod_typed._generated").joinpath("runpod.graphql")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "schema" / "runpod.graphql"
    return checkout.read_text(encoding="utf-8")


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
    readme: str = ""
    start_ssh: bool = True
    start_jupyter: bool = False
    container_registry_auth_id: str | None = None
    category: str = "NVIDIA"

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
            "env": [{"key": k, "value": v} for k, v in self.env.items()],
            "isServerless": self.is_serverless,
            "isPublic": self.is_public,
            "readme": self.readme,
            "startSsh": self.start_ssh,
            "startJupyter": self.start_jupyter,
            "containerRegistryAuthId": self.container_registry_auth_id,
            "category": self.category,
        }


# Public templates every account can deploy from (the official client deploys CPU
# pods from "runpod-ubuntu" when no template is given).
_PUBLIC_TEMPLATES = (
    _Template("runpod-ubuntu", "RunPod Ubuntu", "runpod/base:0.6.2-ubuntu22.04", is_public=True),
    _Template(
        "runpod-torch-v240",
        "RunPod Pytorch 2.4.0",
        "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04",
        container_disk_in_gb=50,
        volume_in_gb=20,
        ports="8888/http,22/tcp",
        is_public=True,
        start_jupyter=True,
    ),
)


@dataclass
class _RegistryAuth:
    id: str
    name: str
    username: str
    password: str

    def view(self, user_id: str) -> Json:
        # The password never leaves the emulator, exactly as RunPod never echoes it.
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
    name: str
    template_id: str
    gpu_ids: str
    network_volume_id: str | None
    locations: str | None
    idle_timeout: int
    scaler_type: str
    scaler_value: int
    workers_min: int
    workers_max: int
    gpu_count: int
    allowed_cuda_versions: str | None
    flash_boot_type: str | None
    execution_timeout_ms: int | None
    created_at: str
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
    cpu_flavor: CpuFlavor | None
    gpu_count: int
    vcpu_count: int
    memory_in_gb: int
    container_disk_in_gb: int
    volume_in_gb: int
    volume_mount_path: str
    secure_cloud: bool
    price_per_unit: float
    """Hourly price per GPU (per vCPU for CPU pods); the bid for spot pods."""
    spot: bool
    data_center_id: str
    template_id: str | None
    network_volume_id: str | None
    support_public_ip: bool
    machine_id: str
    host_suffix: str
    public_ports: dict[int, int]
    phase: PodPhase
    since: float
    started_before: bool
    running_since: float | None
    status_change: str

    @property
    def cost_per_hr(self) -> float:
        units = self.gpu_count if self.gpu is not None else self.vcpu_count
        return round(self.price_per_unit * units, 4)


@dataclass
class _User:
    id: str = "user_2emulatorDefaultUser000"
    email: str = "developer@example.com"
    pub_key: str = ""
    client_balance: float = 250.0
    spend_limit: int = 80
    machine_quota: int = 0
    multi_factor_enabled: bool = False
    signed_terms_of_service: bool = True


def _now_text() -> str:
    """A timestamp in the shape RunPod uses for lastStatusChange (JavaScript's Date string)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")


def _iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _data_center_view(dc: DataCenter) -> Json:
    return {
        "id": dc.id,
        "name": dc.name,
        "location": dc.location,
        "countryCode": dc.country_code,
        "storageSupport": dc.storage_support,
        "listed": True,
    }


def _parse_ports(text: str) -> list[tuple[int, str]]:
    """``"8888/http,22/tcp"`` -> [(8888, "http"), (22, "tcp")], rejecting malformed entries."""
    ports: list[tuple[int, str]] = []
    for raw in text.replace(" ", "").split(","):
        if not raw:
            continue
        number, _, kind = raw.partition("/")
        if (
            not number.isdigit()
            or not 0 < int(number) < 65536
            or kind not in ("http", "tcp", "udp")
        ):
            raise _error(f"Invalid port specification {raw!r}: expected PORT/http or PORT/tcp.")
        ports.append((int(number), kind))
    return ports


def _env_map(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items or ():
        key = str(item.get("key") or "")
        if not key:
            raise _error("Environment variable keys must not be empty.")
        env[key] = str(item.get("value") or "")
    return env


def _positive(value: Any, name: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or value < minimum:
        raise _error(f"{name} must be an integer >= {minimum}.")
    return value


class _Ids:
    """RunPod-shaped random ids: 14 chars for pods and endpoints, 10 for templates/volumes."""

    _ALPHABET = string.ascii_lowercase + string.digits

    def __init__(self) -> None:
        self._random = random.Random()

    def make(self, length: int, prefix: str = "") -> str:
        return prefix + "".join(self._random.choices(self._ALPHABET, k=length))

    def port(self) -> int:
        return self._random.randint(10000, 49999)


# --------------------------------------------------------------------------- control plane


class ControlPlane:
    """RunPod's GraphQL API over in-memory state; :meth:`asgi_app` serves it."""

    def __init__(self, *, pod_transition_seconds: float = 0.2, sdl: str | None = None) -> None:
        self.pod_transition_seconds = pod_transition_seconds
        self._lock = threading.RLock()
        self._ids = _Ids()
        self._schema = self._build_schema(load_sdl() if sdl is None else sdl)
        self.reset()

    # ----------------------------------------------------------------- public API

    @property
    def schema(self) -> GraphQLSchema:
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
            self._pods: dict[str, _Pod] = {}
            self._templates: dict[str, _Template] = {}
            self._endpoints: dict[str, _Endpoint] = {}
            self._registry_auths: dict[str, _RegistryAuth] = {}
            self._volumes: dict[str, _NetworkVolume] = {}

    # ----------------------------------------------------------------- schema

    def _build_schema(self, sdl: str) -> GraphQLSchema:
        query = QueryType()
        mutation = MutationType()
        gpu_type = ObjectType("GpuType")
        queries: dict[str, Callable[..., Any]] = {
            "myself": self._q_myself,
            "pod": self._q_pod,
            "gpuTypes": self._q_gpu_types,
            "cpuTypes": self._q_cpu_types,
            "dataCenters": self._q_data_centers,
        }
        mutations: dict[str, Callable[..., Any]] = {
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
            "deleteEndpoint": self._m_delete_endpoint,
            "updateEndpointTemplate": self._m_update_endpoint_template,
            "saveRegistryAuth": self._m_save_registry_auth,
            "updateRegistryAuth": self._m_update_registry_auth,
            "deleteRegistryAuth": self._m_delete_registry_auth,
            "createNetworkVolume": self._m_create_network_volume,
            "updateNetworkVolume": self._m_update_network_volume,
            "deleteNetworkVolume": self._m_delete_network_volume,
        }
        for name, resolver in queries.items():
            query.set_field(name, resolver)
        for name, resolver in mutations.items():
            mutation.set_field(name, resolver)
        gpu_type.set_field("lowestPrice", _r_lowest_price)
        return make_executable_schema(sdl, query, mutation, gpu_type)

    # ----------------------------------------------------------------- views

    def _settle(self, now: float) -> None:
        """Advance every pod whose transition time has passed; drop terminated pods."""
        horizon = self.pod_transition_seconds
        for pod in list(self._pods.values()):
            if now - pod.since < horizon:
                continue
            if pod.phase == "starting":
                pod.phase, pod.since, pod.running_since = "running", now, now
            elif pod.phase == "terminated":
                del self._pods[pod.id]

    def _pod_view(self, pod: _Pod, now: float) -> Json:
        if pod.phase == "starting":
            status = "RUNNING" if pod.started_before else "CREATED"
        else:
            status = {"running": "RUNNING", "exited": "EXITED", "terminated": "TERMINATED"}[
                pod.phase
            ]
        uptime = int(now - pod.running_since) if pod.running_since is not None else 0
        gpu_name = pod.gpu.display_name if pod.gpu is not None else None
        volume = self._volumes.get(pod.network_volume_id or "")
        return {
            "id": pod.id,
            "name": pod.name,
            "imageName": pod.image_name,
            "dockerArgs": pod.docker_args,
            "dockerId": None,
            "env": [f"{k}={v}" for k, v in pod.env.items()],
            "desiredStatus": status,
            "lastStatusChange": pod.status_change,
            "podType": "INTERRUPTABLE" if pod.spot else "RESERVED",
            "gpuCount": pod.gpu_count,
            "vcpuCount": pod.vcpu_count,
            "memoryInGb": pod.memory_in_gb,
            "containerDiskInGb": pod.container_disk_in_gb,
            "volumeInGb": pod.volume_in_gb,
            "volumeMountPath": pod.volume_mount_path,
            "ports": ",".join(f"{p}/{kind}" for p, kind in pod.ports),
            "port": pod.ports[0][0] if pod.ports else None,
            "costPerHr": pod.cost_per_hr,
            "adjustedCostPerHr": pod.cost_per_hr,
            "bidPerGpu": pod.price_per_unit if pod.spot else None,
            "lowestBidPriceToResume": pod.gpu.spot_price(pod.secure_cloud)
            if pod.spot and pod.gpu is not None
            else None,
            "uptimeSeconds": uptime,
            "machineId": pod.machine_id,
            "gpuTypeId": pod.gpu.id if pod.gpu is not None else None,
            "templateId": pod.template_id,
            "networkVolumeId": pod.network_volume_id,
            "networkVolume": volume.view() if volume is not None else None,
            "consumerUserId": self._user.id,
            "locked": False,
            "machine": {
                "id": pod.machine_id,
                "podHostId": f"{pod.id}-{pod.host_suffix}",
                "gpuTypeId": pod.gpu.id if pod.gpu is not None else None,
                "gpuDisplayName": gpu_name,
                "gpuCount": pod.gpu_count,
                "dataCenterId": pod.data_center_id,
                "location": DATA_CENTERS_BY_ID[pod.data_center_id].location,
                "secureCloud": pod.secure_cloud,
                "cpuTypeId": CPU_TYPES[0].id,
                "supportPublicIp": pod.support_public_ip,
            },
            "runtime": self._runtime_view(pod, uptime) if pod.phase == "running" else None,
        }

    def _runtime_view(self, pod: _Pod, uptime: int) -> Json:
        ports = []
        for number, kind in pod.ports:
            public = kind != "http" and pod.support_public_ip
            ports.append(
                {
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
                {"id": f"GPU-{pod.id}-{index}", "gpuUtilPercent": 0, "memoryUtilPercent": 0}
                for index in range(pod.gpu_count)
            ],
            "container": {"cpuPercent": 0, "memoryPercent": 0},
        }

    def _endpoint_view(self, endpoint: _Endpoint) -> Json:
        template = self._templates.get(endpoint.template_id)
        volume = self._volumes.get(endpoint.network_volume_id or "")
        return {
            "id": endpoint.id,
            "name": endpoint.name,
            "templateId": endpoint.template_id,
            "template": template.view() if template is not None else None,
            "gpuIds": endpoint.gpu_ids,
            "networkVolumeId": endpoint.network_volume_id,
            "networkVolume": volume.view() if volume is not None else None,
            "locations": endpoint.locations,
            "idleTimeout": endpoint.idle_timeout,
            "scalerType": endpoint.scaler_type,
            "scalerValue": endpoint.scaler_value,
            "workersMin": endpoint.workers_min,
            "workersMax": endpoint.workers_max,
            "workersStandby": endpoint.workers_min,
            "gpuCount": endpoint.gpu_count,
            "allowedCudaVersions": endpoint.allowed_cuda_versions,
            "flashBootType": endpoint.flash_boot_type,
            "executionTimeoutMs": endpoint.execution_timeout_ms,
            "env": template.view()["env"] if template is not None else [],
            "type": "QB",
            "userId": self._user.id,
            "version": endpoint.version,
            "aiKey": None,
            "createdAt": endpoint.created_at,
        }

    def _user_view(self, now: float) -> Json:
        self._settle(now)
        user = self._user
        pods = [self._pod_view(pod, now) for pod in self._pods.values()]
        spend = sum(p["costPerHr"] for p in pods if p["desiredStatus"] in ("CREATED", "RUNNING"))
        return {
            "id": user.id,
            "authId": user.id,
            "email": user.email,
            "pubKey": user.pub_key,
            "clientBalance": user.client_balance,
            "currentSpendPerHr": round(spend, 4),
            "spendLimit": user.spend_limit,
            "machineQuota": user.machine_quota,
            "referralEarned": 0.0,
            "templateEarned": 0.0,
            "hostBalance": 0.0,
            "multiFactorEnabled": user.multi_factor_enabled,
            "signedTermsOfService": user.signed_terms_of_service,
            "pods": pods,
            "endpoints": [self._endpoint_view(e) for e in self._endpoints.values()],
            "podTemplates": [t.view() for t in self._templates.values()],
            "networkVolumes": [v.view() for v in self._volumes.values()],
            "containerRegistryCreds": [a.view(user.id) for a in self._registry_auths.values()],
        }

    # ----------------------------------------------------------------- queries

    def _q_myself(self, _obj: object, _info: object) -> Json:
        with self._lock:
            return self._user_view(time.monotonic())

    def _q_pod(self, _obj: object, _info: object, input: Mapping[str, Any]) -> Json:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            return self._pod_view(self._find_pod(input.get("podId")), now)

    def _q_gpu_types(
        self, _obj: object, _info: object, input: Mapping[str, Any] | None = None
    ) -> list[Json]:
        wanted = (input or {}).get("id")
        return [_gpu_view(gpu) for gpu in GPU_TYPES if wanted is None or gpu.id == wanted]

    def _q_cpu_types(self, _obj: object, _info: object) -> list[Json]:
        return [
            {
                "id": cpu.id,
                "displayName": cpu.display_name,
                "manufacturer": cpu.manufacturer,
                "cores": cpu.cores,
                "threadsPerCore": cpu.threads_per_core,
                "groupId": cpu.group_id,
            }
            for cpu in CPU_TYPES
        ]

    def _q_data_centers(self, _obj: object, _info: object) -> list[Json]:
        return [_data_center_view(dc) for dc in DATA_CENTERS]

    # ----------------------------------------------------------------- user

    def _m_update_user_settings(
        self, _obj: object, _info: object, input: Mapping[str, Any]
    ) -> Json:
        with self._lock:
            if input.get("pubKey") is not None:
                self._user.pub_key = str(input["pubKey"])
            if input.get("spendLimit") is not None:
                self._user.spend_limit = _positive(input["spendLimit"], "spendLimit")
            return self._user_view(time.monotonic())

    # ----------------------------------------------------------------- pods

    def _find_pod(self, pod_id: Any) -> _Pod:
        pod = self._pods.get(str(pod_id))
        if pod is None:
            raise _error(f"Pod not found: {pod_id}", "NOT_FOUND")
        return pod

    def _find_template(self, template_id: Any) -> _Template | None:
        if not template_id:
            return None
        template = self._templates.get(template_id) or next(
            (t for t in _PUBLIC_TEMPLATES if t.id == template_id), None
        )
        if template is None:
            raise _error(f"Template not found: {template_id}", "NOT_FOUND")
        return template

    def _find_volume(self, volume_id: Any) -> _NetworkVolume | None:
        if not volume_id:
            return None
        volume = self._volumes.get(volume_id)
        if volume is None:
            raise _error(f"Network volume not found: {volume_id}", "NOT_FOUND")
        return volume

    def _pick_data_center(
        self, candidates: Iterable[str], inp: Mapping[str, Any], volume: _NetworkVolume | None
    ) -> str:
        wanted = inp.get("dataCenterId") or (volume.data_center_id if volume else None)
        if volume is not None and wanted != volume.data_center_id:
            raise _error("The network volume is in a different data center than the pod.")
        country = inp.get("countryCode")
        for dc_id in candidates:
            if wanted is not None and dc_id != wanted:
                continue
            if country and DATA_CENTERS_BY_ID[dc_id].country_code != country:
                continue
            return dc_id
        raise _no_instances()

    def _new_pod(
        self,
        inp: Mapping[str, Any],
        *,
        gpu: GpuType | None,
        cpu_flavor: CpuFlavor | None,
        gpu_count: int,
        vcpu_count: int,
        memory_in_gb: int,
        price_per_unit: float,
        secure_cloud: bool,
        spot: bool,
        candidates: Iterable[str],
    ) -> _Pod:
        """Shared part of every deploy: template defaults, image, ports, volume, placement."""
        template = self._find_template(inp.get("templateId"))
        image = inp.get("imageName") or (template.image_name if template else "")
        if not str(image).strip():
            raise _error("imageName is required when no templateId is given.")
        volume = self._find_volume(inp.get("networkVolumeId"))
        data_center_id = self._pick_data_center(candidates, inp, volume)
        ports = _parse_ports(
            inp["ports"] if inp.get("ports") is not None else (template.ports if template else "")
        )
        env = dict(template.env) if template else {}
        env.update(_env_map(inp.get("env")))
        support_public_ip = inp.get("supportPublicIp") is not False
        pod = _Pod(
            id=self._ids.make(14),
            name=str(inp.get("name") or str(image).split(":")[0]),
            image_name=str(image),
            docker_args=str(inp.get("dockerArgs") or (template.docker_args if template else "")),
            env=env,
            ports=ports,
            gpu=gpu,
            cpu_flavor=cpu_flavor,
            gpu_count=gpu_count,
            vcpu_count=vcpu_count,
            memory_in_gb=memory_in_gb,
            container_disk_in_gb=_positive(
                _first(
                    inp.get("containerDiskInGb"), template and template.container_disk_in_gb, 10
                ),
                "containerDiskInGb",
                1,
            ),
            volume_in_gb=_positive(
                _first(inp.get("volumeInGb"), template and template.volume_in_gb, 0), "volumeInGb"
            ),
            volume_mount_path=str(
                inp.get("volumeMountPath")
                or (template.volume_mount_path if template else "/workspace")
            ),
            secure_cloud=secure_cloud,
            price_per_unit=price_per_unit,
            spot=spot,
            data_center_id=data_center_id,
            template_id=template.id if template else None,
            network_volume_id=volume.id if volume else None,
            support_public_ip=support_public_ip,
            machine_id=self._ids.make(12),
            host_suffix=self._ids.make(8),
            public_ports={p: self._ids.port() for p, kind in ports if kind != "http"},
            phase="starting",
            since=time.monotonic(),
            started_before=False,
            running_since=None,
            status_change=f"Rented by User: {_now_text()}",
        )
        self._pods[pod.id] = pod
        return pod

    def _deploy_gpu_pod(self, inp: Mapping[str, Any], bid: float | None) -> Json:
        with self._lock:
            gpu_count = _positive(_first(inp.get("gpuCount"), 1), "gpuCount", 1)
            gpu = GPU_TYPES_BY_ID.get(str(inp.get("gpuTypeId")))
            cloud = inp.get("cloudType") or "ALL"
            wanted_secure = {"SECURE": True, "COMMUNITY": False}.get(cloud)
            if gpu is None or not _gpu_fits(gpu, gpu_count, inp):
                raise _no_instances()
            price = (
                gpu.spot_price(wanted_secure)
                if bid is not None
                else gpu.on_demand_price(wanted_secure)
            )
            if price is None:
                raise _no_instances()
            if bid is not None and bid < price:
                raise _error(
                    f"Your bid of ${bid:.3f}/GPU/hr is below the current minimum bid of "
                    f"${price:.3f}/GPU/hr for {gpu.display_name}."
                )
            secure = (
                wanted_secure
                if wanted_secure is not None
                else price
                in (
                    gpu.secure_price,
                    gpu.secure_spot_price,
                )
            )
            pod = self._new_pod(
                inp,
                gpu=gpu,
                cpu_flavor=None,
                gpu_count=gpu_count,
                vcpu_count=gpu.vcpu_per_gpu * gpu_count,
                memory_in_gb=gpu.memory_per_gpu_gb * gpu_count,
                price_per_unit=bid if bid is not None else price,
                secure_cloud=bool(secure),
                spot=bid is not None,
                candidates=gpu.data_center_ids,
            )
            return self._pod_view(pod, time.monotonic())

    def _m_deploy_on_demand(self, _obj: object, _info: object, input: Mapping[str, Any]) -> Json:
        return self._deploy_gpu_pod(input, bid=None)

    def _m_rent_interruptable(self, _obj: object, _info: object, input: Mapping[str, Any]) -> Json:
        bid = input.get("bidPerGpu")
        if not isinstance(bid, (int, float)) or bid <= 0:
            raise _error("bidPerGpu must be a positive number.")
        return self._deploy_gpu_pod(input, bid=float(bid))

    def _m_deploy_cpu_pod(self, _obj: object, _info: object, input: Mapping[str, Any]) -> Json:
        with self._lock:
            flavor, vcpus, memory = _cpu_instance(input)
            pod = self._new_pod(
                input,
                gpu=None,
                cpu_flavor=flavor,
                gpu_count=0,
                vcpu_count=vcpus,
                memory_in_gb=memory,
                price_per_unit=flavor.price_per_vcpu,
                secure_cloud=True,
                spot=False,
                candidates=[dc.id for dc in DATA_CENTERS],
            )
            return self._pod_view(pod, time.monotonic())

    def _resume(self, inp: Mapping[str, Any], bid: float | None) -> Json:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            pod = self._find_pod(inp.get("podId"))
            if pod.phase == "terminated":
                raise _error(f"Pod not found: {pod.id}", "NOT_FOUND")
            if pod.spot and bid is None:
                raise _error(SPOT_AS_ON_DEMAND)
            if not pod.spot and bid is not None:
                raise _error("Cannot resume an on demand pod as a spot pod.")
            if pod.phase == "exited":
                count = pod.gpu_count
                if pod.gpu is not None:
                    count = _positive(_first(inp.get("gpuCount"), pod.gpu_count), "gpuCount", 1)
                    if pod.gpu.stock is None or count > pod.gpu.max_gpu_count:
                        raise _error(NOT_ENOUGH_GPUS_ON_HOST, "INTERNAL_SERVER_ERROR")
                if bid is not None and pod.gpu is not None:
                    minimum = pod.gpu.spot_price(pod.secure_cloud) or 0.0
                    if bid < minimum:
                        raise _error(
                            f"Your bid of ${bid:.3f}/GPU/hr is below the current minimum bid "
                            f"of ${minimum:.3f}/GPU/hr for {pod.gpu.display_name}."
                        )
                    pod.price_per_unit = bid
                if pod.gpu is not None:
                    pod.vcpu_count = pod.gpu.vcpu_per_gpu * count
                    pod.memory_in_gb = pod.gpu.memory_per_gpu_gb * count
                pod.gpu_count = count
                pod.phase, pod.since, pod.started_before = "starting", now, True
                pod.running_since = None
                pod.status_change = f"Resumed by User: {_now_text()}"
            return self._pod_view(pod, now)

    def _m_pod_resume(self, _obj: object, _info: object, input: Mapping[str, Any]) -> Json:
        return self._resume(input, bid=None)

    def _m_pod_bid_resume(self, _obj: object, _info: object, input: Mapping[str, Any]) -> Json:
        bid = input.get("bidPerGpu")
        if not isinstance(bid, (int, float)) or bid <= 0:
            raise _error("bidPerGpu must be a positive number.")
        return self._resume(input, bid=float(bid))

    def _m_pod_stop(self, _obj: object, _info: object, input: Mapping[str, Any]) -> Json:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            pod = self._find_pod(input.get("podId"))
            if pod.phase == "terminated":
                raise _error(f"Pod not found: {pod.id}", "NOT_FOUND")
            if pod.phase != "exited":
                pod.phase, pod.since, pod.running_since = "exited", now, None
                pod.status_change = f"Exited by User: {_now_text()}"
            return self._pod_view(pod, now)

    def _m_pod_terminate(self, _obj: object, _info: object, input: Mapping[str, Any]) -> None:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            pod = self._find_pod(input.get("podId"))
            if pod.phase != "terminated":
                pod.phase, pod.since, pod.running_since = "terminated", now, None
                pod.status_change = f"Terminated by User: {_now_text()}"

    # ----------------------------------------------------------------- templates

    def _m_save_template(self, _obj: object, _info: object, input: Mapping[str, Any]) -> Json:
        with self._lock:
            existing = self._templates.get(input.get("id") or "")
            if input.get("id") and existing is None:
                raise _error(f"Template not found: {input['id']}", "NOT_FOUND")
            name = str(input.get("name") or "").strip()
            image = str(input.get("imageName") or "").strip()
            if not name:
                raise _error("Template name must not be empty.")
            if not image:
                raise _error("imageName must not be empty.")
            if any(t.name == name and t is not existing for t in self._templates.values()):
                raise _error(f"A template with the name {name!r} already exists.")
            auth_id = input.get("containerRegistryAuthId") or None
            if auth_id is not None and auth_id not in self._registry_auths:
                raise _error(f"Container registry auth not found: {auth_id}", "NOT_FOUND")
            base = existing or _Template(id=self._ids.make(10), name=name, image_name=image)
            template = replace(
                base,
                name=name,
                image_name=image,
                docker_args=str(_first(input.get("dockerArgs"), base.docker_args)),
                container_disk_in_gb=_positive(
                    _first(input.get("containerDiskInGb"), base.container_disk_in_gb),
                    "containerDiskInGb",
                    1,
                ),
                volume_in_gb=_positive(
                    _first(input.get("volumeInGb"), base.volume_in_gb), "volumeInGb"
                ),
                volume_mount_path=str(input.get("volumeMountPath") or base.volume_mount_path),
                ports=str(_first(input.get("ports"), base.ports)),
                env=_env_map(input["env"]) if input.get("env") is not None else base.env,
                is_serverless=bool(_first(input.get("isServerless"), base.is_serverless)),
                is_public=bool(_first(input.get("isPublic"), base.is_public)),
                readme=str(_first(input.get("readme"), base.readme)),
                start_ssh=bool(_first(input.get("startSsh"), base.start_ssh)),
                start_jupyter=bool(_first(input.get("startJupyter"), base.start_jupyter)),
                container_registry_auth_id=auth_id,
            )
            _parse_ports(template.ports)
            self._templates[template.id] = template
            return template.view()

    def _m_delete_template(self, _obj: object, _info: object, templateName: str) -> None:
        with self._lock:
            template = next((t for t in self._templates.values() if t.name == templateName), None)
            if template is None:
                raise _error(f"Template not found: {templateName}", "NOT_FOUND")
            users = [e.id for e in self._endpoints.values() if e.template_id == template.id]
            if users:
                raise _error(
                    f"Template {templateName!r} is in use by endpoint(s) {', '.join(users)}."
                )
            del self._templates[template.id]

    # ----------------------------------------------------------------- endpoints

    def _serverless_template(self, template_id: Any) -> _Template:
        template = self._templates.get(str(template_id))
        if template is None:
            raise _error(f"Template not found: {template_id}", "NOT_FOUND")
        if not template.is_serverless:
            raise _error(f"Template {template_id} is not a serverless template.")
        return template

    def _m_save_endpoint(self, _obj: object, _info: object, input: Mapping[str, Any]) -> Json:
        with self._lock:
            existing = self._endpoints.get(input.get("id") or "")
            if input.get("id") and existing is None:
                raise _error(f"Endpoint not found: {input['id']}", "NOT_FOUND")
            name = str(_first(input.get("name"), existing and existing.name, "")).strip()
            if not name:
                raise _error("Endpoint name must not be empty.")
            template = self._serverless_template(
                _first(input.get("templateId"), existing and existing.template_id)
            )
            gpu_ids = str(_first(input.get("gpuIds"), existing and existing.gpu_ids, "AMPERE_16"))
            _check_gpu_ids(gpu_ids)
            workers_min = _positive(
                _first(input.get("workersMin"), existing and existing.workers_min, 0), "workersMin"
            )
            workers_max = _positive(
                _first(input.get("workersMax"), existing and existing.workers_max, 3), "workersMax"
            )
            if workers_min > workers_max:
                raise _error("workersMin must not be greater than workersMax.")
            scaler_type = str(
                _first(input.get("scalerType"), existing and existing.scaler_type, "QUEUE_DELAY")
            )
            if scaler_type not in ("QUEUE_DELAY", "REQUEST_COUNT"):
                raise _error("scalerType must be QUEUE_DELAY or REQUEST_COUNT.")
            volume = self._find_volume(
                _first(input.get("networkVolumeId"), existing and existing.network_volume_id)
            )
            endpoint = _Endpoint(
                id=existing.id if existing else self._ids.make(14),
                name=name,
                template_id=template.id,
                gpu_ids=gpu_ids,
                network_volume_id=volume.id if volume else None,
                locations=_first(input.get("locations"), existing and existing.locations) or None,
                idle_timeout=_positive(
                    _first(input.get("idleTimeout"), existing and existing.idle_timeout, 5),
                    "idleTimeout",
                ),
                scaler_type=scaler_type,
                scaler_value=_positive(
                    _first(input.get("scalerValue"), existing and existing.scaler_value, 4),
                    "scalerValue",
                    1,
                ),
                workers_min=workers_min,
                workers_max=workers_max,
                gpu_count=_positive(
                    _first(input.get("gpuCount"), existing and existing.gpu_count, 1),
                    "gpuCount",
                    1,
                ),
                allowed_cuda_versions=_first(
                    input.get("allowedCudaVersions"), existing and existing.allowed_cuda_versions
                )
                or None,
                flash_boot_type=_first(
                    input.get("flashBootType"), existing and existing.flash_boot_type
                ),
                execution_timeout_ms=_first(
                    input.get("executionTimeoutMs"), existing and existing.execution_timeout_ms
                ),
                created_at=existing.created_at if existing else _iso_now(),
                version=existing.version + 1 if existing else 0,
            )
            self._endpoints[endpoint.id] = endpoint
            return self._endpoint_view(endpoint)

    def _m_update_endpoint_template(
        self, _obj: object, _info: object, input: Mapping[str, Any]
    ) -> Json:
        with self._lock:
            endpoint = self._endpoints.get(str(input.get("endpointId")))
            if endpoint is None:
                raise _error(f"Endpoint not found: {input.get('endpointId')}", "NOT_FOUND")
            endpoint.template_id = self._serverless_template(input.get("templateId")).id
            endpoint.version += 1
            return self._endpoint_view(endpoint)

    def _m_delete_endpoint(self, _obj: object, _info: object, id: str) -> None:
        with self._lock:
            if self._endpoints.pop(id, None) is None:
                raise _error(f"Endpoint not found: {id}", "NOT_FOUND")

    # ----------------------------------------------------------------- registry auth

    def _m_save_registry_auth(self, _obj: object, _info: object, input: Mapping[str, Any]) -> Json:
        with self._lock:
            name = str(input.get("name") or "").strip()
            if not name:
                raise _error("Registry auth name must not be empty.")
            if any(a.name == name for a in self._registry_auths.values()):
                raise _error(f"A registry auth with the name {name!r} already exists.")
            username, password = _credentials(input)
            auth = _RegistryAuth(self._ids.make(24, prefix="c"), name, username, password)
            self._registry_auths[auth.id] = auth
            return auth.view(self._user.id)

    def _m_update_registry_auth(
        self, _obj: object, _info: object, input: Mapping[str, Any]
    ) -> Json:
        with self._lock:
            auth = self._registry_auths.get(str(input.get("id")))
            if auth is None:
                raise _error(f"Registry auth not found: {input.get('id')}", "NOT_FOUND")
            auth.username, auth.password = _credentials(input)
            return auth.view(self._user.id)

    def _m_delete_registry_auth(self, _obj: object, _info: object, registryAuthId: str) -> None:
        with self._lock:
            if registryAuthId not in self._registry_auths:
                raise _error(f"Registry auth not found: {registryAuthId}", "NOT_FOUND")
            users = [
                t.name
                for t in self._templates.values()
                if t.container_registry_auth_id == registryAuthId
            ]
            if users:
                raise _error(f"Registry auth is in use by template(s) {', '.join(users)}.")
            del self._registry_auths[registryAuthId]

    # ----------------------------------------------------------------- network volumes

    def _m_create_network_volume(
        self, _obj: object, _info: object, input: Mapping[str, Any]
    ) -> Json:
        with self._lock:
            dc = DATA_CENTERS_BY_ID.get(str(input.get("dataCenterId")))
            if dc is None or not dc.storage_support:
                raise _error(
                    f"Data center {input.get('dataCenterId')} does not offer network volumes."
                )
            name = str(input.get("name") or "").strip()
            if not name:
                raise _error("Network volume name must not be empty.")
            size = _positive(input.get("size"), "size", 1)
            volume = _NetworkVolume(self._ids.make(10), name, size, dc.id)
            self._volumes[volume.id] = volume
            return volume.view()

    def _m_update_network_volume(
        self, _obj: object, _info: object, input: Mapping[str, Any]
    ) -> Json:
        with self._lock:
            volume = self._find_volume(input.get("id") or "?")
            assert volume is not None
            if input.get("size") is not None:
                size = _positive(input["size"], "size", 1)
                if size < volume.size:
                    raise _error("A network volume can only grow: size must not decrease.")
                volume.size = size
            if input.get("name"):
                volume.name = str(input["name"])
            return volume.view()

    def _m_delete_network_volume(
        self, _obj: object, _info: object, input: Mapping[str, Any]
    ) -> None:
        with self._lock:
            volume = self._find_volume(input.get("id") or "?")
            assert volume is not None
            self._settle(time.monotonic())
            users = [p.id for p in self._pods.values() if p.network_volume_id == volume.id]
            users += [e.id for e in self._endpoints.values() if e.network_volume_id == volume.id]
            if users:
                raise _error(f"Network volume is in use by {', '.join(users)}.")
            del self._volumes[volume.id]


# --------------------------------------------------------------------------- helpers


def _first(*values: Any) -> Any:
    """The first value that is not None (GraphQL's "argument not given")."""
    return next((v for v in values if v is not None), None)


def _credentials(inp: Mapping[str, Any]) -> tuple[str, str]:
    username, password = str(inp.get("username") or ""), str(inp.get("password") or "")
    if not username or not password:
        raise _error("username and password must not be empty.")
    return username, password


def _gpu_fits(gpu: GpuType, gpu_count: int, inp: Mapping[str, Any]) -> bool:
    """Whether stock, GPU count and the minimum vCPU/RAM asked for can be met."""
    return (
        gpu.stock is not None
        and gpu_count <= gpu.max_gpu_count
        and (inp.get("minVcpuCount") or 0) <= gpu.vcpu_per_gpu * gpu_count
        and (inp.get("minMemoryInGb") or 0) <= gpu.memory_per_gpu_gb * gpu_count
    )


def _cpu_instance(inp: Mapping[str, Any]) -> tuple[CpuFlavor, int, int]:
    """Parse ``instanceId`` (``cpu3c-2-4``) or size a general-purpose instance from minimums."""
    instance = inp.get("instanceId")
    if instance:
        parts = str(instance).split("-")
        flavor = CPU_FLAVORS_BY_ID.get(parts[0])
        if flavor is None or len(parts) != 3 or not all(p.isdigit() for p in parts[1:]):
            raise _no_instances()
        vcpus, memory = int(parts[1]), int(parts[2])
    else:
        flavor = CPU_FLAVORS_BY_ID["cpu3g"]
        vcpus = max(flavor.min_vcpu, int(inp.get("vcpuCount") or inp.get("minVcpuCount") or 2))
        memory = vcpus * flavor.ram_multiplier
    if not flavor.min_vcpu <= vcpus <= flavor.max_vcpu or memory != vcpus * flavor.ram_multiplier:
        raise _no_instances()
    return flavor, vcpus, memory


def _check_gpu_ids(gpu_ids: str) -> None:
    """gpuIds is a comma list of pool ids, optionally with ``-GPU TYPE`` exclusions."""
    entries = [e.strip() for e in gpu_ids.split(",") if e.strip()]
    pools = [e for e in entries if not e.startswith("-")]
    if not pools:
        raise _error("gpuIds must name at least one GPU pool.")
    for entry in entries:
        known = entry[1:] in GPU_TYPES_BY_ID if entry.startswith("-") else entry in GPU_POOLS_BY_ID
        if not known:
            raise _error(f"Unknown GPU pool or type in gpuIds: {entry!r}.")


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


def _r_lowest_price(obj: Json, _info: object, input: Mapping[str, Any] | None = None) -> Json:
    """GpuType.lowestPrice: per-GPU prices for the requested shape, null when it cannot be met."""
    gpu = GPU_TYPES_BY_ID[obj["id"]]
    inp = input or {}
    count = inp.get("gpuCount") or 1
    secure = inp.get("secureCloud")
    on_demand = gpu.on_demand_price(secure)
    fits = _gpu_fits(gpu, count, inp) and on_demand is not None
    wanted_dc = inp.get("dataCenterId")
    country = inp.get("countryCode")
    fits = fits and any(
        (wanted_dc is None or dc == wanted_dc)
        and (not country or DATA_CENTERS_BY_ID[dc].country_code == country)
        for dc in gpu.data_center_ids
    )
    return {
        "gpuName": gpu.display_name,
        "gpuTypeId": gpu.id,
        "minimumBidPrice": gpu.spot_price(secure) if fits else None,
        "uninterruptablePrice": on_demand if fits else None,
        "minMemory": gpu.memory_per_gpu_gb * count,
        "minVcpu": gpu.vcpu_per_gpu * count,
        "stockStatus": gpu.stock if fits else None,
        "maxUnreservedGpuCount": gpu.max_gpu_count if gpu.stock is not None else 0,
        "availableGpuCounts": [n for n in (1, 2, 4, 8) if n <= gpu.max_gpu_count]
        if gpu.stock is not None
        else [],
        "countryCode": country,
        "supportPublicIp": True,
        "minDisk": inp.get("minDisk"),
        "minDownload": inp.get("minDownload"),
        "minUpload": inp.get("minUpload"),
    }


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
    """Keep ariadne from logging client mistakes (validation, not-found) as server errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, GraphQLError) and exc.original_error is None)


_LOG.addFilter(_ExpectedErrorFilter())
