"""The error hierarchy: one root, so callers can catch everything the SDK raises.

Every message says what went wrong and, where it helps, what to do. Nothing here
stores or prints the API key: bodies are cut to a short excerpt and passed
through the redactor by whoever builds the error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

BODY_EXCERPT_CHARS = 500


def excerpt(text: str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """Cut a response body to a size that is safe to keep in an exception."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "..."


class RunpodError(Exception):
    """Root of every error raised by runpod-typed."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle by state, not by constructor: subclasses take keyword-only arguments,
        # which Exception's default reduction cannot replay (a ProcessPoolExecutor
        # worker raising one would break the pool).
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[RunpodError], args: tuple[Any, ...], state: dict[str, Any]) -> RunpodError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigurationError(RunpodError, ValueError):
    """The client was set up wrong: a missing key, a bad URL, an invalid option."""


class MissingApiKeyError(ConfigurationError):
    """No API key could be found in any of the places the SDK looks."""


class MissingExtraError(RunpodError, ImportError):
    """A feature needs an optional dependency that is not installed; the message names the extra.

    Also a builtin `ImportError` (`name` is the missing module): e.g. the emulator
    without `pip install 'runpod-typed[emulator]'`.
    """

    def __init__(self, message: str, *, extra: str, name: str | None = None) -> None:
        super().__init__(message, name=name)
        self.extra: str = extra


class ClientClosedError(RunpodError, RuntimeError):
    """A request was made through a client after `close()` (or after its pool was closed).

    Also a builtin `RuntimeError`, which is what httpx raises for a closed pool.
    Nothing was sent. Make a new client (or a new one from the factory).
    """


class WrongEventLoopError(RunpodError, RuntimeError):
    """An `AsyncRunpod` was used from an event loop other than the one it first ran in.

    Its connection pool belongs to that loop (httpx's connections cannot move between
    loops), so nothing was sent. Make one client per event loop: inside the coroutine
    given to `asyncio.run`, for instance. Also a builtin `RuntimeError`.
    """


class InsecureConfigWarning(UserWarning):
    """The config file holding the API key can be read by other users (as ssh warns)."""


class InvalidRequestError(RunpodError, ValueError):
    """A request was refused before it was sent: bad options or an oversized payload."""


class PayloadTooLargeError(InvalidRequestError):
    """The JSON payload is over RunPod's limit for the route."""

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class TransportError(RunpodError):
    """The request did not get an HTTP answer (connection refused, reset, dropped)."""


class ResponseTooLargeError(RunpodError):
    """An answer was bigger than the client reads (`max_response_bytes`); it was not read."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class ResponseFormatError(RunpodError):
    """The server answered with a body that is not what the API promises."""

    def __init__(self, message: str, *, body: str = "") -> None:
        super().__init__(message)
        self.body: str = excerpt(body)


class APIStatusError(RunpodError):
    """An HTTP error status from RunPod; carries the status and a safe body excerpt."""

    status_code: int

    def __init__(
        self, message: str, *, status_code: int, body: str = "", method: str = "", url: str = ""
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body: str = excerpt(body)
        self.method = method
        self.url = url


class BadRequestError(APIStatusError):
    """400: the server refused the request as malformed."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but may not do this."""


class NotFoundError(APIStatusError):
    """404: unknown endpoint, job or route (an expired job answers 404 too)."""


class RequestTooLargeError(APIStatusError):
    """413: the server refused the payload as too large."""


class RateLimitError(APIStatusError):
    """429: over RunPod's rate limit, and retries (if any) did not get through."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        body: str = "",
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body, method=method, url=url)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: RunPod (or a proxy in front of it) failed."""


