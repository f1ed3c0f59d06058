"""REST v2's view of the control plane's records (the shapes of the v2 description).

The records are the GraphQL control plane's (`control_plane/_state.py`); these
functions only write them the way v2 does: a pod's lifecycle `status`
(PROVISIONING, STARTING, RUNNING, EXITED, ERROR, TERMINATED) and the `actions` it
allows, env as an object, ports as a list, container settings of an endpoint
from its template, the job URLs of an endpoint, the catalogue with availability.
"""

from __future__ import annotations

import hashlib
from typing import Any

from runpod_typed.emulator.control_plane._state import (
    Cluster,
    EcrDelegation,
    Endpoint,
    NetworkVolume,
    Pod,
    RegistryAuth,
    State,
    Template,
)
from runpod_typed.emulator.control_plane._wire import iso
from runpod_typed.emulator.control_plane.catalogue import (
    CLUSTER_OFFERS_BY_GPU,
    CPU_FLAVORS,
    DATA_CENTERS,
    GPU_POOLS,
    GPU_TYPES,
    HOST_CUDA_VERSION,
    CpuFlavor,
    DataCenter,
    GpuType,
)

Json = dict[str, Any]

#: v2 pod status -> the actions it allows (what `actions` lists and `/action` accepts).
ACTIONS: dict[str, list[str]] = {
    "PROVISIONING": ["stop", "terminate"],
    "STARTING": ["stop", "terminate"],
    "RUNNING": ["stop", "restart", "terminate"],
    "ERROR": ["stop", "restart", "terminate"],
    "EXITED": ["start", "terminate"],
    "TERMINATED": [],
}
#: The CUDA versions the catalogue reports (the hosts' newest is HOST_CUDA_VERSION).
CUDA_VERSIONS = ("11.8", "12.1", "12.4", "12.6", "12.8", "12.9")
_STOCK = {"High": "HIGH", "Medium": "MEDIUM", "Low": "LOW", None: "NONE"}
_REGIONS = {"US": "NORTH_AMERICA", "CA": "NORTH_AMERICA"}


def pod_status(state: State, pod: Pod, now: float) -> str:
    """The v2 lifecycle status: a starting pod is PROVISIONING for the first half of
    its start (the machine is being prepared), then STARTING (the container)."""
    if pod.phase == "starting":
        first_half = now - pod.since < state.pod_transition_seconds / 2
        return "PROVISIONING" if first_half and not pod.started_before else "STARTING"
    return {
        "running": "RUNNING",
        "error": "ERROR",
        "exited": "EXITED",
        "terminated": "TERMINATED",
    }[pod.phase]


def env_object(env: dict[str, str]) -> dict[str, str]:
    return dict(env)


def port_list(ports: list[tuple[int, str]] | str) -> list[str]:
    if isinstance(ports, str):
        return [p.strip() for p in ports.split(",") if p.strip()]
    return [f"{number}/{kind}" for number, kind in ports]


def cpu_flavor_of(vcpus: int, memory: int) -> CpuFlavor:
    """The CPU flavour a CPU pod runs on, from its shape (the record keeps the shape only)."""
    ratio = memory // max(vcpus, 1)
    return next((f for f in CPU_FLAVORS if f.ram_multiplier == ratio), CPU_FLAVORS[0])


def pod_view(state: State, pod: Pod, now: float) -> Json:
    status = pod_status(state, pod, now)
    running = pod.phase == "running"
    mounts: Json = {}
    if pod.volume_in_gb:
        mounts["persistent"] = {"path": pod.volume_mount_path, "size": pod.volume_in_gb}
    if pod.network_volume_id:
        mounts["network"] = [{"volumeId": pod.network_volume_id, "path": pod.volume_mount_path}]
    view: Json = {
        "id": pod.id,
        "name": pod.name,
        "image": pod.image_name,
        "args": pod.docker_args,
        "disk": pod.container_disk_in_gb,
        "env": env_object(pod.env),
        "ports": port_list(pod.ports),
        "registry": pod.registry_auth_id,
        "actions": list(ACTIONS[status]),
        "cloud": "SECURE" if pod.secure_cloud else "COMMUNITY",
        "cost": pod.cost_per_hr,
        "createdAt": iso(pod.created_at),
        "cudaVersion": "{}.{}".format(*HOST_CUDA_VERSION) if pod.gpu is not None else None,
        "dataCenterId": pod.data_center_id,
        "globalNetworking": {"enabled": False},
        "locked": pod.locked,
        "mounts": mounts,
        "runtime": _runtime(pod, now) if running else None,
        "ssh": _ssh(pod, running),
        "startedAt": iso(pod.last_started_at) if pod.last_started_at and running else None,
        "status": status,
        "template": pod.template_id,
    }
    if pod.gpu is not None:
        view["gpu"] = {"id": pod.gpu.id, "count": pod.gpu_count}
    else:
        flavor = cpu_flavor_of(pod.vcpu_count, pod.memory_in_gb)
        view["cpu"] = {"id": flavor.id, "vcpuCount": pod.vcpu_count, "memory": pod.memory_in_gb}
    if pod.cluster_id is not None:
        cluster = state.clusters.get(pod.cluster_id)
        rank = cluster.pod_ids.index(pod.id) if cluster and pod.id in cluster.pod_ids else None
        view["cluster"] = {"id": pod.cluster_id, "ip": pod.cluster_ip or "", "rank": rank}
    return view


