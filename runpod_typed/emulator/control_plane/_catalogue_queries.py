"""The hardware catalogue as the API shows it, and the placement rules deploys check.

The catalogue never changes, so these resolvers need neither the state nor its lock:
they are bound as plain ariadne resolvers (``BINDINGS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runpod_typed.emulator.control_plane._bindings import Bindings
from runpod_typed.emulator.control_plane._errors import error, no_instances
from runpod_typed.emulator.control_plane._wire import Input, Json, camel_fields
from runpod_typed.emulator.control_plane.catalogue import (
    CLUSTER_OFFERS_BY_GPU,
    COMMITMENT_FIELDS,
    CPU_FLAVORS,
    CPU_FLAVORS_BY_ID,
    CPU_TYPES,
    DATA_CENTERS,
    DATA_CENTERS_BY_ID,
    GPU_POOLS_BY_ID,
    GPU_TYPES,
    GPU_TYPES_BY_ID,
    HOST_CUDA_VERSION,
    CpuFlavor,
    DataCenter,
    GpuType,
)

BINDINGS = Bindings()


def placements(candidates: Iterable[str], inp: Input) -> list[str]:
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


def cuda_fits(inp: Input) -> bool:
    """Whether the hosts' CUDA version meets ``minCudaVersion`` (like "12.4")."""
    wanted = inp.get("minCudaVersion")
    if not wanted:
        return True
    try:
        version = tuple(int(part) for part in str(wanted).split("."))
    except ValueError:
        raise error(f"minCudaVersion must look like 12.4, got {wanted!r}.") from None
    return version <= HOST_CUDA_VERSION


def gpu_fits(gpu: GpuType, gpu_count: int, inp: Input) -> bool:
    """Whether stock, GPU count, minimum vCPU/RAM, CUDA version and placement can all be met."""
    return (
        gpu.stock is not None
        and cuda_fits(inp)
        and gpu_count <= gpu.max_gpu_count
        and (inp.get("minVcpuCount") or 0) <= gpu.vcpu_per_gpu * gpu_count
        and (inp.get("minMemoryInGb") or 0) <= gpu.memory_per_gpu_gb * gpu_count
        and bool(placements(gpu.data_center_ids, inp))
    )


def cpu_instance(instance_id: Any) -> tuple[CpuFlavor, int, int]:
    """``cpu3c-2-4`` -> (flavour cpu3c, 2 vCPUs, 4 GB); the default is a small cpu3g."""
    parts = str(instance_id or "cpu3g-2-8").split("-")
    flavor = CPU_FLAVORS_BY_ID.get(parts[0])
    if flavor is None or len(parts) != 3 or not all(p.isdigit() for p in parts[1:]):
        raise no_instances()
    vcpus, memory = int(parts[1]), int(parts[2])
    if not flavor.min_vcpu <= vcpus <= flavor.max_vcpu or memory != vcpus * flavor.ram_multiplier:
        raise no_instances()
    return flavor, vcpus, memory


def check_gpu_ids(gpu_ids: str) -> None:
    """gpuIds is a comma list of GPU pool ids, optionally with ``-GPU TYPE`` exclusions."""
    entries = [e.strip() for e in gpu_ids.split(",") if e.strip()]
    if not any(not e.startswith("-") for e in entries):
        raise error("gpuIds must name at least one GPU pool, like AMPERE_16.")
    for entry in entries:
        excluded = entry.startswith("-")
        if not (entry[1:] in GPU_TYPES_BY_ID if excluded else entry in GPU_POOLS_BY_ID):
            raise error(f"Unknown GPU pool or GPU type in gpuIds: {entry!r}.")


