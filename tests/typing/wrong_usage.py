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
