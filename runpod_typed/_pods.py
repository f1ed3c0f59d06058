"""`rp.pods`: keyword arguments in, generated models out, and waits for a pod's state.

The generated GraphQL client already types every operation; this adds what it
cannot: friendly keyword arguments for the common actions, unwrapping of the
answer, RunPod's "not found" as `PodNotFound`, and `wait_until_running` /
`wait_until_stopped` (polling with the same `PollingOptions` as jobs). Each helper is
one flow over the generated flow client (the shape every namespace shares:
`_control.py`), which `Pods` and `AsyncPods` run under their one driver.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from typing_extensions import TypedDict, Unpack

from runpod_typed._control import (
    AsyncNamespace,
    ResourceFlows,
    SyncNamespace,
    Timed,
    answered,
    async_helper,
    env_input,
    given,
    helper,
    present,
)
from runpod_typed._deadline import Deadline, remaining
from runpod_typed._errors import InvalidRequestError, PodNotFound
from runpod_typed._flow import Effect, Flow, Sleep
from runpod_typed._generated.graphql import CloudTypeEnum, PodStatus
from runpod_typed._generated.graphql import input_types as inputs
from runpod_typed._polling import Backoff, PollingOptions

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import PodFields
    from runpod_typed._generated.graphql.flows import RunpodGraphQLFlows

__all__ = ["AsyncPods", "PodEdit", "PodFlows", "PodNotFound", "PodSpec", "Pods"]


class PodSpec(TypedDict, total=False):
    """What to deploy; what is left out (or None) takes RunPod's default."""

    image_name: str | None
    gpu_type_id: str | None
    gpu_count: int | None
    cloud_type: CloudTypeEnum | None
    """Where to deploy (`CloudTypeEnum.ALL` when left out)."""
    container_disk_in_gb: int | None
    volume_in_gb: int | None
    volume_mount_path: str | None
    ports: str | None
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


#: What `get` says of a pod RunPod does not know.
FOUND_NO_MORE = "(it may have been terminated)"


def _create_fields(name: str, spec: PodSpec) -> dict[str, Any]:
    if not spec.get("image_name") and not spec.get("template_id"):
        raise InvalidRequestError("a pod needs image_name= or template_id=")
    gpu_count = spec.get("gpu_count", 1)
    if isinstance(gpu_count, bool) or not isinstance(gpu_count, int) or gpu_count < 1:
        raise InvalidRequestError(f"gpu_count must be an int >= 1, got {gpu_count!r}")
    fields = given({**spec, "name": name, "gpu_count": gpu_count})
    fields["cloud_type"] = spec.get("cloud_type") or CloudTypeEnum.ALL
    if "env" in fields:
        fields["env"] = env_input(fields["env"])
    return fields


