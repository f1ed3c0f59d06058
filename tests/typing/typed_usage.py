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
    from runpod_typed.graphql import CloudTypeEnum, PodFields, PodFilter, PodStatus

    pod = rp.pods.create(name="x", image_name="img", cloud_type=CloudTypeEnum.SECURE)
    assert_type(pod, PodFields)
    assert_type(pod.desired_status, PodStatus)
    assert_type(rp.graphql.pod(input=PodFilter(pod_id=pod.id)).pod, PodFields | None)
