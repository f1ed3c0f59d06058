"""Instant clusters: createCluster, deleteCluster.

A cluster is ``podCount`` pods of ``gpuCountPerPod`` GPUs each, in one data center, on
one private network (each pod has a ``clusterIp``). RunPod's server refuses a create
without ``deployCost`` ("insufficient resources", dstack) and one with ``minCudaVersion``
("Error creating cluster - cluster creation failed", dstack issue 3910); both come back
with the code RUNPOD, as dstack records. The other checks (a GPU model offered as
clusters, a node size it has, a data center that has it) answer like a pod deploy does.
"""

from __future__ import annotations

from runpod_typed.emulator.control_plane._bindings import Bindings
from runpod_typed.emulator.control_plane._errors import error, get_or_not_found, no_instances
from runpod_typed.emulator.control_plane._pods import deploy_pod, pod_view, settle
from runpod_typed.emulator.control_plane._state import Cluster, State
from runpod_typed.emulator.control_plane._wire import Input, Json, first, integer, text
from runpod_typed.emulator.control_plane.catalogue import CLUSTER_OFFERS_BY_GPU, GPU_TYPES_BY_ID

BINDINGS = Bindings()

#: RunPod's wording (dstack issue 3910), reproduced exactly.
CLUSTER_CREATION_FAILED = "Error creating cluster - cluster creation failed"
#: dstack reports an "insufficient resources" error without deployCost; the prefix is ours.
INSUFFICIENT_RESOURCES = "Error creating cluster - insufficient resources"


@BINDINGS.field("Mutation.createCluster")
def _create(state: State, input: Input) -> Json:
    if input.get("minCudaVersion"):
        raise error(CLUSTER_CREATION_FAILED, "RUNPOD")
    if input.get("deployCost") is None:
        raise error(INSUFFICIENT_RESOURCES, "RUNPOD")
    gpu_type_id = input.get("gpuTypeId")
    offer = CLUSTER_OFFERS_BY_GPU.get(str(gpu_type_id))
    if offer is None:
        raise error(f"GPU type {gpu_type_id!r} is not offered as an instant cluster.")
    gpu = GPU_TYPES_BY_ID[offer.gpu_type_id]
    pod_count = integer(input.get("podCount"), "podCount", 1)
    per_pod = integer(first(input.get("gpuCountPerPod"), offer.node_gpu_sizes[0]), "gpuCountPerPod")
    if per_pod not in offer.node_gpu_sizes:
        sizes = ", ".join(map(str, offer.node_gpu_sizes))
        raise error(f"gpuCountPerPod must be one of {sizes} for {gpu.display_name} clusters.")
    if (input.get("type") or "TRAINING") != "TRAINING":
        raise error(f"Unknown cluster type {input.get('type')!r}.")
    wanted = input.get("dataCenterId")
    candidates = [dc for dc in offer.data_center_ids if not wanted or dc == wanted]
    if gpu.stock is None or not candidates:
        raise no_instances()
    name = text(first(input.get("clusterName"), "cluster"), "clusterName")
    cluster = Cluster(id=state.ids.make(14), name=name, pod_ids=[])
    assert gpu.secure_price is not None  # cluster GPUs are secure-cloud models
    for index in range(pod_count):
        pod = deploy_pod(
            state,
            {**input, "name": f"{name}-pod-{index}", "dataCenterId": candidates[0]},
            gpu=gpu,
            gpu_count=per_pod,
            vcpu_count=gpu.vcpu_per_gpu * per_pod,
            memory_in_gb=gpu.memory_per_gpu_gb * per_pod,
            unit_price=gpu.secure_price,
            secure_cloud=True,
            spot=False,
            candidates=candidates,
        )
        pod.cluster_id, pod.cluster_ip = cluster.id, f"10.65.0.{index + 2}"
        cluster.pod_ids.append(pod.id)
    state.clusters[cluster.id] = cluster
    return _cluster_view(state, cluster)


def _cluster_view(state: State, cluster: Cluster) -> Json:
    now = settle(state)
    pods = [state.pods[pod_id] for pod_id in cluster.pod_ids if pod_id in state.pods]
    return {"id": cluster.id, "name": cluster.name, "pods": [pod_view(state, p, now) for p in pods]}


@BINDINGS.field("Mutation.deleteCluster")
def _delete(state: State, input: Input) -> bool:
    """Terminate the cluster's pods and forget the cluster."""
    cluster = get_or_not_found(state.clusters, input.get("id"), Cluster.KIND)
    now = settle(state)
    for pod in state.live_pods().values():
        if pod.cluster_id == cluster.id:
            pod.set_phase("terminated", now, "Terminated by User")
    del state.clusters[cluster.id]
    return True
