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


def gpu_fits(gpu: GpuType, gpu_count: int, inp: Input) -> bool:
    """Whether stock, GPU count, minimum vCPU/RAM and placement can all be met."""
    return (
        gpu.stock is not None
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
    return {
        **camel_fields(gpu, *_GPU_FIELDS),
        "maxGpuCountSecureCloud": gpu.max_gpu_count if gpu.secure_cloud else 0,
        "maxGpuCountCommunityCloud": gpu.max_gpu_count if gpu.community_cloud else 0,
        "minPodGpuCount": 1,
        **{name: gpu.commitment_price(name) for name in COMMITMENT_FIELDS},
    }


@BINDINGS.field("Query.gpuTypes")
def _gpu_types(_obj: object, _info: object, input: Input | None = None) -> list[Json]:
    inp = input or {}
    wanted = {*(inp.get("ids") or ()), *([inp["id"]] if inp.get("id") else [])}
    return [_gpu_view(gpu) for gpu in GPU_TYPES if not wanted or gpu.id in wanted]


@BINDINGS.field("Query.cpuTypes")
def _cpu_types(_obj: object, _info: object) -> list[Json]:
    return [camel_fields(cpu) for cpu in CPU_TYPES]


@BINDINGS.field("Query.dataCenters")
def _data_centers(_obj: object, _info: object) -> list[Json]:
    return [data_center_view(dc) for dc in DATA_CENTERS]


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
        "countryCode": inp.get("countryCode"),
        "compliance": inp.get("compliance"),
        "supportPublicIp": inp.get("supportPublicIp", True) is not False,
        "minDisk": inp.get("minDisk"),
        "minDownload": inp.get("minDownload"),
        "minUpload": inp.get("minUpload"),
    }
