"""`rp.pods`: keyword arguments in, REST v2's `Pod` out, waits and the log stream.

REST v2 serves the pod: create (on demand), get, list, edit (PATCH), the lifecycle
actions (start, stop, restart) and delete, and its `Pod` carries what GraphQL's
lacks: a lifecycle `status` (PROVISIONING, STARTING, RUNNING, EXITED, ERROR,
TERMINATED) and the `actions` that status allows. GraphQL serves what v2 lacks --
spot (interruptible) pods and their bid resume -- and the helper then reads the pod
back through v2, so every helper answers with the same model. Each helper is one
flow (the shape every namespace shares: `_control.py`), run by `Pods` and
`AsyncPods` under their one driver; `logs` is the pod's log stream (server-sent
events, resumable), an iterator of `LogEvent` like `job.stream()`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from typing_extensions import TypedDict, Unpack

from runpod_typed._control import (
    AsyncNamespace,
    Events,
    ResourceFlows,
    SyncNamespace,
    Timed,
    answered,
    async_helper,
    async_stream_helper,
    env_input,
    given,
    helper,
    stream_helper,
)
from runpod_typed._deadline import Deadline, remaining
from runpod_typed._errors import InvalidRequestError, PodFailed, PodNotFound
from runpod_typed._flow import Effect, Flow, Sleep
from runpod_typed._generated.graphql import CloudTypeEnum
from runpod_typed._generated.graphql import input_types as inputs
from runpod_typed._generated.rest.models import (
    BaseContainerConfigEnv,
    Cloud,
    CreateGpuConfig,
    CreatePodRequest,
    LogEvent,
    LogSource,
    Mounts,
    NetworkMount,
    PersistentMount,
    Pod,
    PodAction,
    PodActionRequest,
    PodStatus,
    UpdatePodRequest,
)
from runpod_typed._generated.rest.types import UNSET
from runpod_typed._polling import Backoff, PollingOptions

if TYPE_CHECKING:
    from runpod_typed._generated.graphql.flows import RunpodGraphQLFlows
    from runpod_typed._generated.rest.flows import RestFlows

__all__ = ["AsyncPods", "PodEdit", "PodFailed", "PodFlows", "PodNotFound", "PodSpec", "Pods"]


class PodSpec(TypedDict, total=False):
    """What to deploy; what is left out (or None) takes RunPod's default."""

    image_name: str | None
    gpu_type_id: str | None
    gpu_count: int | None
    cloud_type: CloudTypeEnum | None
    """SECURE or COMMUNITY (RunPod's default, SECURE, when left out or ALL)."""
    container_disk_in_gb: int | None
    volume_in_gb: int | None
    volume_mount_path: str | None
    ports: str | None
    """``"8888/http,22/tcp"``."""
    env: Mapping[str, str] | None
    template_id: str | None
    container_registry_auth_id: str | None
    """Credentials (see `rp.registries`) for a private image."""
    network_volume_id: str | None
    data_center_id: str | None
    docker_args: str | None
    bid_per_gpu: float | None
    """With a bid, the pod is a spot (interruptible) pod at that price per GPU-hour."""


class PodEdit(TypedDict, total=False):
    """What `edit` may change on a pod; what is left out (or None) keeps its value."""

    name: str | None
    image_name: str | None
    container_disk_in_gb: int | None
    volume_in_gb: int | None
    """The pod volume in GB; it can only grow."""
    volume_mount_path: str | None
    docker_args: str | None
    env: Mapping[str, str] | None
    """The container's environment (replaces it)."""
    ports: str | None
    container_registry_auth_id: str | None
    locked: bool | None
    """A locked pod refuses stop and terminate until unlocked."""


#: What `get` says of a pod RunPod does not know.
FOUND_NO_MORE = "(it may have been terminated)"
_DEFAULT_MOUNT = "/workspace"
#: The clouds v2 deploys to by name (GraphQL's ALL is v2's default).
_CLOUDS = frozenset({"SECURE", "COMMUNITY"})


def _ports(ports: str | None) -> list[str] | Any:
    if ports is None:
        return UNSET
    return [port.strip() for port in ports.split(",") if port.strip()]


def _env(env: Mapping[str, str] | None) -> BaseContainerConfigEnv | Any:
    if env is None:
        return UNSET
    model = BaseContainerConfigEnv()
    model.additional_properties = {str(k): str(v) for k, v in env.items()}
    return model


