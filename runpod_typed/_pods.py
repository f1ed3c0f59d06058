"""Pod helpers on the control plane: keyword arguments in, generated models out.

The generated GraphQL client already types every operation; this adds what it
cannot: friendly keyword arguments for the common actions, unwrapping of the
answer, RunPod's "not found" as `PodNotFound`, and `wait_until_running` /
`wait_until_stopped` (polling with the same `PollingOptions` as jobs). Each
helper is one flow (see `_flow.py`) over the generated *flow* client, whose
operations `yield from` the GraphQL send: `Pods` and `AsyncPods` run the same
flow under their one driver.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from typing_extensions import TypedDict, Unpack

from runpod_typed._deadline import Deadline, remaining
from runpod_typed._errors import GraphQLError, InvalidRequestError, PodNotFound, RunpodError
from runpod_typed._flow import Effect, Flow, Sleep
from runpod_typed._generated.graphql import CloudTypeEnum, PodStatus
from runpod_typed._generated.graphql import input_types as inputs
from runpod_typed._graphql import says_not_found
from runpod_typed._polling import Backoff, PollingOptions

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import PodFields
    from runpod_typed._generated.graphql.flows import RunpodGraphQLFlows

T = TypeVar("T")

__all__ = ["AsyncPods", "PodNotFound", "PodSpec", "Pods"]


class PodFlows:
    """Every pod helper as a flow over the generated flow client."""

    def __init__(self, graphql: RunpodGraphQLFlows[Effect]) -> None:
        self.graphql = graphql

    def list(self) -> Flow[list[PodFields]]:
        answer = yield from self.graphql.pods()
        pods = answer.myself.pods if answer.myself else None
        return [pod for pod in pods or [] if pod is not None]

    def get(self, pod_id: str) -> Flow[PodFields]:
        wanted = inputs.PodFilter(pod_id=_pod_id(pod_id))
        answer = yield from _about_pod(self.graphql.pod(input=wanted), pod_id, FOUND_NO_MORE)
        return _found(answer.pod, pod_id, FOUND_NO_MORE)

    def create(self, spot: bool, fields: dict[str, Any]) -> Flow[PodFields]:
        env = fields.pop("env", None)
        if env is not None:
            fields["env"] = [
                inputs.EnvironmentVariableInput(key=str(key), value=str(value))
                for key, value in dict(env).items()
            ]
        clean = {key: value for key, value in fields.items() if value is not None}
        if spot:
            spot_answer = yield from self.graphql.create_spot_pod(
                input=inputs.PodRentInterruptableInput(**clean)
            )
            pod = spot_answer.pod_rent_interruptable
        else:
            demand_answer = yield from self.graphql.create_pod(
                input=inputs.PodFindAndDeployOnDemandInput(**clean)
            )
            pod = demand_answer.pod_find_and_deploy_on_demand
        if pod is None:
            raise RunpodError("RunPod accepted the deployment but returned no pod")
        return pod

    def stop(self, pod_id: str) -> Flow[PodFields]:
        stop = self.graphql.stop_pod(input=inputs.PodStopInput(pod_id=_pod_id(pod_id)))
        answer = yield from _about_pod(stop, pod_id, "to stop")
        return _found(answer.pod_stop, pod_id, "to stop")

    def resume(self, pod_id: str, gpu_count: int, bid_per_gpu: float | None) -> Flow[PodFields]:
        if bid_per_gpu is None:
            resume = inputs.PodResumeInput(pod_id=_pod_id(pod_id), gpu_count=gpu_count)
            resumed = yield from _about_pod(
                self.graphql.resume_pod(input=resume), pod_id, "to resume"
            )
            pod = resumed.pod_resume
        else:
            bid = inputs.PodBidResumeInput(
                pod_id=_pod_id(pod_id), gpu_count=gpu_count, bid_per_gpu=bid_per_gpu
            )
            bid_resumed = yield from _about_pod(
                self.graphql.bid_resume_pod(input=bid), pod_id, "to resume"
            )
            pod = bid_resumed.pod_bid_resume
        return _found(pod, pod_id, "to resume")

    def terminate(self, pod_id: str) -> Flow[None]:
        terminate = self.graphql.terminate_pod(
            input=inputs.PodTerminateInput(pod_id=_pod_id(pod_id))
        )
        yield from _about_pod(terminate, pod_id, "to terminate")

    def wait(
        self, pod_id: str, wanted: PodStatus, options: PollingOptions, timeout: float | None
    ) -> tuple[Flow[PodFields], Deadline | None]:
        """The wait for the pod to be `wanted`, and the deadline its driver must hold."""
        deadline = options.deadline(timeout, f"pod {pod_id} to be {wanted.value}")
        return self._poll(pod_id, wanted, options, deadline), deadline

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


class Drive(Protocol):
    """Runs a flow to its result with blocking I/O, every request and sleep within `deadline`."""

    def __call__(self, flow: Flow[T], /, *, deadline: Deadline | None = None) -> T: ...


class AsyncDrive(Protocol):
    """Runs a flow to its result with async I/O, every request and sleep within `deadline`."""

    def __call__(self, flow: Flow[T], /, *, deadline: Deadline | None = None) -> Awaitable[T]: ...


#: What `get` says of a pod RunPod does not know.
FOUND_NO_MORE = "(it may have been terminated)"


def _about_pod(operation: Flow[T], pod_id: str, doing: str) -> Flow[T]:
    """Run one operation on a pod; RunPod's "not found" answer becomes `PodNotFound`."""
    try:
        return (yield from operation)
    except GraphQLError as exc:
        if not says_not_found(exc):
            raise
        raise PodNotFound(_no_pod(pod_id, doing), pod_id=pod_id) from exc