def _runtime(pod: Pod, now: float) -> Json:
    uptime = int(now - pod.running_since) if pod.running_since is not None else 0
    ports = []
    for number, kind in pod.ports:
        public = kind != "http" and pod.support_public_ip
        ports.append(
            {
                "ip": "203.0.113.10" if public else "100.65.0.10",  # documentation ranges
                "private": number,
                "public": pod.public_ports.get(number, number) if public else None,
                "type": kind,
            }
        )
    return {
        "uptime": uptime,
        "ports": ports,
        "gpus": [{"util": 0, "memoryUtil": 0} for _ in pod.gpu_ids],
        "cpu": {"util": 0},
        "memory": {"util": 0},
    }


def _ssh(pod: Pod, running: bool) -> Json:
    if not running:
        return {"direct": None, "proxy": None}
    user = f"{pod.id}-{pod.host_suffix}"
    proxy = {
        "host": "ssh.runpod.io",
        "port": 22,
        "username": user,
        "command": f"ssh {user}@ssh.runpod.io -i ~/.ssh/id_ed25519",
    }
    direct = None
    if (22, "tcp") in pod.ports and pod.support_public_ip:
        port = pod.public_ports.get(22, 22)
        direct = {
            "host": "203.0.113.10",
            "port": port,
            "username": "root",
            "command": f"ssh root@203.0.113.10 -p {port} -i ~/.ssh/id_ed25519",
        }
    return {"direct": direct, "proxy": proxy}


def template_view(template: Template) -> Json:
    mounts: Json = {}
    if template.volume_in_gb:
        mounts["persistent"] = {"path": template.volume_mount_path, "size": template.volume_in_gb}
    return {
        "id": template.id,
        "name": template.name,
        "image": template.image_name,
        "args": template.docker_args,
        "disk": template.container_disk_in_gb,
        "env": env_object(template.env),
        "ports": port_list(template.ports),
        "registry": template.container_registry_auth_id,
        "allowedCudaVersions": [],
        "category": template.category,
        "mounts": mounts,
        "public": template.is_public,
        "serverless": template.is_serverless,
        "startJupyter": template.start_jupyter,
        "startSsh": template.start_ssh,
    }


def volume_view(volume: NetworkVolume) -> Json:
    return {
        "id": volume.id,
        "name": volume.name,
        "size": volume.size,
        "dataCenter": volume.data_center_id,
        "type": "STANDARD",
    }


def registry_view(auth: RegistryAuth) -> Json:
    return {"id": auth.id, "name": auth.name}


def delegation_view(state: State, delegation: EcrDelegation) -> Json:
    return {
        "id": delegation.id,
        "name": delegation.name,
        "awsRegion": delegation.aws_region,
        "awsUser": f"arn:aws:iam::000000000000:user/runpod-{state.user.id[-8:]}",
        "createdAt": iso(delegation.created_at),
        "delegatorUserId": state.user.id,
        "dockerRegistryUri": delegation.registry_uri,
        "repository": delegation.repository,
        "tag": delegation.tag,
    }


# -- serverless endpoints -------------------------------------------------------------------