class GraphQLError(RunpodError):
    """The GraphQL API answered with errors; `data` keeps any partial result."""

    def __init__(
        self,
        errors: Sequence[Mapping[str, Any]],
        *,
        data: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> None:
        self.errors: list[dict[str, Any]] = [dict(e) for e in errors]
        self.data: dict[str, Any] | None = dict(data) if data is not None else None
        self.operation_name = operation_name
        super().__init__(self._describe())

    @property
    def messages(self) -> list[str]:
        return [str(e.get("message", "")) for e in self.errors]

    def _describe(self) -> str:
        parts = []
        for error in self.errors:
            path = error.get("path")
            where = f" at {'.'.join(str(p) for p in path)}" if path else ""
            parts.append(f"{error.get('message', '(no message)')}{where}")
        op = f" in {self.operation_name}" if self.operation_name else ""
        has_data = self.data and any(value is not None for value in self.data.values())
        partial = " (partial data kept in .data)" if has_data else ""
        return f"GraphQL error{op}: " + "; ".join(parts) + partial


class ResourceNotFound(RunpodError, LookupError):
    """The control plane has no such object: `kind` says what was looked for, `id` which.

    The root of the per-resource classes below (also a builtin `LookupError`), so one
    `except ResourceNotFound` catches a missing pod, template, endpoint, ... alike.
    """

    #: What RunPod calls the object ("pod", "template", ...).
    kind: str = "resource"

    def __init__(self, message: str, *, id: str) -> None:
        super().__init__(message)
        self.id = id


class PodNotFound(ResourceNotFound):
    """No pod with this id (or it was terminated); `pod_id` (and `id`) name it."""

    kind = "pod"

    def __init__(self, message: str, *, pod_id: str) -> None:
        super().__init__(message, id=pod_id)
        self.pod_id = pod_id


class PodFailed(RunpodError):
    """A pod that was waited for went to ERROR (its container could not start).

    `pod_id` names it, `status` is the status it was last seen in (``"ERROR"``),
    `actions` what RunPod still allows on it (restart, stop, terminate), and `pod` the
    last `Pod` read (REST v2's model). Raised by `rp.pods.wait_until_running`, which
    stops polling at once instead of waiting for its timeout.
    """

    def __init__(self, message: str, *, pod_id: str, status: str, pod: Any = None) -> None:
        super().__init__(message)
        self.pod_id = pod_id
        self.status = status
        self.pod = pod
        self.actions: list[str] = [str(a) for a in getattr(pod, "actions", None) or []]


class TemplateNotFound(ResourceNotFound):
    """No template with this id among the account's templates."""

    kind = "template"


class EndpointNotFound(ResourceNotFound):
    """No serverless endpoint with this id."""

    kind = "endpoint"


class NetworkVolumeNotFound(ResourceNotFound):
    """No network volume with this id."""

    kind = "network volume"


class RegistryAuthNotFound(ResourceNotFound):
    """No stored container registry credentials with this id."""

    kind = "registry auth"


class SecretNotFound(ResourceNotFound):
    """No secret with this id."""

    kind = "secret"


class ClusterNotFound(ResourceNotFound):
    """No instant cluster with this id."""

    kind = "cluster"


class GpuTypeNotFound(ResourceNotFound):
    """RunPod offers no GPU type with this id (see `rp.catalog.gpu_types()`)."""

    kind = "GPU type"


class CpuFlavorNotFound(ResourceNotFound):
    """RunPod offers no CPU flavor with this id (see `rp.catalog.cpu_flavors()`)."""

    kind = "CPU flavor"


class DataCenterNotFound(ResourceNotFound):
    """RunPod has no data center with this id (see `rp.catalog.data_centers()`)."""

    kind = "data center"


class JobError(RunpodError):
    """A serverless job ended in a state other than COMPLETED."""

    def __init__(self, message: str, *, job_id: str, endpoint_id: str, status: Any = None) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.endpoint_id = endpoint_id
        self.status = status


class JobFailed(JobError):
    """The worker failed the job; `error` is the worker's message."""

    def __init__(
        self, message: str, *, job_id: str, endpoint_id: str, error: Any, status: Any = None
    ) -> None:
        super().__init__(message, job_id=job_id, endpoint_id=endpoint_id, status=status)
        self.error = error


class JobCancelled(JobError):
    """The job was cancelled (by this client, another client or the queue purge)."""


class JobTimedOut(JobError):
    """RunPod stopped the job at its executionTimeout (server side)."""


class StreamInterrupted(RunpodError):
    """Stream chunks were lost in transit and the job's final output cannot replace them.

    `delivered` chunks reached the caller; `output` is the job's final output
    (the whole aggregate, when the worker returns one).
    """

    def __init__(self, message: str, *, job_id: str, delivered: int, output: Any) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.delivered = delivered
        self.output = output


class WaitTimeout(RunpodError, TimeoutError):
    """The client stopped waiting: its own timeout passed before the job ended.

    Also a builtin `TimeoutError`. Unless the call opted out, the remote job was
    cancelled before this was raised (`cancelled` says whether that worked).
    """

    def __init__(self, message: str, *, job_id: str | None = None, cancelled: bool = False) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.cancelled = cancelled


class OutputValidationError(RunpodError, ValueError):
    """The job's output does not match the requested `output_type`; `raw` keeps it."""

    def __init__(self, message: str, *, raw: Any, job_id: str | None = None) -> None:
        super().__init__(message)
        self.raw = raw
        self.job_id = job_id