def _or_unset(value: Any) -> Any:
    return UNSET if value is None else value


def _container(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The container settings v2's create and update bodies share, from the keyword spec."""
    return {
        "image": _or_unset(fields.get("image_name")),
        "args": _or_unset(fields.get("docker_args")),
        "disk": _or_unset(fields.get("container_disk_in_gb")),
        "env": _env(fields.get("env")),
        "ports": _ports(fields.get("ports")),
        "registry": _or_unset(fields.get("container_registry_auth_id")),
    }


def _create_request(name: str, spec: PodSpec) -> CreatePodRequest:
    """v2's create body from the keyword spec (GraphQL's names, kept for compatibility)."""
    if not spec.get("image_name") and not spec.get("template_id"):
        raise InvalidRequestError("a pod needs image_name= or template_id=")
    gpu_type_id = spec.get("gpu_type_id")
    if not gpu_type_id:
        raise InvalidRequestError("a pod needs gpu_type_id= (see rp.catalog.gpus())")
    gpu_count = _gpu_count(spec)
    persistent: Any = UNSET
    if spec.get("volume_in_gb"):
        path = spec.get("volume_mount_path") or _DEFAULT_MOUNT
        persistent = PersistentMount(path=path, size=int(spec["volume_in_gb"] or 0))
    network: Any = UNSET
    if spec.get("network_volume_id"):
        path = spec.get("volume_mount_path") or _DEFAULT_MOUNT
        network = [NetworkMount(path=path, volume_id=str(spec["network_volume_id"]))]
    mounts = Mounts(network=network, persistent=persistent) if persistent or network else UNSET
    cloud = spec.get("cloud_type")
    data_center = spec.get("data_center_id")
    return CreatePodRequest(
        name=name,
        **_container(spec),
        cloud=Cloud(cloud.value) if cloud is not None and cloud.value in _CLOUDS else UNSET,
        data_center_ids=[data_center] if data_center else UNSET,
        gpu=CreateGpuConfig(id=gpu_type_id, count=gpu_count),
        mounts=mounts,
        template_id=_or_unset(spec.get("template_id")),
    )


def _gpu_count(spec: PodSpec) -> int:
    gpu_count = spec.get("gpu_count", 1)
    if gpu_count is None:
        return 1
    if isinstance(gpu_count, bool) or not isinstance(gpu_count, int) or gpu_count < 1:
        raise InvalidRequestError(f"gpu_count must be an int >= 1, got {gpu_count!r}")
    return gpu_count


def _spot_input(name: str, spec: PodSpec) -> inputs.PodRentInterruptableInput:
    """GraphQL's spot-pod input (v2 has no spot pods)."""
    if not spec.get("image_name") and not spec.get("template_id"):
        raise InvalidRequestError("a pod needs image_name= or template_id=")
    fields = given({**spec, "name": name, "gpu_count": _gpu_count(spec)})
    fields["cloud_type"] = spec.get("cloud_type") or CloudTypeEnum.ALL
    if "env" in fields:
        fields["env"] = env_input(fields["env"])
    return inputs.PodRentInterruptableInput(**fields)


class PodFlows(ResourceFlows):
    """Every pod helper as a flow over the generated REST v2 (and GraphQL) flows."""

    not_found = PodNotFound

    def __init__(
        self,
        graphql: RunpodGraphQLFlows[Effect],
        polling: PollingOptions,
        rest: RestFlows[Effect] | None = None,
    ) -> None:
        super().__init__(graphql, rest)
        self.polling = polling

    def missing(self, resource_id: str, doing: str = "") -> PodNotFound:
        return PodNotFound(f"no pod with id {resource_id!r} {doing}".rstrip(), pod_id=resource_id)

    def list(self, *, include_cluster_pods: bool = False) -> Flow[list[Pod]]:
        """The account's pods (v2: `GET /v2/pods`; pods of instant clusters on request)."""
        answer = yield from self.rest.list_pods(include_cluster_pods=include_cluster_pods)
        return answer.pods

    def get(self, pod_id: str) -> Flow[Pod]:
        """One pod by id; `PodNotFound` if RunPod knows none (it may have been terminated)."""
        return (yield from self.about(pod_id, self.rest.get_pod(self.id(pod_id)), FOUND_NO_MORE))

    def create(self, *, name: str, **spec: Unpack[PodSpec]) -> Flow[Pod]:
        """Deploy a pod on demand (v2); with `bid_per_gpu`, a spot (interruptible) pod at that
        bid (GraphQL: v2 has no spot pods), read back through v2."""
        if spec.get("bid_per_gpu") is not None:
            spot = yield from self.graphql.create_spot_pod(input=_spot_input(name, spec))
            created = answered(spot.pod_rent_interruptable, "the pod")
            return (yield from self.get(answered(created.id, "the pod's id")))
        return (yield from self.rest.create_pod(body=_create_request(name, spec)))

    def edit(self, pod_id: str, **changes: Unpack[PodEdit]) -> Flow[Pod]:
        """Change a pod's name, lock or container settings (v2 PATCH); a running pod whose
        container changes restarts with them."""
        fields = given(changes)
        persistent: Any = UNSET
        if "volume_in_gb" in fields or "volume_mount_path" in fields:
            current = yield from self.get(pod_id)
            mount = current.mounts.persistent if current.mounts else UNSET
            size = fields.get("volume_in_gb", getattr(mount, "size", 0))
            path = fields.get("volume_mount_path", getattr(mount, "path", _DEFAULT_MOUNT))
            persistent = PersistentMount(path=path, size=int(size))
        body = UpdatePodRequest(
            name=_or_unset(fields.get("name")),
            **_container(fields),
            locked=_or_unset(fields.get("locked")),
            mounts=Mounts(persistent=persistent) if persistent else UNSET,
        )
        update = self.rest.update_pod(self.id(pod_id), body=body)
        return (yield from self.about(pod_id, update, "to edit"))

    def start(self, pod_id: str) -> Flow[Pod]:
        """Start a stopped (EXITED) pod again (a spot pod at its last bid)."""
        return self._act(pod_id, PodAction.START)

    def stop(self, pod_id: str) -> Flow[Pod]:
        """Stop a pod: its GPUs are released, its volume kept."""
        return self._act(pod_id, PodAction.STOP)

    def restart(self, pod_id: str) -> Flow[Pod]:
        """Restart a running (or failed) pod's container on the same machine."""
        return self._act(pod_id, PodAction.RESTART)

    def resume(
        self, pod_id: str, *, gpu_count: int = 1, bid_per_gpu: float | None = None
    ) -> Flow[Pod]:
        """Start a stopped pod again: v2's start, or GraphQL's resume for another GPU count
        or a spot pod's new `bid_per_gpu` (v2 has neither)."""
        if bid_per_gpu is None and gpu_count == 1:
            return (yield from self.start(pod_id))
        if bid_per_gpu is None:
            resume = inputs.PodResumeInput(pod_id=self.id(pod_id), gpu_count=gpu_count)
            resumed = yield from self.about(
                pod_id, self.graphql.resume_pod(input=resume), "to resume"
            )
            self.found(resumed.pod_resume, pod_id, "to resume")
        else:
            bid = inputs.PodBidResumeInput(
                pod_id=self.id(pod_id), gpu_count=gpu_count, bid_per_gpu=bid_per_gpu
            )
            bid_resumed = yield from self.about(
                pod_id, self.graphql.bid_resume_pod(input=bid), "to resume"
            )
            self.found(bid_resumed.pod_bid_resume, pod_id, "to resume")
        return (yield from self.get(pod_id))

    def terminate(self, pod_id: str) -> Flow[None]:
        """Terminate a pod for good (its container and volume are deleted)."""
        yield from self.about(pod_id, self.rest.delete_pod(self.id(pod_id)), "to terminate")

    def logs(
        self,
        pod_id: str,
        *,
        source: LogSource | None = None,
        tail: int = 100,
        since: datetime.datetime | None = None,
    ) -> Events[LogEvent]:
        """The pod's log as it is written: the last `tail` lines (or those `since`), then each
        new one; `source` picks system or container lines. Reconnects where it left off;
        ends when the pod is terminated or the caller stops iterating (which closes the
        connection). Unknown pod: `PodNotFound` when iteration starts."""
        flow = self.rest.get_pod_logs(
            self.id(pod_id),
            source=_or_unset(source),
            tail=tail,
            since=_or_unset(since),
        )
        return Events(self.about(pod_id, flow, "to follow"))

    def wait_until_running(
        self, pod_id: str, *, polling: PollingOptions | None = None, timeout: float | None = None
    ) -> Timed[Pod]:
        """Poll until the pod is RUNNING; `PodFailed` at once if it goes to ERROR,
        `WaitTimeout` after `timeout`."""
        return self._wait(pod_id, PodStatus.RUNNING, polling, timeout)

    def wait_until_stopped(
        self, pod_id: str, *, polling: PollingOptions | None = None, timeout: float | None = None
    ) -> Timed[Pod]:
        """Poll until the pod has stopped (EXITED); `WaitTimeout` after `timeout`."""
        return self._wait(pod_id, PodStatus.EXITED, polling, timeout)

    def _act(self, pod_id: str, action: PodAction) -> Flow[Pod]:
        act = self.rest.pod_action(self.id(pod_id), body=PodActionRequest(action=action))
        pod = yield from self.about(pod_id, act, f"to {action.value}")
        if pod is None:  # v2 may answer 204: read the pod
            pod = yield from self.get(pod_id)
        return pod

    def _wait(
        self,
        pod_id: str,
        wanted: PodStatus,
        polling: PollingOptions | None,
        timeout: float | None,
    ) -> Timed[Pod]:
        """The wait for the pod to be `wanted`, and the deadline its driver must hold."""
        options = polling or self.polling
        deadline = options.deadline(timeout, f"pod {pod_id} to be {wanted.value}")
        return Timed(self._poll(pod_id, wanted, options, deadline), deadline)

    def _poll(
        self, pod_id: str, wanted: PodStatus, options: PollingOptions, deadline: Deadline | None
    ) -> Flow[Pod]:
        """Poll the pod until its status is `wanted`; ERROR fails a wait for RUNNING."""
        backoff = Backoff(options)
        while True:
            pod = yield from self.get(pod_id)
            if pod.status is wanted:
                return pod
            if pod.status is PodStatus.TERMINATED:
                raise PodNotFound(
                    f"pod {pod_id} was terminated while waiting for it to be {wanted.value}",
                    pod_id=pod_id,
                )
            if pod.status is PodStatus.ERROR and wanted is PodStatus.RUNNING:
                allowed = ", ".join(str(a) for a in pod.actions) or "none"
                raise PodFailed(
                    f"pod {pod_id} ({pod.image or 'no image'}) failed to start: status ERROR "
                    f"(allowed actions: {allowed}; rp.pods.logs({pod_id!r}) says why)",
                    pod_id=pod_id,
                    status=str(pod.status),
                    pod=pod,
                )
            yield Sleep(min(backoff.delay(), remaining(deadline)))


class Pods(SyncNamespace[PodFlows]):
    """`rp.pods`: list, get, create (on-demand or spot), edit, start/stop/restart, resume,
    terminate, wait, logs."""

    list = helper(PodFlows.list)
    get = helper(PodFlows.get)
    create = helper(PodFlows.create)
    edit = helper(PodFlows.edit)
    update = helper(PodFlows.edit)
    start = helper(PodFlows.start)
    stop = helper(PodFlows.stop)
    restart = helper(PodFlows.restart)
    resume = helper(PodFlows.resume)
    terminate = helper(PodFlows.terminate)
    delete = helper(PodFlows.terminate)
    wait_until_running = helper(PodFlows.wait_until_running)
    wait_until_stopped = helper(PodFlows.wait_until_stopped)
    logs = stream_helper(PodFlows.logs)


class AsyncPods(AsyncNamespace[PodFlows]):
    """`rp.pods` of `AsyncRunpod`: the same helpers, awaitable; `logs` for `async for`."""

    list = async_helper(PodFlows.list)
    get = async_helper(PodFlows.get)
    create = async_helper(PodFlows.create)
    edit = async_helper(PodFlows.edit)
    update = async_helper(PodFlows.edit)
    start = async_helper(PodFlows.start)
    stop = async_helper(PodFlows.stop)
    restart = async_helper(PodFlows.restart)
    resume = async_helper(PodFlows.resume)
    terminate = async_helper(PodFlows.terminate)
    delete = async_helper(PodFlows.terminate)
    wait_until_running = async_helper(PodFlows.wait_until_running)
    wait_until_stopped = async_helper(PodFlows.wait_until_stopped)
    logs = async_stream_helper(PodFlows.logs)