def endpoint_view(state: State, endpoint: Endpoint, job_api: str) -> Json:
    """`job_api` is the job API root the request came through (``http://host:port/v2``)."""
    template = state.templates.get(endpoint.template_id)
    queue = endpoint.type != "LB"
    view: Json = {
        "id": endpoint.id,
        "name": endpoint.name,
        "image": template.image_name if template else "",
        "args": template.docker_args if template else "",
        "disk": template.container_disk_in_gb if template else 10,
        "env": env_object(template.env) if template else {},
        "ports": port_list(template.ports) if template else [],
        "registry": template.container_registry_auth_id if template else None,
        "createdAt": iso(endpoint.created_at),
        "dataCenterIds": list(endpoint.data_center_ids or [dc.id for dc in DATA_CENTERS]),
        "flashboot": endpoint.flash_boot_type
        if endpoint.flash_boot_type in ("OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT")
        else "FLASHBOOT",
        "networkVolumes": [v["networkVolumeId"] for v in endpoint.network_volume_ids],
        "requestUrls": _request_urls(endpoint.id, job_api, queue),
        "scaling": (
            {"type": "QUEUE_DELAY", "queueDelay": float(endpoint.scaler_value)}
            if endpoint.scaler_type == "QUEUE_DELAY"
            else {"type": "REQUEST_COUNT", "requestCount": endpoint.scaler_value}
        ),
        "timeout": endpoint.execution_timeout_ms,
        "type": "QUEUE" if queue else "LOAD_BALANCER",
        "workers": {
            "min": endpoint.workers_min,
            "max": endpoint.workers_max,
            "idleTimeout": max(1, min(endpoint.idle_timeout, 3600)),
        },
    }
    if endpoint.compute_type == "CPU":
        view["gpu"] = None
        view["cpu"] = [_cpu_config(i) for i in endpoint.instance_ids or []]
    else:
        entries = [e.strip() for e in endpoint.gpu_ids.split(",") if e.strip()]
        view["gpu"] = {
            "pools": [e for e in entries if not e.startswith("-")],
            "excludedTypes": [e[1:] for e in entries if e.startswith("-")],
            "count": endpoint.gpu_count,
            "allowedCudaVersions": [
                v.strip() for v in (endpoint.allowed_cuda_versions or "").split(",") if v.strip()
            ],
            "minCudaVersion": endpoint.min_cuda_version,
        }
    return view


def _cpu_config(instance_id: str) -> Json:
    flavor, vcpus, memory = instance_id.split("-")
    return {"id": flavor, "vcpuCount": int(vcpus), "memory": int(memory)}


def _request_urls(endpoint_id: str, job_api: str, queue: bool) -> Json:
    base = f"{job_api}/{endpoint_id}"
    if not queue:
        return {"base": base, "health": f"{base}/health"}
    return {
        "run": f"{base}/run",
        "runSync": f"{base}/runsync",
        "status": f"{base}/status",
        "stream": f"{base}/stream",
        "cancel": f"{base}/cancel",
        "retry": f"{base}/retry",
        "purgeQueue": f"{base}/purge-queue",
        "health": f"{base}/health",
    }


def worker_ids(endpoint: Endpoint) -> list[str]:
    """The ids of an endpoint's (illustrative) standby workers: stable, RunPod-shaped."""
    return [
        hashlib.sha256(f"{endpoint.id}/{index}".encode()).hexdigest()[:14]
        for index in range(endpoint.workers_min)
    ]


def workers_view(endpoint: Endpoint) -> Json:
    gpu = _first_gpu(endpoint)
    workers = [
        {
            "id": worker_id,
            "status": "IDLE",
            "gpuCount": endpoint.gpu_count if gpu else 0,
            "gpuTypeId": gpu.id if gpu else None,
            "dataCenterId": (endpoint.data_center_ids or [DATA_CENTERS[0].id])[0],
            "image": None,
            "isStale": False,
            "startedAt": iso(endpoint.created_at),
            "uptimeSeconds": None,
            "version": endpoint.version,
        }
        for worker_id in worker_ids(endpoint)
    ]
    total = len(workers)
    summary = {"idle": total, "initializing": 0, "running": 0, "throttled": 0, "unhealthy": 0}
    return {
        "endpointVersion": endpoint.version,
        "summary": {**summary, "total": total},
        "workers": workers,
    }


def _first_gpu(endpoint: Endpoint) -> GpuType | None:
    if endpoint.compute_type == "CPU":
        return None
    pools = {pool.id: pool for pool in GPU_POOLS}
    for entry in endpoint.gpu_ids.split(","):
        pool = pools.get(entry.strip())
        if pool is not None:
            return next((g for g in GPU_TYPES if g.id in pool.gpu_type_ids), None)
    return None


def releases_view(state: State, endpoint: Endpoint) -> Json:
    """One release per version of the endpoint (each save is one), newest first."""
    count = len(worker_ids(endpoint))
    releases: list[Json] = [
        {
            "id": hashlib.sha256(f"{endpoint.id}@{version}".encode()).hexdigest()[:14],
            "version": version,
            "createdAt": iso(endpoint.created_at),
            "createdByUserId": state.user.id,
            "buildId": None,
            "diff": [],
            "source": "MANUAL",
            "workerCount": count if version == endpoint.version else 0,
        }
        for version in range(endpoint.version, -1, -1)
    ]
    rollout = {
        "inProgress": False,
        "percentOnLatest": 100,
        "workersOnLatest": count,
        "workersTotal": count,
    }
    return {"endpointVersion": endpoint.version, "releases": releases, "rollout": rollout}


# -- catalogue -------------------------------------------------------------------------------


