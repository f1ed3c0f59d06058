"""The emulator's hardware catalogue: GPU types, CPU types and flavours, data centers.

The ids and names follow RunPod's (so code written against the real API finds the
GPU it asks for), but every number here -- prices, memory, stock, allocations --
is illustrative: plausible values picked for tests and demos, not a copy of
RunPod's price list, which changes daily.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StockStatus = Literal["High", "Medium", "Low"]

# Discounts applied to the secure on-demand price for longer commitments.
_COMMITMENT_DISCOUNTS = {
    "oneWeekPrice": 0.95,
    "oneMonthPrice": 0.9,
    "threeMonthPrice": 0.85,
    "sixMonthPrice": 0.8,
    "oneYearPrice": 0.75,
}
COMMITMENT_FIELDS = tuple(_COMMITMENT_DISCOUNTS)


@dataclass(frozen=True)
class GpuType:
    """One GPU model as the catalogue offers it; prices are per GPU per hour (USD)."""

    id: str
    display_name: str
    manufacturer: str
    memory_in_gb: int
    cuda_cores: int
    max_gpu_count: int
    secure_price: float | None
    community_price: float | None
    secure_spot_price: float | None
    community_spot_price: float | None
    vcpu_per_gpu: int
    memory_per_gpu_gb: int
    data_center_ids: tuple[str, ...]
    stock: StockStatus | None
    """None means sold out: deploying it fails as RunPod does when nothing is free."""

    @property
    def secure_cloud(self) -> bool:
        return self.secure_price is not None

    @property
    def community_cloud(self) -> bool:
        return self.community_price is not None

    def commitment_price(self, field: str) -> float | None:
        """A commitment price (oneWeekPrice ... oneYearPrice) derived from the secure price."""
        if self.secure_price is None:
            return None
        return round(self.secure_price * _COMMITMENT_DISCOUNTS[field], 2)

    def on_demand_price(self, secure_cloud: bool | None) -> float | None:
        """Lowest on-demand price per GPU in the requested cloud (None: either cloud)."""
        return _lowest(self.secure_price, self.community_price, secure_cloud)

    def spot_price(self, secure_cloud: bool | None) -> float | None:
        """Lowest spot (interruptible) price per GPU in the requested cloud; also the minimum bid."""
        return _lowest(self.secure_spot_price, self.community_spot_price, secure_cloud)


def _lowest(
    secure: float | None, community: float | None, secure_cloud: bool | None
) -> float | None:
    if secure_cloud is True:
        candidates = [secure]
    elif secure_cloud is False:
        candidates = [community]
    else:
        candidates = [secure, community]
    prices = [p for p in candidates if p is not None]
    return min(prices) if prices else None


@dataclass(frozen=True)
class CpuType:
    """A CPU model found in RunPod machines."""

    id: str
    display_name: str
    manufacturer: str
    cores: int
    threads_per_core: int
    group_id: str


@dataclass(frozen=True)
class CpuFlavor:
    """A CPU pod family; instance ids look like ``cpu3c-2-4`` (flavour-vCPUs-GB of RAM)."""

    id: str
    display_name: str
    group_name: str
    min_vcpu: int
    max_vcpu: int
    ram_multiplier: int
    price_per_vcpu: float
    disk_limit_per_vcpu: int = 10
    data_center_ids: tuple[str, ...] = ()
    """Where it is offered (an empty tuple: every data center)."""

    def offered_in(self, data_center_id: str) -> bool:
        return not self.data_center_ids or data_center_id in self.data_center_ids


@dataclass(frozen=True)
class ClusterOffer:
    """A GPU model offered as instant clusters: GPUs per node, and where."""

    gpu_type_id: str
    node_gpu_sizes: tuple[int, ...]
    data_center_ids: tuple[str, ...]


@dataclass(frozen=True)
class DataCenter:
    """A RunPod region."""

    id: str
    name: str
    location: str
    country_code: str
    storage_support: bool
    compliance: tuple[str, ...]


@dataclass(frozen=True)
class GpuPool:
    """A serverless GPU pool id (saveEndpoint's ``gpuIds``) and the GPU types it covers."""

    id: str
    gpu_type_ids: tuple[str, ...]


_US = ("US-TX-3", "US-GA-1", "US-KS-2", "US-CA-2")
_EU = ("EU-RO-1", "EU-SE-1", "EU-CZ-1", "EU-NL-1")
_ALL = (*_US, *_EU, "CA-MTL-1")

_EU_CERTS = ("GDPR", "ISO_IEC_27001")
_US_CERTS = ("SOC_2_TYPE_2", "ISO_IEC_27001")

DATA_CENTERS: tuple[DataCenter, ...] = (
    DataCenter("US-TX-3", "US-TX-3", "United States (Texas)", "US", True, _US_CERTS),
    DataCenter("US-GA-1", "US-GA-1", "United States (Georgia)", "US", True, _US_CERTS),
    DataCenter("US-KS-2", "US-KS-2", "United States (Kansas)", "US", True, ("SOC_2_TYPE_2",)),
    DataCenter("US-CA-2", "US-CA-2", "United States (California)", "US", False, ()),
    DataCenter("EU-RO-1", "EU-RO-1", "Romania", "RO", True, _EU_CERTS),
    DataCenter("EU-SE-1", "EU-SE-1", "Sweden", "SE", True, _EU_CERTS),
    DataCenter("EU-CZ-1", "EU-CZ-1", "Czech Republic", "CZ", True, ("GDPR",)),
    DataCenter("EU-NL-1", "EU-NL-1", "Netherlands", "NL", False, ("GDPR",)),
    DataCenter("CA-MTL-1", "CA-MTL-1", "Canada (Montreal)", "CA", True, ("SOC_2_TYPE_2",)),
)

# fmt: off
GPU_TYPES: tuple[GpuType, ...] = (
    GpuType("NVIDIA GeForce RTX 3070", "RTX 3070", "Nvidia", 8, 5888, 8,
            None, 0.13, None, 0.07, 4, 15, _EU, "Medium"),
    GpuType("NVIDIA GeForce RTX 3090", "RTX 3090", "Nvidia", 24, 10496, 8,
            0.43, 0.22, 0.21, 0.11, 8, 31, _ALL, "High"),
    GpuType("NVIDIA GeForce RTX 4090", "RTX 4090", "Nvidia", 24, 16384, 8,
            0.69, 0.34, 0.35, 0.2, 6, 41, _ALL, "High"),
    GpuType("NVIDIA RTX A4000", "RTX A4000", "Nvidia", 16, 6144, 8,
            0.32, 0.17, 0.16, 0.09, 6, 31, _ALL, "High"),
    GpuType("NVIDIA RTX A5000", "RTX A5000", "Nvidia", 24, 8192, 8,
            0.36, 0.16, 0.18, 0.1, 6, 25, _ALL, "Medium"),
    GpuType("NVIDIA RTX A6000", "RTX A6000", "Nvidia", 48, 10752, 8,
            0.76, 0.49, 0.39, 0.25, 8, 50, _ALL, "High"),
    GpuType("NVIDIA RTX 4000 Ada Generation", "RTX 4000 Ada", "Nvidia", 20, 6144, 8,
            0.38, 0.2, 0.19, 0.1, 6, 31, _US, "Medium"),
    GpuType("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada", "Nvidia", 48, 18176, 8,
            0.88, 0.74, 0.5, 0.45, 10, 62, _ALL, "Low"),
    GpuType("NVIDIA L4", "L4", "Nvidia", 24, 7424, 8,
            0.43, None, 0.22, None, 12, 50, _US, "High"),
    GpuType("NVIDIA A40", "A40", "Nvidia", 48, 10752, 10,
            0.44, None, 0.24, None, 9, 50, _EU, "High"),
    GpuType("NVIDIA L40S", "L40S", "Nvidia", 48, 18176, 8,
            0.86, 0.79, 0.53, 0.4, 12, 62, _ALL, "Medium"),
    GpuType("NVIDIA A100 80GB PCIe", "A100 PCIe", "Nvidia", 80, 6912, 8,
            1.64, 1.19, 0.82, 0.6, 8, 117, _ALL, "Medium"),
    GpuType("NVIDIA A100-SXM4-80GB", "A100 SXM", "Nvidia", 80, 6912, 8,
            1.89, 1.39, 0.95, 0.75, 16, 125, _US, "Low"),
    GpuType("NVIDIA H100 PCIe", "H100 PCIe", "Nvidia", 80, 14592, 8,
            2.39, 1.99, 1.25, 1.05, 16, 176, _US, "Low"),
    GpuType("NVIDIA H100 80GB HBM3", "H100 SXM", "Nvidia", 80, 16896, 8,
            2.99, 2.69, 1.75, 1.55, 20, 125, _ALL, "Medium"),
    # Sold out: deploying these fails with RunPod's "no longer any instances" error.
    GpuType("NVIDIA H100 NVL", "H100 NVL", "Nvidia", 94, 16896, 8,
            2.79, 2.59, 1.6, 1.4, 16, 94, _US, None),
    GpuType("AMD Instinct MI300X OAM", "MI300X", "AMD", 192, 19456, 8,
            2.49, None, 1.5, None, 24, 283, ("EU-RO-1",), None),
)

GPU_POOLS: tuple[GpuPool, ...] = (
    GpuPool("AMPERE_16", ("NVIDIA RTX A4000",)),
    GpuPool("AMPERE_24", ("NVIDIA RTX A5000", "NVIDIA L4", "NVIDIA GeForce RTX 3090")),
    GpuPool("ADA_24", ("NVIDIA GeForce RTX 4090",)),
    GpuPool("AMPERE_48", ("NVIDIA RTX A6000", "NVIDIA A40")),
    GpuPool("ADA_48_PRO", ("NVIDIA L40S", "NVIDIA RTX 6000 Ada Generation")),
    GpuPool("AMPERE_80", ("NVIDIA A100 80GB PCIe", "NVIDIA A100-SXM4-80GB")),
    GpuPool("ADA_80_PRO", ("NVIDIA H100 PCIe", "NVIDIA H100 80GB HBM3")),
    GpuPool("HOPPER_141", ("NVIDIA H100 NVL",)),
)

CPU_TYPES: tuple[CpuType, ...] = (
    CpuType("AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763", "AMD", 64, 2, "AMD EPYC 7003"),
    CpuType("AMD EPYC 9654 96-Core Processor", "AMD EPYC 9654", "AMD", 96, 2, "AMD EPYC 9004"),
    CpuType("AMD Ryzen 9 7950X 16-Core Processor", "AMD Ryzen 9 7950X", "AMD", 16, 2, "AMD Ryzen"),
    CpuType("Intel Xeon Gold 6342", "Intel Xeon Gold 6342", "Intel", 24, 2, "Intel Xeon Gold"),
    CpuType("Intel Xeon Platinum 8480+", "Intel Xeon Platinum 8480+", "Intel", 56, 2,
            "Intel Xeon Platinum"),
)

CPU_FLAVORS: tuple[CpuFlavor, ...] = (
    CpuFlavor("cpu3c", "Compute-Optimized", "3rd generation", 2, 32, 2, 0.03, 10),
    CpuFlavor("cpu3g", "General Purpose", "3rd generation", 2, 32, 4, 0.035, 10),
    CpuFlavor("cpu3m", "Memory-Optimized", "3rd generation", 2, 16, 8, 0.045, 20),
    # The 5th generation is offered in the US only.
    CpuFlavor("cpu5c", "Compute-Optimized", "5th generation", 2, 32, 2, 0.04, 15, _US),
    CpuFlavor("cpu5g", "General Purpose", "5th generation", 2, 32, 4, 0.045, 15, _US),
    CpuFlavor("cpu5m", "Memory-Optimized", "5th generation", 2, 16, 8, 0.055, 30, _US),
)

# Instant clusters: nodes of 8 GPUs, in a few data centers.
CLUSTER_OFFERS: tuple[ClusterOffer, ...] = (
    ClusterOffer("NVIDIA H100 80GB HBM3", (8,), ("US-TX-3", "EU-RO-1")),
    ClusterOffer("NVIDIA A100-SXM4-80GB", (8,), ("US-KS-2",)),
)
# fmt: on

#: The newest CUDA version the emulator's hosts have (minCudaVersion above it finds none).
HOST_CUDA_VERSION = (12, 8)

GPU_TYPES_BY_ID = {gpu.id: gpu for gpu in GPU_TYPES}
CPU_FLAVORS_BY_ID = {flavor.id: flavor for flavor in CPU_FLAVORS}
DATA_CENTERS_BY_ID = {dc.id: dc for dc in DATA_CENTERS}
GPU_POOLS_BY_ID = {pool.id: pool for pool in GPU_POOLS}
CLUSTER_OFFERS_BY_GPU = {offer.gpu_type_id: offer for offer in CLUSTER_OFFERS}
