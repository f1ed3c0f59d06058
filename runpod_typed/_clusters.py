"""`rp.clusters`: instant clusters, several GPU pods on one private network.

RunPod's GraphQL API creates and deletes clusters but has no query for them that its
clients are known to send, so there is no `list` or `get`: the answer to `create`
carries the cluster's pods (each with its `cluster_ip`), which `rp.pods` then follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from typing_extensions import TypedDict, Unpack

from runpod_typed._control import (
    AsyncNamespace,
    ResourceFlows,
    SyncNamespace,
    answered,
    async_helper,
    env_input,
    given,
    helper,
    text,
)
from runpod_typed._errors import ClusterNotFound, InvalidRequestError
from runpod_typed._flow import Flow
from runpod_typed._generated.graphql import ClusterType
from runpod_typed._generated.graphql import input_types as inputs

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import ClusterFields

__all__ = ["AsyncClusters", "ClusterFlows", "ClusterSpec", "Clusters"]


class ClusterSpec(TypedDict, total=False):
    """A cluster's settings besides its shape; left out (or None): RunPod's default."""

    image_name: str | None
    """Container image of every pod (or give `template_id`)."""
    template_id: str | None
    type: ClusterType | None
    """Kind of cluster (`ClusterType.TRAINING` when left out)."""
    data_center_id: str | None
    network_volume_id: str | None
    container_disk_in_gb: int | None
    volume_in_gb: int | None
    volume_mount_path: str | None
    ports: str | None
    env: Mapping[str, str] | None
    docker_args: str | None
    start_ssh: bool | None
    start_jupyter: bool | None
    allowed_cuda_versions: list[str] | None


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(f"{name} must be a whole number >= 1, got {value!r}")
    return value


class ClusterFlows(ResourceFlows):
    """The cluster helpers, each a flow over the generated flow client."""

    not_found = ClusterNotFound

    def create(
        self,
        *,
        name: str,
        gpu_type_id: str,
        pod_count: int,
        gpu_count_per_pod: int,
        deploy_cost: float,
        **spec: Unpack[ClusterSpec],
    ) -> Flow[ClusterFields]:
        """Create a cluster of `pod_count` pods with `gpu_count_per_pod` GPUs each.

        `deploy_cost` is the price per hour you expect to pay for the whole cluster:
        RunPod refuses a cluster without it.
        """
        if not spec.get("image_name") and not spec.get("template_id"):
            raise InvalidRequestError("a cluster needs image_name= or template_id=")
        fields = given(spec)
        if "env" in fields:
            fields["env"] = env_input(fields["env"])
        fields["type_"] = fields.pop("type", ClusterType.TRAINING)
        new = inputs.CreateClusterInput(
            cluster_name=text("name", name),
            gpu_type_id=text("gpu_type_id", gpu_type_id),
            pod_count=_count("pod_count", pod_count),
            gpu_count_per_pod=_count("gpu_count_per_pod", gpu_count_per_pod),
            deploy_cost=deploy_cost,
            **fields,
        )
        answer = yield from self.graphql.create_cluster(input=new)
        return answered(answer.create_cluster, "the cluster")

    def delete(self, cluster_id: str) -> Flow[None]:
        """Delete a cluster and terminate its pods; `ClusterNotFound` if there is none."""
        wanted = self.id(cluster_id)
        gone = inputs.DeleteClusterInput(id=wanted)
        yield from self.about(wanted, self.graphql.delete_cluster(input=gone))


class Clusters(SyncNamespace[ClusterFlows]):
    """`rp.clusters`: create, delete."""

    create = helper(ClusterFlows.create)
    delete = helper(ClusterFlows.delete)


class AsyncClusters(AsyncNamespace[ClusterFlows]):
    """`rp.clusters` of `AsyncRunpod`: the same helpers, awaitable."""

    create = async_helper(ClusterFlows.create)
    delete = async_helper(ClusterFlows.delete)
