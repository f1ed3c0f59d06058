"""The keyword options of the job methods, declared once (PEP 692 `**kwargs` types).

Sync and async methods, and each of their typed overloads, take the same
options; naming them here keeps every signature short and identical.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from typing_extensions import TypedDict

if TYPE_CHECKING:
    from runpod_typed._fanout import ProgressCallback
    from runpod_typed._options import Policy, S3Config
    from runpod_typed._polling import PollingOptions, StatusCallback


class WaitOptions(TypedDict, total=False):
    """How to wait for a job (or its stream)."""

    polling: PollingOptions | None
    """Back-off and overall timeout; the client's default when absent."""
    timeout: float | None
    """Seconds to wait before WaitTimeout; overrides polling.timeout (0 = forever)."""
    on_status: StatusCallback | None
    """Called on every state change and worker progress message."""
    cancel_on_exit: bool | None
    """Cancel the remote job if the caller gives up (default: the client's, True)."""


class SubmitOptions(TypedDict, total=False):
    """What RunPod should do with a job besides running it."""

    webhook: str | None
    policy: Policy | None
    s3_config: S3Config | None
    cancel_on_exit: bool | None


class RunOptions(SubmitOptions, WaitOptions, total=False):
    """`run_sync`: submit and wait."""


class MapOptions(TypedDict, total=False):
    """`map`: how many at once, how to report, how long each may take."""

    concurrency: int
    on_progress: ProgressCallback | None
    progress_bar: bool
    timeout: float | None
    polling: PollingOptions | None
    cancel_on_exit: bool | None
    """False: each item is one /runsync request (cheaper), but jobs still running when
    map() is abandoned or fails are not cancelled remotely."""