def data_center_view(dc: DataCenter) -> Json:
    return {
        **camel_fields(dc, "id", "name", "location", "storage_support"),
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


_GPU_FIELDS = (
    "id",
    "display_name",
    "manufacturer",
    "memory_in_gb",
    "cuda_cores",
    "max_gpu_count",
    "secure_cloud",
    "community_cloud",
    "secure_price",
    "community_price",
    "secure_spot_price",
    "community_spot_price",
)


def _gpu_view(gpu: GpuType) -> Json:
    offer = CLUSTER_OFFERS_BY_GPU.get(gpu.id)
    return {
        **camel_fields(gpu, *_GPU_FIELDS),
        "maxGpuCountSecureCloud": gpu.max_gpu_count if gpu.secure_cloud else 0,
        "maxGpuCountCommunityCloud": gpu.max_gpu_count if gpu.community_cloud else 0,
        "minPodGpuCount": 1,
        **{name: gpu.commitment_price(name) for name in COMMITMENT_FIELDS},
        "clusterPrice": gpu.secure_price if offer else None,
        "nodeGroupGpuSizes": list(offer.node_gpu_sizes) if offer else [],
        "nodeGroupDatacenters": (
            [data_center_view(DATA_CENTERS_BY_ID[dc]) for dc in offer.data_center_ids]
            if offer
            else []
        ),
    }


@BINDINGS.field("Query.gpuTypes")
def _gpu_types(_obj: object, _info: object, input: Input | None = None) -> list[Json]:
    inp = input or {}
    wanted = {*(inp.get("ids") or ()), *([inp["id"]] if inp.get("id") else [])}
    cluster = inp.get("cluster")
    return [
        _gpu_view(gpu)
        for gpu in GPU_TYPES
        if (not wanted or gpu.id in wanted)
        and (cluster is None or (gpu.id in CLUSTER_OFFERS_BY_GPU) is cluster)
    ]


@BINDINGS.field("Query.cpuTypes")
def _cpu_types(_obj: object, _info: object) -> list[Json]:
    return [camel_fields(cpu) for cpu in CPU_TYPES]


@BINDINGS.field("Query.dataCenters")
def _data_centers(_obj: object, _info: object) -> list[Json]:
    return [data_center_view(dc) for dc in DATA_CENTERS]


@BINDINGS.field("Query.countryCodes")
def _country_codes(_obj: object, _info: object) -> list[str]:
    return sorted({dc.country_code for dc in DATA_CENTERS})


@BINDINGS.field("Query.cpuFlavors")
def _cpu_flavors(_obj: object, _info: object, input: Input | None = None) -> list[Json]:
    """Every CPU flavor, or the one ``input.id`` names (none for an unknown id, as a filter)."""
    wanted = (input or {}).get("id")
    return [_cpu_flavor_view(f) for f in CPU_FLAVORS if not wanted or f.id == wanted]


def _cpu_flavor_view(flavor: CpuFlavor) -> Json:
    return {
        "id": flavor.id,
        "groupId": flavor.id[:4].upper(),
        "displayName": flavor.display_name,
        "minVcpu": float(flavor.min_vcpu),
        "maxVcpu": float(flavor.max_vcpu),
        "vcpuBurstable": False,
        "ramMultiplier": float(flavor.ram_multiplier),
        "diskLimitPerVcpu": float(flavor.disk_limit_per_vcpu),
    }


@BINDINGS.field("CpuFlavor.specifics")
def _cpu_specifics(obj: Json, _info: object, input: Input | None = None) -> Json:
    """Price and stock of one instance type (or the flavor's smallest) in one data center.

    An instance id of another flavor, or a malformed one, is refused as a deploy of it
    would be; a data center where the flavor is not offered has no stock (null).
    """
    flavor = CPU_FLAVORS_BY_ID[obj["id"]]
    inp = input or {}
    instance_id = inp.get("instanceId")
    if instance_id:
        if not str(instance_id).startswith(f"{flavor.id}-"):
            raise error(f"CPU instance {instance_id!r} is not of flavor {flavor.id}.")
        _flavor, vcpus, _memory = cpu_instance(instance_id)
    else:
        vcpus = flavor.min_vcpu
    data_center_id = inp.get("dataCenterId")
    if data_center_id and data_center_id not in DATA_CENTERS_BY_ID:
        raise error(f"Unknown data center {data_center_id!r}.")
    offered = not data_center_id or flavor.offered_in(data_center_id)
    price = round(flavor.price_per_vcpu * vcpus, 4)
    return {
        "stockStatus": ("High" if vcpus <= 8 else "Medium") if offered else None,
        "securePrice": price,
        "slsPrice": round(price * 1.5, 4),
    }


@BINDINGS.field("GpuType.lowestPrice")
def _lowest_price(obj: Json, _info: object, input: Input | None = None) -> Json:
    """GpuType.lowestPrice: per-GPU prices for the requested shape, null when it cannot be met."""
    gpu = GPU_TYPES_BY_ID[obj["id"]]
    inp = input or {}
    count = inp.get("gpuCount") or 1
    secure = inp.get("secureCloud")
    on_demand = gpu.on_demand_price(secure)
    fits = on_demand is not None and gpu_fits(gpu, count, inp)
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
        "maxUnreservedGpuCount": gpu.max_gpu_count if fits else 0,
        "countryCode": inp.get("countryCode"),
        "compliance": inp.get("compliance"),
        "supportPublicIp": inp.get("supportPublicIp", True) is not False,
        "minDisk": inp.get("minDisk"),
        "minDownload": inp.get("minDownload"),
        "minUpload": inp.get("minUpload"),
    }
