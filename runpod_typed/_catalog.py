"""`rp.catalog`: what RunPod offers: GPU and CPU types, CPU flavors, data centers, stock.

Read-only and the same for every account. GPU prices and stock depend on what is asked
for (how many GPUs, which cloud, which data center, which CUDA version): the keyword
filters of `gpu_types`, `gpu_type` and `gpu_availability` say it.
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