def _found(pod: PodFields | None, pod_id: str, doing: str) -> PodFields:
    """The pod RunPod answered with; None means it knows no such pod."""
    if pod is None:
        raise PodNotFound(_no_pod(pod_id, doing), pod_id=pod_id)
    return pod


def _no_pod(pod_id: str, doing: str) -> str:
    return f"no pod with id {pod_id!r} {doing}"


def _pod_id(pod_id: str) -> str:
    if not isinstance(pod_id, str) or not pod_id.strip():
        raise InvalidRequestError(f"pod id must be a non-empty string, got {pod_id!r}")
    return pod_id


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
    """Credentials (see rp.account.create_registry_auth) for a private image."""
    network_volume_id: str | None
    data_center_id: str | None
    docker_args: str | None
    bid_per_gpu: float | None
    """With a bid, the pod is a spot (interruptible) pod at that price per GPU-hour."""


def _create_fields(name: str, spec: PodSpec) -> dict[str, Any]:
    if not spec.get("image_name") and not spec.get("template_id"):
        raise InvalidRequestError("a pod needs image_name= or template_id=")
    gpu_count = spec.get("gpu_count", 1)
    if isinstance(gpu_count, bool) or not isinstance(gpu_count, int) or gpu_count < 1:
        raise InvalidRequestError(f"gpu_count must be an int >= 1, got {gpu_count!r}")
    return {
        **spec,
        "name": name,
        "gpu_count": gpu_count,
        "cloud_type": spec.get("cloud_type") or CloudTypeEnum.ALL,
    }


class Pods:
    """`rp.pods`: list, get, create (on-demand or spot), stop, resume, terminate, wait."""

    def __init__(
        self, graphql: RunpodGraphQLFlows[Effect], polling: PollingOptions, drive: Drive
    ) -> None:
        self._flows = PodFlows(graphql)
        self._polling = polling
        self._drive = drive

    def list(self) -> list[PodFields]:
        return self._drive(self._flows.list())

    def get(self, pod_id: str) -> PodFields:
        return self._drive(self._flows.get(pod_id))

    def create(self, *, name: str, **spec: Unpack[PodSpec]) -> PodFields:
        """Deploy a pod; with `bid_per_gpu` it is a spot (interruptible) pod at that bid."""
        flow = self._flows.create(spec.get("bid_per_gpu") is not None, _create_fields(name, spec))
        return self._drive(flow)

    def stop(self, pod_id: str) -> PodFields:
        return self._drive(self._flows.stop(pod_id))

    def resume(
        self, pod_id: str, *, gpu_count: int = 1, bid_per_gpu: float | None = None
    ) -> PodFields:
        return self._drive(self._flows.resume(pod_id, gpu_count, bid_per_gpu))

    def terminate(self, pod_id: str) -> None:
        self._drive(self._flows.terminate(pod_id))

    def wait_until_running(
        self, pod_id: str, *, polling: PollingOptions | None = None, timeout: float | None = None
    ) -> PodFields:
        flow, deadline = self._flows.wait(
            pod_id, PodStatus.RUNNING, polling or self._polling, timeout
        )
        return self._drive(flow, deadline=deadline)

    def wait_until_stopped(
        self, pod_id: str, *, polling: PollingOptions | None = None, timeout: float | None = None
    ) -> PodFields:
        flow, deadline = self._flows.wait(
            pod_id, PodStatus.EXITED, polling or self._polling, timeout
        )
        return self._drive(flow, deadline=deadline)


class AsyncPods:
    """The awaitable twin of `Pods`."""

    def __init__(
        self, graphql: RunpodGraphQLFlows[Effect], polling: PollingOptions, drive: AsyncDrive
    ) -> None:
        self._flows = PodFlows(graphql)
        self._polling = polling
        self._drive = drive

    async def list(self) -> list[PodFields]:
        return await self._drive(self._flows.list())

    async def get(self, pod_id: str) -> PodFields:
        return await self._drive(self._flows.get(pod_id))

    async def create(self, *, name: str, **spec: Unpack[PodSpec]) -> PodFields:
        flow = self._flows.create(spec.get("bid_per_gpu") is not None, _create_fields(name, spec))
        return await self._drive(flow)

    async def stop(self, pod_id: str) -> PodFields:
        return await self._drive(self._flows.stop(pod_id))

    async def resume(
        self, pod_id: str, *, gpu_count: int = 1, bid_per_gpu: float | None = None
    ) -> PodFields:
        return await self._drive(self._flows.resume(pod_id, gpu_count, bid_per_gpu))

    async def terminate(self, pod_id: str) -> None:
        await self._drive(self._flows.terminate(pod_id))

    async def wait_until_running(
        self, pod_id: str, *, polling: PollingOptions | None = None, timeout: float | None = None
    ) -> PodFields:
        flow, deadline = self._flows.wait(
            pod_id, PodStatus.RUNNING, polling or self._polling, timeout
        )
        return await self._drive(flow, deadline=deadline)

    async def wait_until_stopped(
        self, pod_id: str, *, polling: PollingOptions | None = None, timeout: float | None = None
    ) -> PodFields:
        flow, deadline = self._flows.wait(
            pod_id, PodStatus.EXITED, polling or self._polling, timeout
        )
        return await self._drive(flow, deadline=deadline)
