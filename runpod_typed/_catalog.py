"""`rp.catalog`: what RunPod offers: GPU and CPU types, CPU flavors, data centers, stock.

Read-only and the same for every account. GPU prices and stock depend on what is asked
for (how many GPUs, which cloud, which data center, which CUDA version): the keyword
filters of `gpu_types`, `gpu_type` and `gpu_availability` say it.

`gpus`, `cpus` and `data_centers_available` read REST v2's catalogue with availability
(HIGH, MEDIUM, LOW, NONE per type and per data center) and answer with its models; v2
filters only by a few query parameters, so the rest (in stock, memory, a data center)
is applied here, on the answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runpod_typed._control import (
    AsyncNamespace,
    ResourceFlows,
    SyncNamespace,
    answered,
    async_helper,
    checked_id,
    given,
    helper,
    pick,
    present,
    text,
)
from runpod_typed._errors import CpuFlavorNotFound, DataCenterNotFound, GpuTypeNotFound
from runpod_typed._flow import Flow
from runpod_typed._generated.graphql import input_types as inputs
from runpod_typed._generated.rest.models import (
    AvailabilityLevel,
    CatalogInclude,
    CpuType,
    DataCenter,
    DataCenterInclude,
    GpuCloudFilter,
    GpuType,
)
from runpod_typed._generated.rest.types import UNSET

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import (
        CpuAvailabilityCpuFlavorsSpecifics,
        CpuFlavorFields,
        CpuTypesCpuTypes,
        DataCentersDataCenters,
        GpuTypesGpuTypes,
        LowestPriceFields,
    )

__all__ = ["AsyncCatalog", "Catalog", "CatalogFlows"]


def _price_filter(**fields: Any) -> inputs.GpuLowestPriceInput | None:
    chosen = given(fields)
    return inputs.GpuLowestPriceInput(**chosen) if chosen else None


def _offered(
    availability: AvailabilityLevel | Any,
    places: Any,
    in_stock: bool,
    data_center_id: str | None,
) -> bool:
    """Whether a v2 catalogue entry passes the client-side filters."""
    if data_center_id is not None:
        where = [p for p in places or () if p.id == data_center_id]
        if not where:
            return False
        availability = where[0].availability
    return not in_stock or availability not in (AvailabilityLevel.NONE, UNSET)


class CatalogFlows(ResourceFlows):
    """The catalogue helpers, each a flow over the generated flow client."""

    not_found = GpuTypeNotFound

    def gpu_types(
        self,
        *,
        gpu_count: int | None = None,
        secure_cloud: bool | None = None,
        data_center_id: str | None = None,
        country_code: str | None = None,
        min_cuda_version: str | None = None,
        cluster: bool | None = None,
    ) -> Flow[list[GpuTypesGpuTypes]]:
        """Every GPU type, with its lowest price and stock for the filters given.

        `cluster=True` lists only the models offered as instant clusters.
        """
        price = _price_filter(
            gpu_count=gpu_count,
            secure_cloud=secure_cloud,
            data_center_id=data_center_id,
            country_code=country_code,
            min_cuda_version=min_cuda_version,
        )
        models = None if cluster is None else inputs.GpuTypeFilter(cluster=cluster)
        answer = yield from self.graphql.gpu_types(
            **given({"input": models, "lowest_price": price})
        )
        return present(answer.gpu_types)

    def gpu_type(
        self,
        gpu_type_id: str,
        *,
        gpu_count: int = 1,
        secure_cloud: bool | None = None,
        data_center_id: str | None = None,
        min_cuda_version: str | None = None,
    ) -> Flow[GpuTypesGpuTypes]:
        """One GPU type by id (like "NVIDIA GeForce RTX 4090"); `GpuTypeNotFound` if none."""
        wanted = self.id(gpu_type_id)
        price = _price_filter(
            gpu_count=gpu_count,
            secure_cloud=secure_cloud,
            data_center_id=data_center_id,
            min_cuda_version=min_cuda_version,
        )
        answer = yield from self.graphql.gpu_types(
            **given({"input": inputs.GpuTypeFilter(id=wanted), "lowest_price": price})
        )
        return self.pick(present(answer.gpu_types), wanted)

    def gpu_availability(
        self,
        gpu_type_id: str,
        *,
        gpu_count: int = 1,
        secure_cloud: bool | None = None,
        data_center_id: str | None = None,
        min_cuda_version: str | None = None,
    ) -> Flow[LowestPriceFields]:
        """Stock and lowest prices of a GPU type for `gpu_count` GPUs (stock_status None: none)."""
        gpu = yield from self.gpu_type(
            gpu_type_id,
            gpu_count=gpu_count,
            secure_cloud=secure_cloud,
            data_center_id=data_center_id,
            min_cuda_version=min_cuda_version,
        )
        return answered(gpu.lowest_price, f"the availability of {gpu_type_id}")

    def cpu_types(self) -> Flow[list[CpuTypesCpuTypes]]:
        """The CPU models found in RunPod's machines."""
        answer = yield from self.graphql.cpu_types()
        return present(answer.cpu_types)

    def cpu_flavors(self) -> Flow[list[CpuFlavorFields]]:
        """The CPU flavors (families of CPU instance types, like "cpu3c")."""
        answer = yield from self.graphql.cpu_flavors()
        return present(answer.cpu_flavors)

    def cpu_flavor(self, flavor_id: str) -> Flow[CpuFlavorFields]:
        """One CPU flavor by id (like "cpu3c"); `CpuFlavorNotFound` if none."""
        wanted = checked_id(flavor_id, CpuFlavorNotFound)
        answer = yield from self.graphql.cpu_flavors(input=inputs.CpuFlavorInput(id=wanted))
        return pick(present(answer.cpu_flavors), wanted, CpuFlavorNotFound)

    def cpu_availability(
        self, instance_id: str, *, data_center_id: str | None = None
    ) -> Flow[CpuAvailabilityCpuFlavorsSpecifics]:
        """Stock and prices of a CPU instance type ("cpu3c-2-4"), optionally in one data center.

        `stock_status` is None where there is none; `secure_price` is per hour for a pod,
        `sls_price` for a serverless worker.
        """
        flavor_id = text("CPU instance id", instance_id).split("-")[0]
        where = inputs.SpecificsInput(
            **given({"instance_id": instance_id, "data_center_id": data_center_id})
        )
        answer = yield from self.graphql.cpu_availability(
            input=inputs.CpuFlavorInput(id=flavor_id), specifics=where
        )
        flavor = pick(present(answer.cpu_flavors), flavor_id, CpuFlavorNotFound)
        return answered(flavor.specifics, f"the availability of {instance_id}")

    def data_centers(self) -> Flow[list[DataCentersDataCenters]]:
        """RunPod's data centers, with their storage support and GPU stock."""
        answer = yield from self.graphql.data_centers()
        return present(answer.data_centers)

    def data_center(self, data_center_id: str) -> Flow[DataCentersDataCenters]:
        """One data center by id (like "EU-RO-1"); `DataCenterNotFound` if none."""
        wanted = checked_id(data_center_id, DataCenterNotFound)
        return pick((yield from self.data_centers()), wanted, DataCenterNotFound)

    def country_codes(self) -> Flow[list[str]]:
        """Country codes where community-cloud machines are offered."""
        answer = yield from self.graphql.country_codes()
        return present(answer.country_codes)

    # -- REST v2: the catalogue with availability, filtered client-side ----------------

    def gpus(
        self,
        *,
        gpu_count: int = 1,
        cloud: GpuCloudFilter | None = None,
        min_cuda_version: str | None = None,
        in_stock: bool = True,
        min_memory_gb: int | None = None,
        data_center_id: str | None = None,
    ) -> Flow[list[GpuType]]:
        """GPU types with their availability for `gpu_count` GPUs, cheapest (secure price)
        first (community price for community-only types); `in_stock` keeps those with some, `min_memory_gb` and `data_center_id`
        (availability there) filter further."""
        answer = yield from self.rest.list_gpu_types(
            include=[CatalogInclude.AVAILABILITY],
            count=gpu_count,
            cloud=UNSET if cloud is None else cloud,
            min_cuda_version=UNSET if min_cuda_version is None else min_cuda_version,
        )
        gpus = [
            gpu
            for gpu in answer.gpus
            if _offered(gpu.availability, gpu.data_centers, in_stock, data_center_id)
            and (min_memory_gb is None or gpu.memory >= min_memory_gb)
        ]
        return sorted(gpus, key=lambda gpu: gpu.price.secure if gpu.secure else gpu.price.community)

    def cpus(
        self,
        *,
        vcpu_count: int | None = None,
        in_stock: bool = True,
        data_center_id: str | None = None,
    ) -> Flow[list[CpuType]]:
        """CPU types with their availability (for `vcpu_count` vCPUs), filtered as `gpus`."""
        answer = yield from self.rest.list_cpu_types(
            include=[CatalogInclude.AVAILABILITY],
            vcpu_count=UNSET if vcpu_count is None else vcpu_count,
        )
        return [
            cpu
            for cpu in answer.cpus
            if _offered(cpu.availability, cpu.data_centers, in_stock, data_center_id)
        ]

    def data_centers_available(self, *, gpu_type_id: str | None = None) -> Flow[list[DataCenter]]:
        """Data centers with the availability of each GPU and CPU type there; with
        `gpu_type_id`, only those where that GPU is in stock."""
        answer = yield from self.rest.list_data_centers(
            include=[DataCenterInclude.GPU_AVAILABILITY, DataCenterInclude.CPU_AVAILABILITY]
        )
        return [
            place
            for place in answer.data_centers
            if gpu_type_id is None or _offered(UNSET, place.gpu_availability, True, gpu_type_id)
        ]


