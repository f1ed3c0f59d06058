"""What the control plane remembers: one record type per resource, and the state holding them.

Every stateful resolver runs under ``State.lock`` (the schema's binder takes it), so
the records need no locking of their own. A record's ``KIND`` is how RunPod names it
in a not-found error (see ``get_or_not_found``).
"""

from __future__ import annotations

import random
import string
import threading
import time
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from runpod_typed.emulator.control_plane._catalogue_queries import data_center_view
from runpod_typed.emulator.control_plane._wire import Json, camel_fields, env_list, status_text
from runpod_typed.emulator.control_plane.catalogue import DATA_CENTERS_BY_ID, GpuType

PodPhase = Literal["starting", "running", "error", "exited", "terminated"]
#: Pods of an image with this prefix fail to start: "error" instead of "running" (REST
#: v2 shows ERROR; GraphQL, like RunPod's, a RUNNING desired status without a runtime).
FAILS_TO_START = "runpod-emulator/fails-to-start"


class Ids:
    """RunPod-shaped random ids: 14 characters for pods and endpoints, 10 for templates."""

    _ALPHABET = string.ascii_lowercase + string.digits

    def __init__(self) -> None:
        self._random = random.Random()

    def make(self, length: int, prefix: str = "") -> str:
        return prefix + "".join(self._random.choices(self._ALPHABET, k=length))

    def port(self) -> int:
        return self._random.randint(10000, 49999)


@dataclass
class Template:
    KIND: ClassVar[str] = "Template"

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
        return {**camel_fields(self), "env": env_list(self.env)}


@dataclass
class RegistryAuth:
    KIND: ClassVar[str] = "Container registry auth"

    id: str
    name: str
    username: str
    password: str

    def view(self, user_id: str) -> Json:
        # The password never leaves the emulator, as RunPod never echoes it.
        return {"id": self.id, "name": self.name, "userId": user_id, "registryAuth": None}


@dataclass
class NetworkVolume:
    KIND: ClassVar[str] = "Network volume"

    id: str
    name: str
    size: int
    data_center_id: str

    def view(self) -> Json:
        data_center = DATA_CENTERS_BY_ID[self.data_center_id]
        return {**camel_fields(self), "dataCenter": data_center_view(data_center)}


@dataclass
class Endpoint:
    KIND: ClassVar[str] = "Endpoint"

    id: str
    name: str = ""
    template_id: str = ""
    type: str = "QB"
    """"QB" (queue-based) or "LB" (load-balancing); fixed at creation."""
    gpu_ids: str = ""
    compute_type: str = "GPU"
    instance_ids: list[str] | None = None
    network_volume_ids: list[Json] = field(default_factory=list)
    data_center_ids: list[str] | None = None
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
    workers_pfb_target: int | None = None
    flash_environment_id: str | None = None
    created_at: float = field(default_factory=time.time)
    version: int = 0


@dataclass
class Secret:
    KIND: ClassVar[str] = "Secret"

    id: str
    name: str
    value: str
    description: str | None = None

    def view(self) -> Json:
        # Like RunPod, the value is never returned.
        return {"id": self.id, "name": self.name, "description": self.description}


@dataclass
class Cluster:
    KIND: ClassVar[str] = "Cluster"

    id: str
    name: str
    pod_ids: list[str]


@dataclass
class Pod:
    KIND: ClassVar[str] = "Pod"

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
    status_change: str = field(default_factory=lambda: status_text("Rented by User"))
    cluster_id: str | None = None
    cluster_ip: str | None = None
    locked: bool = False
    """REST v2's lock: a locked pod refuses to stop or be terminated through v2."""

    @property
    def fails_to_start(self) -> bool:
        return self.image_name.startswith(FAILS_TO_START)

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
        return {
            "running": "RUNNING",
            "error": "RUNNING",
            "exited": "EXITED",
            "terminated": "TERMINATED",
        }[self.phase]

    def set_phase(self, phase: PodPhase, now: float, event: str) -> None:
        self.phase, self.since, self.running_since = phase, now, None
        self.status_change = status_text(event)


@dataclass
class EcrDelegation:
    """REST v2's delegated access to an Amazon ECR repository (no GraphQL counterpart)."""

    KIND: ClassVar[str] = "ECR delegation"

    id: str
    name: str | None
    registry_uri: str
    aws_region: str
    repository: str
    tag: str
    created_at: float = field(default_factory=time.time)


@dataclass
class User:
    id: str = "user_2emulatorDefaultUserId0000"
    email: str = "developer@example.com"
    pub_key: str = ""
    client_balance: float = 250.0
    spend_limit: float = 80.0
    min_balance: float = 0.0
    credit_alert_threshold: float = 10.0
    max_serverless_concurrency: int = 30


class State:
    """The account and its resources, in memory; ``reset`` forgets them.

    ``pod_transition_seconds`` is how long a pod takes to start (CREATED -> RUNNING
    with a runtime) and how long a terminated pod stays listed before it is gone.
    """

    def __init__(self, pod_transition_seconds: float) -> None:
        self.pod_transition_seconds = pod_transition_seconds
        self.lock: threading.RLock = threading.RLock()
        self.ids: Ids = Ids()
        self.user: User = User()
        self.pods: dict[str, Pod] = {}
        self.templates: dict[str, Template] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.registry_auths: dict[str, RegistryAuth] = {}
        self.volumes: dict[str, NetworkVolume] = {}
        self.secrets: dict[str, Secret] = {}
        self.clusters: dict[str, Cluster] = {}
        self.delegations: dict[str, EcrDelegation] = {}

    def reset(self) -> None:
        """Forget every pod, template, endpoint, credential, volume, secret and cluster."""
        with self.lock:
            self.user = User()
            for store in (
                self.pods,
                self.templates,
                self.endpoints,
                self.registry_auths,
                self.volumes,
                self.secrets,
                self.clusters,
                self.delegations,
            ):
                store.clear()

    def live_pods(self) -> dict[str, Pod]:
        """Pods not terminated: a terminated pod holds no template or volume any more."""
        return {pod.id: pod for pod in self.pods.values() if pod.phase != "terminated"}
