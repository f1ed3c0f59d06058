"""Must FAIL mypy --strict: every line marked `# E:` is an error, and no other line is.

tests/unit/test_typing.py checks both, so each mistake below stays one that a
user's type checker catches (and the checks cannot pass by failing elsewhere).
"""

from __future__ import annotations

import pydantic

from runpod_typed import AsyncRunpod, PollingOptions, RetryPolicy, Runpod, RunpodFactory
from runpod_typed.graphql import CloudTypeEnum


class Image(pydantic.BaseModel):
    url: str


def wrong(rp: Runpod) -> str:
    return rp.endpoint("abc").run_sync({"p": 1}, output_type=Image)  # E: Image is not str


def misspelt_and_mistyped_options() -> None:
    Runpod(tiemout=3)  # E: no option "tiemout"
    Runpod(polling="fast")  # E: polling is a PollingOptions
    Runpod(retry=5)  # E: retry is a RetryPolicy
    Runpod(timeout="30")  # E: timeout is a number
    AsyncRunpod(rate_limits="on")  # E: rate_limits is a bool or a RateLimiter
    AsyncRunpod(cancel_on_exit=None)  # E: cancel_on_exit is a bool
    RunpodFactory(api_key="k")  # E: a factory takes each tenant's key in client()
    RunpodFactory(polling=RetryPolicy())  # E: a RetryPolicy is not a PollingOptions
    Runpod(retry=PollingOptions())  # E: and the other way round


def generated_operations_take_only_their_variables(rp: Runpod) -> None:
    rp.graphql.myself(bogus=1)  # E: myself has no variables
    rp.graphql.pods(timeout=3)  # E: no catch-all **kwargs either


def pod_helpers_take_enums(rp: Runpod) -> None:
    rp.pods.create(name="x", image_name="img", cloud_type=CloudTypeEnum.SECURE)
    rp.pods.create(name="x", image_name="img", cloud_type="SECURE")  # E: a str, not the enum


def control_plane_namespaces_are_typed(rp: Runpod) -> None:
    rp.templates.create(name="t")  # E: image_name is required
    rp.templates.update("tpl", imageName="img")  # E: Python names, not RunPod's camelCase
    rp.endpoints.create(name="e", type="XB")  # E: the type is "QB" or "LB"
    rp.endpoints.create(name="e", scaler_type="FAST")  # E: not a scaler type
    rp.endpoints.get(42)  # E: an id is a str
    rp.volumes.create(name="v", size="10", data_center_id="EU-RO-1")  # E: size is an int
    rp.secrets.create(name="s")  # E: a secret needs its value
    rp.clusters.create(name="c", gpu_type_id="H100", pod_count=2, gpu_count_per_pod=8)  # E: cost
    rp.catalog.gpu_types(gpu_count="2")  # E: gpu_count is an int
    rp.pods.edit("pod", bid_per_gpu=0.2)  # E: not something edit changes


async def async_namespaces_must_be_awaited(rp: AsyncRunpod) -> None:
    from runpod_typed.graphql import SecretFields

    secret: SecretFields = rp.secrets.get("s")  # E: a coroutine until awaited
    print(secret)
