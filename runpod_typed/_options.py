"""Request options for a job (webhook, policy, S3) and the encoding of its body.

Everything is checked before anything is sent: an invalid option or an
oversized payload is an `InvalidRequestError` naming the problem, never a
request RunPod would refuse (or worse, accept and misread).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from runpod_typed._errors import InvalidRequestError, PayloadTooLargeError
from runpod_typed._generated.serverless.models import JobPolicy, RunRequest
from runpod_typed._generated.serverless.models import S3Config as WireS3Config
from runpod_typed._generated.serverless.routes import ROUTES

MB = 1024 * 1024
#: RunPod's payload limits per route (bytes of the JSON request body), from the route table.
PAYLOAD_LIMITS: Mapping[str, int] = MappingProxyType(
    {name: route.payload_limit for name, route in ROUTES.items() if route.payload_limit}
)

_MAX_POLICY_SECONDS = 7 * 24 * 3600  # RunPod caps executionTimeout and ttl at a week


def _check_seconds(name: str, value: float | None, minimum: float) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise InvalidRequestError(f"policy {name} must be a number of seconds, got {value!r}")
    if not minimum <= value <= _MAX_POLICY_SECONDS:
        raise InvalidRequestError(
            f"policy {name}={value!r} s is out of range: use {minimum:g} s to "
            f"{_MAX_POLICY_SECONDS} s (7 days)"
        )
    return round(value * 1000)


@dataclass(frozen=True, slots=True)
class Policy:
    """How RunPod treats a job: `execution_timeout` and `ttl` in seconds."""

    execution_timeout: float | None = None
    low_priority: bool | None = None
    ttl: float | None = None

    def to_wire(self) -> JobPolicy:
        wire = JobPolicy()
        timeout_ms = _check_seconds("execution_timeout", self.execution_timeout, 5)
        ttl_ms = _check_seconds("ttl", self.ttl, 10)
        if timeout_ms is not None:
            wire.execution_timeout = timeout_ms
        if ttl_ms is not None:
            wire.ttl = ttl_ms
        if self.low_priority is not None:
            if not isinstance(self.low_priority, bool):
                raise InvalidRequestError(
                    f"policy low_priority must be True or False, got {self.low_priority!r}"
                )
            wire.low_priority = self.low_priority
        return wire


@dataclass(frozen=True, slots=True)
class S3Config:
    """Where a worker may upload large outputs; the secret never shows in a repr."""

    access_id: str
    access_secret: str = field(repr=False)
    bucket_name: str
    endpoint_url: str

    def to_wire(self) -> WireS3Config:
        for name in ("access_id", "access_secret", "bucket_name", "endpoint_url"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidRequestError(f"s3_config.{name} must be a non-empty string")
        _check_url("s3_config.endpoint_url", self.endpoint_url)
        return WireS3Config(
            access_id=self.access_id,
            access_secret=self.access_secret,
            bucket_name=self.bucket_name,
            endpoint_url=self.endpoint_url,
        )


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequestError(f"{name} must be an http(s) URL, got {url!r}")


def _jsonable(value: Any) -> Any:
    """What stdlib json cannot encode (pydantic models, dataclasses, dates...), via pydantic."""
    import pydantic_core  # deferred: plain JSON inputs never need it

    try:
        return pydantic_core.to_jsonable_python(value)
    except pydantic_core.PydanticSerializationError as exc:
        raise TypeError(str(exc)) from None


def encode_job_request(
    job_input: Any,
    *,
    route: str,
    webhook: str | None = None,
    policy: Policy | None = None,
    s3_config: S3Config | None = None,
) -> bytes:
    """The JSON body of /run or /runsync, validated and within the route's size limit."""
    if job_input is None:
        raise InvalidRequestError("job input is required: RunPod refuses a job without 'input'")
    request = RunRequest(input_=job_input)
    if webhook is not None:
        _check_url("webhook", webhook)
        request.webhook = webhook
    if policy is not None:
        request.policy = policy.to_wire()
    if s3_config is not None:
        request.s_3_config = s3_config.to_wire()
    try:
        body = json.dumps(
            request.to_dict(), separators=(",", ":"), allow_nan=False, default=_jsonable
        ).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidRequestError(
            f"job input is not JSON ({type(exc).__name__}: {exc}); pass dicts, lists, str, finite numbers, bools, "
            "None, dataclasses or pydantic models"
        ) from None
    limit = PAYLOAD_LIMITS[route]
    if len(body) > limit:
        raise PayloadTooLargeError(
            f"the /{route} payload is {len(body) / MB:.1f} MB, over RunPod's "
            f"{limit // MB} MB limit; upload large inputs elsewhere and pass a URL",
            size=len(body),
            limit=limit,
        )
    return body