def _availability(levels: list[str]) -> str:
    order = ["NONE", "LOW", "MEDIUM", "HIGH"]
    return max(levels, key=order.index) if levels else "NONE"


def gpu_view(gpu: GpuType, include_availability: bool) -> Json:
    pool = next((p.id for p in GPU_POOLS if gpu.id in p.gpu_type_ids), None)
    view: Json = {
        "id": gpu.id,
        "name": gpu.display_name,
        "manufacturer": gpu.manufacturer.upper() if gpu.manufacturer else "UNKNOWN",
        "memory": gpu.memory_in_gb,
        "maxCount": {
            "secure": gpu.max_gpu_count if gpu.secure_cloud else 0,
            "community": gpu.max_gpu_count if gpu.community_cloud else 0,
        },
        "price": {
            "secure": gpu.secure_price or 0.0,
            "community": gpu.community_price or 0.0,
            **({"serverless": round((gpu.secure_price or 0.0) * 1.4, 2)} if pool else {}),
        },
        "secure": gpu.secure_cloud,
        "community": gpu.community_cloud,
        "pool": pool,
    }
    if include_availability:
        level = _STOCK[gpu.stock]
        view["availability"] = level
        view["dataCenters"] = [
            {"id": dc.id, "name": dc.name, "availability": level}
            for dc in DATA_CENTERS
            if dc.id in gpu.data_center_ids
        ]
        view["cudaVersions"] = [
            {"version": v, "available": gpu.stock is not None and _cuda(v) <= HOST_CUDA_VERSION}
            for v in CUDA_VERSIONS
        ]
    return view


def _cuda(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)


def cpu_view(flavor: CpuFlavor, include_availability: bool) -> Json:
    view: Json = {
        "id": flavor.id,
        "name": flavor.display_name,
        "group": flavor.group_name,
        "price": {
            "securePerVcpu": flavor.price_per_vcpu,
            "serverlessPerVcpu": round(flavor.price_per_vcpu * 1.3, 4),
        },
        "ramGbPerVcpu": float(flavor.ram_multiplier),
        "vcpu": {"min": flavor.min_vcpu, "max": flavor.max_vcpu},
    }
    if include_availability:
        places = [dc for dc in DATA_CENTERS if flavor.offered_in(dc.id)]
        view["availability"] = "HIGH" if places else "NONE"
        view["dataCenters"] = [
            {"id": dc.id, "name": dc.name, "availability": "HIGH"} for dc in places
        ]
    return view


def region_of(dc: DataCenter) -> str:
    return _REGIONS.get(dc.country_code, "EUROPE")


def data_center_view(dc: DataCenter, include: list[str]) -> Json:
    view: Json = {
        "id": dc.id,
        "name": dc.name,
        "region": region_of(dc),
        "compliance": list(dc.compliance),
        "globalNetwork": dc.country_code == "US",
        "networkVolumeTypes": ["STANDARD"] if dc.storage_support else [],
    }
    if "GPU_AVAILABILITY" in include:
        view["gpuAvailability"] = [
            {"id": g.id, "name": g.display_name, "availability": _STOCK[g.stock]}
            for g in GPU_TYPES
            if dc.id in g.data_center_ids
        ]
    if "CPU_AVAILABILITY" in include:
        view["cpuAvailability"] = [
            {"id": f.id, "name": f.display_name, "availability": "HIGH"}
            for f in CPU_FLAVORS
            if f.offered_in(dc.id)
        ]
    return view


def cluster_view(state: State, cluster: Cluster, now: float) -> Json:
    pods = [state.pods[p] for p in cluster.pod_ids if p in state.pods]
    statuses = [pod_status(state, pod, now) for pod in pods]
    by_status: dict[str, int] = {}
    for status in statuses:
        by_status[status] = by_status.get(status, 0) + 1
    first = pods[0] if pods else None
    gpu = first.gpu if first is not None else None
    view: Json = {
        "id": cluster.id,
        "name": cluster.name,
        "type": "TRAINING",
        "createdAt": iso(first.created_at if first is not None else 0.0),
        "compute": {
            "gpuTypeId": gpu.id if gpu is not None else "unknown",
            "gpuCountPerPod": max(first.gpu_count, 1) if first is not None else 1,
            "podCount": max(len(cluster.pod_ids), 2),
        },
        "pods": {"total": len(pods), "byStatus": by_status},
        "network": {"cidr": "10.65.0.0/24"},
    }
    if first is not None:
        view["dataCenterId"] = first.data_center_id
        view["template"] = first.template_id or ""
        view["primary"] = {"podId": first.id, "status": statuses[0]}
    return view


def cluster_gpu_offered(gpu_type_id: str) -> bool:
    return gpu_type_id in CLUSTER_OFFERS_BY_GPU