class PodFlows(ResourceFlows):
    """Every pod helper as a flow over the generated flow client."""

    not_found = PodNotFound

    def __init__(self, graphql: RunpodGraphQLFlows[Effect], polling: PollingOptions) -> None:
        super().__init__(graphql)
        self.polling = polling

    def missing(self, resource_id: str, doing: str = "") -> PodNotFound:
        return PodNotFound(f"no pod with id {resource_id!r} {doing}".rstrip(), pod_id=resource_id)

    def list(self) -> Flow[list[PodFields]]:
        """The account's pods."""
        answer = yield from self.graphql.pods()
        return present(answer.myself.pods if answer.myself else None)

    def get(self, pod_id: str) -> Flow[PodFields]:
        """One pod by id; `PodNotFound` if RunPod knows none (it may have been terminated)."""
        wanted = inputs.PodFilter(pod_id=self.id(pod_id))
        answer = yield from self.about(pod_id, self.graphql.pod(input=wanted), FOUND_NO_MORE)
        return self.found(answer.pod, pod_id, FOUND_NO_MORE)

    def create(self, *, name: str, **spec: Unpack[PodSpec]) -> Flow[PodFields]:
        """Deploy a pod; with `bid_per_gpu` it is a spot (interruptible) pod at that bid."""
        fields = _create_fields(name, spec)
        if spec.get("bid_per_gpu") is not None:
            spot = yield from self.graphql.create_spot_pod(
                input=inputs.PodRentInterruptableInput(**fields)
            )
            return answered(spot.pod_rent_interruptable, "the pod")
        fields.pop("bid_per_gpu", None)
        demand = yield from self.graphql.create_pod(
            input=inputs.PodFindAndDeployOnDemandInput(**fields)
        )
        return answered(demand.pod_find_and_deploy_on_demand, "the pod")

    def edit(self, pod_id: str, **changes: Unpack[PodEdit]) -> Flow[PodFields]:
        """Change a pod's container settings; a running pod restarts with them."""
        fields = given(changes)
        if "env" in fields:
            fields["env"] = env_input(fields["env"])
        change = inputs.PodEditJobInput(pod_id=self.id(pod_id), **fields)
        answer = yield from self.about(pod_id, self.graphql.edit_pod(input=change), "to edit")
        return self.found(answer.pod_edit_job, pod_id, "to edit")

    def stop(self, pod_id: str) -> Flow[PodFields]:
        """Stop a pod: its GPUs are released, its volume kept."""
        stop = self.graphql.stop_pod(input=inputs.PodStopInput(pod_id=self.id(pod_id)))
        answer = yield from self.about(pod_id, stop, "to stop")
        return self.found(answer.pod_stop, pod_id, "to stop")

    def resume(
        self, pod_id: str, *, gpu_count: int = 1, bid_per_gpu: float | None = None
    ) -> Flow[PodFields]:
        """Start a stopped pod again (a spot pod with a new `bid_per_gpu`)."""
        if bid_per_gpu is None:
            resume = inputs.PodResumeInput(pod_id=self.id(pod_id), gpu_count=gpu_count)
            resumed = yield from self.about(
                pod_id, self.graphql.resume_pod(input=resume), "to resume"
            )
            pod = resumed.pod_resume
        else:
            bid = inputs.PodBidResumeInput(
                pod_id=self.id(pod_id), gpu_count=gpu_count, bid_per_gpu=bid_per_gpu
            )
            bid_resumed = yield from self.about(
                pod_id, self.graphql.bid_resume_pod(input=bid), "to resume"
            )
            pod = bid_resumed.pod_bid_resume
        return self.found(pod, pod_id, "to resume")

    def terminate(self, pod_id: str) -> Flow[None]:
        """Terminate a pod for good (its container and volume are deleted)."""
        terminate = self.graphql.terminate_pod(
            input=inputs.PodTerminateInput(pod_id=self.id(pod_id))
        )
        yield from self.about(pod_id, terminate, "to terminate")

    def wait_until_running(
        self, pod_id: str, *, polling: PollingOptions | None = None, timeout: float | None = None
    ) -> Timed[PodFields]:
        """Poll until the pod runs with its runtime up; `WaitTimeout` after `timeout`."""
        return self._wait(pod_id, PodStatus.RUNNING, polling, timeout)

    def wait_until_stopped(
        self, pod_id: str, *, polling: PollingOptions | None = None, timeout: float | None = None
    ) -> Timed[PodFields]:
        """Poll until the pod has stopped (EXITED); `WaitTimeout` after `timeout`."""
        return self._wait(pod_id, PodStatus.EXITED, polling, timeout)

    def _wait(
        self,
        pod_id: str,
        wanted: PodStatus,
        polling: PollingOptions | None,
        timeout: float | None,
    ) -> Timed[PodFields]:
        """The wait for the pod to be `wanted`, and the deadline its driver must hold."""
        options = polling or self.polling
        deadline = options.deadline(timeout, f"pod {pod_id} to be {wanted.value}")
        return Timed(self._poll(pod_id, wanted, options, deadline), deadline)

    def _poll(
        self, pod_id: str, wanted: PodStatus, options: PollingOptions, deadline: Deadline | None
    ) -> Flow[PodFields]:
        """Poll the pod until its status is `wanted` (RUNNING also needs its runtime up)."""
        backoff = Backoff(options)
        while True:
            pod = yield from self.get(pod_id)
            status = pod.desired_status
            if status is wanted and (wanted is not PodStatus.RUNNING or pod.runtime is not None):
                return pod
            if status is PodStatus.TERMINATED:
                raise PodNotFound(
                    f"pod {pod_id} was terminated while waiting for it to be {wanted.value}",
                    pod_id=pod_id,
                )
            yield Sleep(min(backoff.delay(), remaining(deadline)))


class Pods(SyncNamespace[PodFlows]):
    """`rp.pods`: list, get, create (on-demand or spot), edit, stop, resume, terminate, wait."""

    list = helper(PodFlows.list)
    get = helper(PodFlows.get)
    create = helper(PodFlows.create)
    edit = helper(PodFlows.edit)
    stop = helper(PodFlows.stop)
    resume = helper(PodFlows.resume)
    terminate = helper(PodFlows.terminate)
    wait_until_running = helper(PodFlows.wait_until_running)
    wait_until_stopped = helper(PodFlows.wait_until_stopped)


class AsyncPods(AsyncNamespace[PodFlows]):
    """`rp.pods` of `AsyncRunpod`: the same helpers, awaitable."""

    list = async_helper(PodFlows.list)
    get = async_helper(PodFlows.get)
    create = async_helper(PodFlows.create)
    edit = async_helper(PodFlows.edit)
    stop = async_helper(PodFlows.stop)
    resume = async_helper(PodFlows.resume)
    terminate = async_helper(PodFlows.terminate)
    wait_until_running = async_helper(PodFlows.wait_until_running)
    wait_until_stopped = async_helper(PodFlows.wait_until_stopped)
