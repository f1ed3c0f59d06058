"""Pod helpers on the control plane: keyword arguments in, generated models out.

The generated GraphQL client already types every operation; this adds what it
cannot: friendly keyword arguments for the common actions, unwrapping of the
answer, and `wait_until_running` / `wait_until_stopped` (polling with the same
`PollingOptions` as jobs). Each helper is one flow (see `_flow.py`) whose
`Invoke` effects call the generated client, so `Pods` and `AsyncPods` share it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from typing_extensions import TypedDict, Unpack

from runpod_typed._errors import InvalidRequestError, RunpodError
from runpod_typed._flow import AsyncDrive, Drive, Flow, Invoke, Sleep
from runpod_typed._polling import Backoff, PollingOptions, remaining

if TYPE_CHECKING:
    from runpod_typed._generated.graphql import (
        BidResumePod,
        CreatePod,
        CreateSpotPod,
        Pod,
        PodFields,
        ResumePod,
        StopPod,
    )
    from runpod_typed._generated.graphql import (
        Pods as PodsAnswer,
    )
    from runpod_typed._generated.graphql.async_client import AsyncRunpodGraphQLClient
    from runpod_typed._generated.graphql.client import RunpodGraphQLClient

T = TypeVar("T")


class PodNotFound(RunpodError, LookupError):
    """The control plane knows no pod with this id (or it was terminated)."""


class PodFlows:
    """Every pod helper as a flow over one generated client (sync or async)."""

    def __init__(self, graphql: RunpodGraphQLClient | AsyncRunpodGraphQLClient) -> None:
        self.graphql = graphql

    def list(self) -> Flow[list[PodFields]]:
        answer: PodsAnswer = yield Invoke(self.graphql.pods)
        pods = answer.myself.pods if answer.myself else None
        return [pod for pod in pods or [] if pod is not None]

    def get(self, pod_id: str) -> Flow[PodFields]:
        from runpod_typed._generated.graphql.input_types import PodFilter

        answer: Pod = yield Invoke(
            lambda: self.graphql.pod(input=PodFilter(pod_id=_pod_id(pod_id)))
        )
        return _found(answer.pod, pod_id, "(it may have been terminated)")

    def create(self, spot: bool, fields: dict[str, Any]) -> Flow[PodFields]:
        from runpod_typed._generated.graphql import input_types as inputs

        env = fields.pop("env", None)
        if env is not None:
            fields["env"] = [
                inputs.EnvironmentVariableInput(key=str(key), value=str(value))
                for key, value in dict(env).items()
            ]
        clean = {key: value for key, value in fields.items() if value is not None}
        if spot:
            spot_input = inputs.PodRentInterruptableInput(**clean)
            spot_answer: CreateSpotPod = yield Invoke(
                lambda: self.graphql.create_spot_pod(input=spot_input)
            )
            pod = spot_answer.pod_rent_interruptable
        else:
            demand_input = inputs.PodFindAndDeployOnDemandInput(**clean)
            demand_answer: CreatePod = yield Invoke(
                lambda: self.graphql.create_pod(input=demand_input)
            )
            pod = demand_answer.pod_find_and_deploy_on_demand
        if pod is None:
            raise RunpodError("RunPod accepted the deployment but returned no pod")
        return pod

    def stop(self, pod_id: str) -> Flow[PodFields]:
        from runpod_typed._generated.graphql.input_types import PodStopInput

        answer: StopPod = yield Invoke(
            lambda: self.graphql.stop_pod(input=PodStopInput(pod_id=_pod_id(pod_id)))
        )
        return _found(answer.pod_stop, pod_id, "to stop")

    def resume(self, pod_id: str, gpu_count: int, bid_per_gpu: float | None) -> Flow[PodFields]:
        from runpod_typed._generated.graphql import input_types as inputs

        if bid_per_gpu is None:
            resume = inputs.PodResumeInput(pod_id=_pod_id(pod_id), gpu_count=gpu_count)
            resumed: ResumePod = yield Invoke(lambda: self.graphql.resume_pod(input=resume))
            pod = resumed.pod_resume
        else:
            bid = inputs.PodBidResumeInput(
                pod_id=_pod_id(pod_id), gpu_count=gpu_count, bid_per_gpu=bid_per_gpu
            )
            bid_resumed: BidResumePod = yield Invoke(lambda: self.graphql.bid_resume_pod(input=bid))
            pod = bid_resumed.pod_bid_resume
        return _found(pod, pod_id, "to resume")

    def terminate(self, pod_id: str) -> Flow[None]:
        from runpod_typed._generated.graphql.input_types import PodTerminateInput

        yield Invoke(
            lambda: self.graphql.terminate_pod(input=PodTerminateInput(pod_id=_pod_id(pod_id)))
        )

    def wait(
        self, pod_id: str, wanted: str, options: PollingOptions, timeout: float | None
    ) -> Flow[PodFields]:
        """Poll the pod until its status is `wanted` (RUNNING also needs its runtime up)."""
        deadline = options.deadline(timeout, time.monotonic())
        backoff = Backoff(options)
        what = f"pod {pod_id} to be {wanted}"
        while True:
            pod = yield from self.get(pod_id)
            status = str(pod.desired_status.value) if pod.desired_status else None
            if status == wanted and (wanted != "RUNNING" or pod.runtime is not None):
                return pod
            if status == "TERMINATED":
                raise PodNotFound(
                    f"pod {pod_id} was terminated while waiting for it to be {wanted}"
                )
            yield Sleep(min(backoff.delay(), remaining(deadline, what)))


def _found(pod: PodFields | None, pod_id: str, doing: str) -> PodFields:
    """The pod RunPod answered with; None means it knows no such pod."""
    if pod is None:
        raise PodNotFound(f"no pod with id {pod_id!r} {doing}")
    return pod


def _pod_id(pod_id: str) -> str:
    if not isinstance(pod_id, str) or not pod_id.strip():
        raise InvalidRequestError(f"pod id must be a non-empty string, got {pod_id!r}")
    return pod_id


class PodSpec(TypedDict, total=False):
    """What to deploy; what is left out (or None) takes RunPod's default."""

    image_name: str | None
    gpu_type_id: str | None
    gpu_count: int | None
    cloud_type: str | None
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
        "cloud_type": spec.get("cloud_type") or "ALL",
    }


class Pods:
    """`rp.pods`: list, get, create (on-demand or spot), stop, resume, terminate, wait."""

    def __init__(self, graphql: Any, polling: PollingOptions, drive: Drive) -> None:
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
        flow = self._flows.wait(pod_id, "RUNNING", polling or self._polling, timeout)
        return self._drive(flow)

    def wait_until_stopped(
        self, pod_id: str, *, polling: PollingOptions | None = None, timeout: float | None = None
    ) -> PodFields:
        flow = self._flows.wait(pod_id, "EXITED", polling or self._polling, timeout)
        return self._drive(flow)


class AsyncPods:
    """The awaitable twin of `Pods`."""

    def __init__(self, graphql: Any, polling: PollingOptions, drive: AsyncDrive) -> None:
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
        flow = self._flows.wait(pod_id, "RUNNING", polling or self._polling, timeout)
        return await self._drive(flow)

    async def wait_until_stopped(
        self, pod_id: str, *, polling: PollingOptions | None = None, timeout: float | None = None
    ) -> PodFields:
        flow = self._flows.wait(pod_id, "EXITED", polling or self._polling, timeout)
        return await self._drive(flow)
