"""runpod-typed: a typed Python SDK for RunPod.

`import runpod_typed` is cheap: public names are loaded on first use, and the
generated GraphQL models and the emulator only when something needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from runpod_typed._version import __version__

if TYPE_CHECKING:
    from runpod_typed._aiohttp import AioHttpClient
    from runpod_typed._client import AsyncRunpod, ClientOptions, Runpod, RunpodFactory
    from runpod_typed._config import ApiKeySource
    from runpod_typed._endpoint import AsyncEndpoint, Endpoint
    from runpod_typed._errors import (
        APIStatusError,
        AuthenticationError,
        BadRequestError,
        ClientClosedError,
        ClusterNotFound,
        ConfigurationError,
        CpuFlavorNotFound,
        DataCenterNotFound,
        EndpointNotFound,
        GpuTypeNotFound,
        GraphQLError,
        InsecureConfigWarning,
        InvalidRequestError,
        JobCancelled,
        JobError,
        JobFailed,
        JobTimedOut,
        MissingApiKeyError,
        NetworkVolumeNotFound,
        NotFoundError,
        OutputValidationError,
        PayloadTooLargeError,
        PermissionDeniedError,
        PodFailed,
        PodNotFound,
        RateLimitError,
        RegistryAuthNotFound,
        RequestTooLargeError,
        ResourceNotFound,
        ResponseFormatError,
        ResponseTooLargeError,
        RunpodError,
        SecretNotFound,
        ServerError,
        StreamInterrupted,
        TemplateNotFound,
        TransportError,
        WaitTimeout,
        WrongEventLoopError,
    )
    from runpod_typed._job import AsyncJob, Job
    from runpod_typed._options import Policy, S3Config
    from runpod_typed._polling import PollingOptions
    from runpod_typed._ratelimit import RateLimit, RateLimiter
    from runpod_typed._retry import RetryPolicy
    from runpod_typed._status import Health, JobState, JobStatus, PurgeResult

_EXPORTS = {
    "AioHttpClient": "_aiohttp",
    "Runpod": "_client",
    "AsyncRunpod": "_client",
    "RunpodFactory": "_client",
    "ClientOptions": "_client",
    "ApiKeySource": "_config",
    "Endpoint": "_endpoint",
    "AsyncEndpoint": "_endpoint",
    "Job": "_job",
    "AsyncJob": "_job",
    "Policy": "_options",
    "S3Config": "_options",
    "PollingOptions": "_polling",
    "RateLimit": "_ratelimit",
    "RateLimiter": "_ratelimit",
    "RetryPolicy": "_retry",
    "Health": "_status",
    "JobState": "_status",
    "JobStatus": "_status",
    "PurgeResult": "_status",
    **{
        name: "_errors"
        for name in (
            "APIStatusError",
            "AuthenticationError",
            "BadRequestError",
            "ClientClosedError",
            "ClusterNotFound",
            "ConfigurationError",
            "CpuFlavorNotFound",
            "DataCenterNotFound",
            "EndpointNotFound",
            "GpuTypeNotFound",
            "GraphQLError",
            "InsecureConfigWarning",
            "InvalidRequestError",
            "JobCancelled",
            "JobError",
            "JobFailed",
            "JobTimedOut",
            "MissingApiKeyError",
            "NetworkVolumeNotFound",
            "NotFoundError",
            "OutputValidationError",
            "PayloadTooLargeError",
            "PermissionDeniedError",
            "PodFailed",
            "PodNotFound",
            "RateLimitError",
            "RegistryAuthNotFound",
            "RequestTooLargeError",
            "ResourceNotFound",
            "ResponseFormatError",
            "ResponseTooLargeError",
            "RunpodError",
            "SecretNotFound",
            "ServerError",
            "StreamInterrupted",
            "TemplateNotFound",
            "TransportError",
            "WaitTimeout",
            "WrongEventLoopError",
        )
    },
}

__all__ = [
    "APIStatusError",
    "AioHttpClient",
    "ApiKeySource",
    "AsyncEndpoint",
    "AsyncJob",
    "AsyncRunpod",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ClientOptions",
    "ClusterNotFound",
    "ConfigurationError",
    "CpuFlavorNotFound",
    "DataCenterNotFound",
    "Endpoint",
    "EndpointNotFound",
    "GpuTypeNotFound",
    "GraphQLError",
    "Health",
    "InsecureConfigWarning",
    "InvalidRequestError",
    "Job",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobState",
    "JobStatus",
    "JobTimedOut",
    "MissingApiKeyError",
    "NetworkVolumeNotFound",
    "NotFoundError",
    "OutputValidationError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PodFailed",
    "PodNotFound",
    "Policy",
    "PollingOptions",
    "PurgeResult",
    "RateLimit",
    "RateLimitError",
    "RateLimiter",
    "RegistryAuthNotFound",
    "RequestTooLargeError",
    "ResourceNotFound",
    "ResponseFormatError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "Runpod",
    "RunpodError",
    "RunpodFactory",
    "S3Config",
    "SecretNotFound",
    "ServerError",
    "StreamInterrupted",
    "TemplateNotFound",
    "TransportError",
    "WaitTimeout",
    "WrongEventLoopError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'runpod_typed' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"runpod_typed.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
