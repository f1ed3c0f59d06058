"""`rp.volumes`: network volumes, shared storage in one data center for pods and workers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runpod_typed._control import (
    AsyncNamespace,
    ResourceFlows,
    SyncNamespace,
    answered,
    async_helper,
    given,
    helper,
    present,
    text,
)
from runpod_typed._errors import InvalidRequestError, NetworkVolumeNotFound
from runpod_typed._flow import Flow
from runpod_typed._generated.graphql import input_types as inputs

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import NetworkVolumeFields

__all__ = ["AsyncVolumes", "VolumeFlows", "Volumes"]


def _size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidRequestError(f"size must be a whole number of GB >= 1, got {size!r}")
    return size


class VolumeFlows(ResourceFlows):
    """The network-volume helpers, each a flow over the generated flow client."""

    not_found = NetworkVolumeNotFound

    def list(self) -> Flow[list[NetworkVolumeFields]]:
        """The account's network volumes."""
        answer = yield from self.graphql.network_volumes()
        return present(answer.myself.network_volumes if answer.myself else None)

    def get(self, volume_id: str) -> Flow[NetworkVolumeFields]:
        """One network volume by id; `NetworkVolumeNotFound` if none."""
        return (yield from self.listed(self.list(), volume_id))

    def create(self, *, name: str, size: int, data_center_id: str) -> Flow[NetworkVolumeFields]:
        """Create a volume of `size` GB in a data center that has storage (see rp.catalog)."""
        new = inputs.CreateNetworkVolumeInput(
            name=text("name", name),
            size=_size(size),
            data_center_id=text("data_center_id", data_center_id),
        )
        answer = yield from self.graphql.create_network_volume(input=new)
        return answered(answer.create_network_volume, "the network volume")

    def update(
        self, volume_id: str, *, name: str | None = None, size: int | None = None
    ) -> Flow[NetworkVolumeFields]:
        """Rename a volume or grow it (a volume never shrinks)."""
        wanted = self.id(volume_id)
        if size is not None:
            _size(size)
        change = inputs.UpdateNetworkVolumeInput(id=wanted, **given({"name": name, "size": size}))
        answer = yield from self.about(wanted, self.graphql.update_network_volume(input=change))
        return self.found(answer.update_network_volume, wanted)

    def delete(self, volume_id: str) -> Flow[None]:
        """Delete a volume and its data; RunPod refuses while a pod or endpoint uses it."""
        wanted = self.id(volume_id)
        gone = inputs.DeleteNetworkVolumeInput(id=wanted)
        yield from self.about(wanted, self.graphql.delete_network_volume(input=gone))


class Volumes(SyncNamespace[VolumeFlows]):
    """`rp.volumes`: list, get, create, update (rename, grow), delete."""

    list = helper(VolumeFlows.list)
    get = helper(VolumeFlows.get)
    create = helper(VolumeFlows.create)
    update = helper(VolumeFlows.update)
    delete = helper(VolumeFlows.delete)


class AsyncVolumes(AsyncNamespace[VolumeFlows]):
    """`rp.volumes` of `AsyncRunpod`: the same helpers, awaitable."""

    list = async_helper(VolumeFlows.list)
    get = async_helper(VolumeFlows.get)
    create = async_helper(VolumeFlows.create)
    update = async_helper(VolumeFlows.update)
    delete = async_helper(VolumeFlows.delete)
