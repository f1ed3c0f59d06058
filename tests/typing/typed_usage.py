"""Checked by mypy --strict (tests/unit/test_typing.py): output types flow through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pydantic
from typing_extensions import assert_type

from runpod_typed import AsyncJob, AsyncRunpod, Job, JobStatus, Runpod, RunpodError


class Image(pydantic.BaseModel):
    url: str


def sync_usage(rp: Runpod) -> None:
    ep = rp.endpoint("abc")
    assert_type(ep.run_sync({"p": 1}, output_type=Image), Image)
    assert_type(ep.run_sync({"p": 1}), Any)
    job = ep.run({"p": 1}, output_type=Image)
    assert_type(job, Job[Image])
    assert_type(job.output(), Image)
    assert_type(job.output(int), int)
    assert_type(ep.run({"p": 1}), Job[Any])
    assert_type(job.stream(str), Iterator[str])
    assert_type(job.status(), JobStatus)
    assert_type(ep.map([{"p": 1}], output_type=Image), list[Image])
    assert_type(
        ep.map([{"p": 1}], output_type=Image, return_exceptions=True), list[Image | RunpodError]
    )
    # A flag known only at run time, and no output_type at all, type-check too.
    flag = bool(len(rp.__class__.__name__) % 2)
    assert_type(ep.map([{"p": 1}]), list[Any])
    assert_type(ep.map([{"p": 1}], return_exceptions=flag), list[Any])
    assert_type(
        ep.map([{"p": 1}], output_type=Image, return_exceptions=flag),
        list[Image] | list[Image | RunpodError],
    )


async def async_usage(rp: AsyncRunpod) -> None:
    ep = rp.endpoint("abc")
    assert_type(await ep.run_sync({"p": 1}, output_type=Image), Image)
    job = await ep.run({"p": 1}, output_type=Image)
    assert_type(job, AsyncJob[Image])
    assert_type(await job.output(), Image)
    assert_type(job.stream(str), AsyncIterator[str])
    assert_type(await ep.map([{"p": 1}], output_type=int), list[int])
    assert_type(await ep.map([{"p": 1}], return_exceptions=True), list[Any])


def client_options() -> None:
    from runpod_typed import ClientOptions, PollingOptions, RetryPolicy, RunpodFactory

    options: ClientOptions = {"timeout": 10, "polling": PollingOptions(first_delay=0.5)}
    Runpod("key", **options)
    Runpod("key", retry=RetryPolicy(max_attempts=2), rate_limits=False, timeout=2.5)
    AsyncRunpod(api_base_url="http://127.0.0.1:8000", allow_insecure_http=True, debug=True)
    RunpodFactory(endpoint_base_url="https://api.runpod.ai/v2", cancel_on_exit=False)


def control_plane(rp: Runpod) -> None:
    from runpod_typed import PodFailed
    from runpod_typed.graphql import CloudTypeEnum, PodFields, PodFilter
    from runpod_typed.rest import (
        GpuType,
        ListPodBillingResponse,
        LogEvent,
        Pod,
        PodAction,
        PodStatus,
    )

    pod = rp.pods.create(name="x", image_name="img", cloud_type=CloudTypeEnum.SECURE)
    assert_type(pod, Pod)  # REST v2's model: lifecycle status and actions
    assert_type(pod.status, PodStatus)
    assert_type(pod.actions, list[PodAction])
    assert_type(rp.pods.list(), list[Pod])
    assert_type(rp.pods.start(pod.id), Pod)
    assert_type(rp.pods.restart(pod.id), Pod)
    assert_type(rp.pods.update(pod.id, name="y", locked=True), Pod)
    assert_type(rp.pods.logs(pod.id, tail=10), Iterator[LogEvent])
    assert_type(rp.billing.pods(pod_id=pod.id), ListPodBillingResponse)
    assert_type(rp.endpoints.worker_logs("ep", "worker"), Iterator[LogEvent])
    assert_type(rp.catalog.gpus(min_memory_gb=24), list[GpuType])
    try:
        rp.pods.wait_until_running(pod.id)
    except PodFailed as failed:
        assert_type(failed.status, str)
    assert_type(rp.graphql.pod(input=PodFilter(pod_id=pod.id)).pod, PodFields | None)


def control_plane_namespaces(rp: Runpod) -> None:
    from runpod_typed import ResourceNotFound, TemplateNotFound
    from runpod_typed.graphql import (
        ClusterFields,
        CpuAvailabilityCpuFlavorsSpecifics,
        CpuFlavorFields,
        EndpointFields,
        EndpointTemplateInput,
        FlashBootType,
        GpuTypesGpuTypes,
        LowestPriceFields,
        NetworkVolumeFields,
        RegistryAuthFields,
        SecretFields,
        TemplateFields,
        UserFields,
    )
    from runpod_typed.rest import Pod

    template = rp.templates.create(name="t", image_name="img", is_serverless=True, env={"A": "1"})
    assert_type(template, TemplateFields)
    assert_type(rp.templates.list(), list[TemplateFields])
    assert_type(rp.templates.update("tpl", readme="# hi"), TemplateFields)
    assert_type(rp.templates.delete("tpl"), None)
    endpoint = rp.endpoints.create(
        name="e",
        type="LB",
        template=EndpointTemplateInput(image_name="img"),
        gpu_ids="AMPERE_16",
        data_center_ids=["EU-RO-1"],
        network_volume_ids=["vol"],
        flash_boot_type=FlashBootType.FLASHBOOT,
    )
    assert_type(endpoint, EndpointFields)
    assert_type(rp.endpoints.get("ep"), EndpointFields)
    assert_type(rp.endpoints.update("ep", workers_max=0), EndpointFields)
    assert_type(rp.volumes.create(name="v", size=10, data_center_id="EU-RO-1"), NetworkVolumeFields)
    assert_type(rp.volumes.update("vol", size=20), NetworkVolumeFields)
    assert_type(rp.registries.get("c1"), RegistryAuthFields)
    assert_type(rp.secrets.create(name="s", value="v"), SecretFields)
    assert_type(rp.secrets.list(), list[SecretFields])
    cluster = rp.clusters.create(
        name="c", gpu_type_id="H100", pod_count=2, gpu_count_per_pod=8, deploy_cost=40.0
    )
    assert_type(cluster, ClusterFields)
    assert_type(rp.catalog.gpu_types(min_cuda_version="12.4"), list[GpuTypesGpuTypes])
    assert_type(rp.catalog.gpu_availability("H100", gpu_count=2), LowestPriceFields)
    assert_type(rp.catalog.cpu_flavor("cpu3c"), CpuFlavorFields)
    assert_type(rp.catalog.cpu_availability("cpu3c-2-4"), CpuAvailabilityCpuFlavorsSpecifics)
    assert_type(rp.catalog.country_codes(), list[str])
    assert_type(rp.pods.edit("pod", image_name="img:2"), Pod)
    assert_type(rp.account.user(), UserFields)
    try:
        rp.templates.get("tpl")
    except TemplateNotFound as missing:
        assert_type(missing.id, str)
    except ResourceNotFound as other:
        assert_type(other.kind, str)


async def async_control_plane_namespaces(rp: AsyncRunpod) -> None:
    from runpod_typed.graphql import EndpointFields, SecretFields
    from runpod_typed.rest import LogEvent, Pod

    assert_type(await rp.secrets.get("s"), SecretFields)
    assert_type(await rp.endpoints.list(), list[EndpointFields])
    assert_type(await rp.pods.wait_until_running("pod", timeout=60), Pod)
    assert_type(rp.pods.logs("pod"), AsyncIterator[LogEvent])
    assert_type(await rp.volumes.delete("vol"), None)