class Catalog(SyncNamespace[CatalogFlows]):
    """`rp.catalog`: GPU and CPU types, CPU flavors, data centers, country codes, stock."""

    gpu_types = helper(CatalogFlows.gpu_types)
    gpu_type = helper(CatalogFlows.gpu_type)
    gpu_availability = helper(CatalogFlows.gpu_availability)
    cpu_types = helper(CatalogFlows.cpu_types)
    cpu_flavors = helper(CatalogFlows.cpu_flavors)
    cpu_flavor = helper(CatalogFlows.cpu_flavor)
    cpu_availability = helper(CatalogFlows.cpu_availability)
    data_centers = helper(CatalogFlows.data_centers)
    data_center = helper(CatalogFlows.data_center)
    country_codes = helper(CatalogFlows.country_codes)
    gpus = helper(CatalogFlows.gpus)
    cpus = helper(CatalogFlows.cpus)
    data_centers_available = helper(CatalogFlows.data_centers_available)


class AsyncCatalog(AsyncNamespace[CatalogFlows]):
    """`rp.catalog` of `AsyncRunpod`: the same helpers, awaitable."""

    gpu_types = async_helper(CatalogFlows.gpu_types)
    gpu_type = async_helper(CatalogFlows.gpu_type)
    gpu_availability = async_helper(CatalogFlows.gpu_availability)
    cpu_types = async_helper(CatalogFlows.cpu_types)
    cpu_flavors = async_helper(CatalogFlows.cpu_flavors)
    cpu_flavor = async_helper(CatalogFlows.cpu_flavor)
    cpu_availability = async_helper(CatalogFlows.cpu_availability)
    data_centers = async_helper(CatalogFlows.data_centers)
    data_center = async_helper(CatalogFlows.data_center)
    country_codes = async_helper(CatalogFlows.country_codes)
    gpus = async_helper(CatalogFlows.gpus)
    cpus = async_helper(CatalogFlows.cpus)
    data_centers_available = async_helper(CatalogFlows.data_centers_available)
