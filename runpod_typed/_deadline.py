"""A deadline passed down from a call to every request, back-off and sleep under it.

Like google-api-core's deadlines: the caller's `timeout=` becomes one absolute
moment on the monotonic clock, created once per call and handed to the driver
(which bounds every request and every sleep by it) and to the flows (which size
their long-polls by it). When it passes, the call raises `WaitTimeout`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from runpod_typed._errors import WaitTimeout


@dataclass(slots=True)
class Deadline:
    """The moment (`time.monotonic()` seconds) a call gives up, and what it was waiting for."""

    at: float
    what: str
    #: The job the call is about, once known (a submission learns it mid-call).
    job_id: str | None = None
    #: Extra seconds a submission in flight at the deadline may take to answer, so that
    #: the job it may have created can be named and cancelled (0: give up at once).
    submission_grace: float = 0.0

    @classmethod
    def after(cls, seconds: float, what: str, job_id: str | None = None) -> Deadline:
        return cls(time.monotonic() + seconds, what, job_id)

    def left(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self.at - time.monotonic()

    def remaining(self) -> float:
        """Seconds until the deadline; `WaitTimeout` once it has passed."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self, *, submitting: bool = False) -> WaitTimeout:
        """The error to raise; `submitting`: it passed while a job was being submitted."""
        message = f"gave up waiting for {self.what}: the client-side timeout passed"
        if submitting:
            message += (
                " while the job was being submitted; RunPod may have created it anyway "
                "(its id is unknown, so it could not be cancelled)"
            )
        return WaitTimeout(message, job_id=self.job_id)


def remaining(deadline: Deadline | None) -> float:
    """Seconds left under an optional deadline (inf without one); `WaitTimeout` once passed."""
    return math.inf if deadline is None else deadline.remaining()
