"""Fan-out with bounded concurrency: results in input order, progress, per-item errors.

A fixed pool of workers (threads for the blocking client, tasks for the async
one) pulls items from one shared cursor, so 10,000 inputs cost N workers, not
10,000 pending tasks. `Progress` is shared by both.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runpod_typed._deadline import Deadline
from runpod_typed._errors import InvalidRequestError, RunpodError
from runpod_typed._flow import ABORT_BUDGET_SECONDS
from runpod_typed._job import Submitted

if TYPE_CHECKING:
    import anyio

    from runpod_typed._kwargs import MapOptions, RunOptions


ProgressCallback = Callable[[int, int], Any]
"""Called as `on_progress(done, total)` after each item finishes."""

NO_RICH_WARNING = (
    "map(progress_bar=True) shows no progress bar: it needs rich, which is not installed "
    "(pip install 'runpod-typed[progress]'); on_progress= works without it"
)
_no_rich_warned = False


def _warn_no_rich() -> None:
    """Once per process: every map() after the first would only repeat it."""
    global _no_rich_warned
    if not _no_rich_warned:
        _no_rich_warned = True
        # Points at the caller's map(): here <- Progress <- FanOut.progress <- map_sync or
        # map_async <- Endpoint.map or AsyncEndpoint.map <- the caller.
        warnings.warn(NO_RICH_WARNING, UserWarning, stacklevel=6)


class Progress:
    """Counts finished items; reports to a callback and, if asked, a rich progress bar."""

    def __init__(self, total: int, on_progress: ProgressCallback | None, bar: bool) -> None:
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._callback = on_progress
        self._bar: Any = None
        self._task: Any = None
        if bar:
            try:
                from rich.progress import Progress as RichProgress
            except ImportError:  # the bar is optional: `pip install runpod-typed[progress]`
                _warn_no_rich()
                return
            self._bar = RichProgress(transient=False)
            self._task = self._bar.add_task("jobs", total=total)
            self._bar.start()

    def advance(self) -> None:
        with self._lock:
            self.done += 1
            done = self.done
        if self._bar is not None:
            self._bar.update(self._task, completed=done)
        if self._callback is not None:
            self._callback(done, self.total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


@dataclass(frozen=True, slots=True)
class FanOut:
    """One map() call: the inputs and how to run them, checked before anything starts."""

    items: Sequence[Any]
    concurrency: int
    return_exceptions: bool
    on_progress: ProgressCallback | None
    progress_bar: bool
    #: How each item is run (`run_sync` options).
    item_options: RunOptions

    @classmethod
    def of(cls, inputs: Iterable[Any], return_exceptions: bool, options: MapOptions) -> FanOut:
        concurrency = options.get("concurrency", 16)
        if (
            isinstance(concurrency, bool)
            or not isinstance(concurrency, int)
            or not (1 <= concurrency <= 10_000)
        ):
            raise InvalidRequestError(
                f"concurrency must be an int from 1 to 10000, got {concurrency!r}"
            )
        items = list(inputs)
        return cls(
            items,
            min(concurrency, max(1, len(items))),
            return_exceptions,
            options.get("on_progress"),
            options.get("progress_bar", False),
            {
                "timeout": options.get("timeout"),
                "polling": options.get("polling"),
                "cancel_on_exit": options.get("cancel_on_exit"),
            },
        )

    def progress(self) -> Progress:
        return Progress(len(self.items), self.on_progress, self.progress_bar)


class _Cursor:
    """Hands out (index, item) pairs to workers until the items run out or a failure stops it."""

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = items
        self.next = 0
        self.failure: BaseException | None = None
        self._lock = threading.Lock()

    def take(self) -> tuple[int, Any] | None:
        with self._lock:
            if self.failure is not None or self.next >= len(self.items):
                return None
            index = self.next
            self.next += 1
            return index, self.items[index]

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            if self.failure is None:
                self.failure = exc


def map_sync(
    run: Callable[[Any, Submitted], Any],
    plan: FanOut,
    cancel: Callable[[Iterable[str], Deadline], None] | None,
) -> list[Any]:
    """Threads pull items; `run(item, submitted)` runs one and records its job id.

    On the first failure (unless kept as a result) or when the calling thread is
    interrupted (Ctrl-C), no further item starts and `cancel` is given the ids of
    the jobs still running, again as late submissions name theirs, until the
    workers are done or the clean-up budget is spent; then the failure is raised.
    """
    from concurrent.futures import ThreadPoolExecutor  # deferred: only map() needs threads

    results: list[Any] = [None] * len(plan.items)
    cursor = _Cursor(plan.items)
    progress = plan.progress()
    running: dict[int, Submitted] = {}
    idle = threading.Semaphore(0)  # released once per worker that has stopped

    def work() -> None:
        while (taken := cursor.take()) is not None:
            index, item = taken
            running[index] = submitted = Submitted()
            try:
                results[index] = run(item, submitted)
            except RunpodError as exc:
                if not plan.return_exceptions:
                    cursor.fail(exc)
                    return
                results[index] = exc
            except BaseException as exc:
                cursor.fail(exc)
                return
            finally:
                running.pop(index, None)
            progress.advance()

    def worker() -> None:
        try:
            work()
        finally:
            idle.release()

    pool = ThreadPoolExecutor(max_workers=plan.concurrency)
    stopped = 0
    try:
        for _ in range(plan.concurrency):
            pool.submit(worker)
        while stopped < plan.concurrency and cursor.failure is None:
            idle.acquire()  # interruptible: Ctrl-C lands here
            stopped += 1
        if cursor.failure is not None:
            _stop(cursor, running, cancel, idle, plan.concurrency - stopped, cursor.failure)
    except BaseException as interrupted:
        _stop(cursor, running, cancel, idle, plan.concurrency - stopped, interrupted)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        progress.close()
    if cursor.failure is not None:
        raise cursor.failure
    return results


def _stop(
    cursor: _Cursor,
    running: dict[int, Submitted],
    cancel: Callable[[Iterable[str], Deadline], None] | None,
    idle: threading.Semaphore,
    busy: int,
    reason: BaseException,
) -> None:
    """Start nothing more; cancel running jobs while the busy workers wind down, all
    within one clean-up deadline. Jobs already in their own clean-up are left to it."""
    cursor.fail(reason)
    if cancel is None:
        return
    cancelled: set[str] = set()
    deadline = Deadline.after(ABORT_BUDGET_SECONDS, "the jobs of a stopped map()")
    while busy > 0 and deadline.left() > 0:
        named = {
            s.id for s in list(running.values()) if s.id is not None and not s.cleaning_up
        } - cancelled
        if named:
            cancel(named, deadline)
            cancelled |= named
        if idle.acquire(timeout=0.05):
            busy -= 1


async def map_async(run: Callable[[Any], Awaitable[Any]], plan: FanOut) -> list[Any]:
    import anyio

    results: list[Any] = [None] * len(plan.items)
    cursor = _Cursor(plan.items)
    progress = plan.progress()

    async def worker(scope: anyio.CancelScope) -> None:
        while (taken := cursor.take()) is not None:
            index, item = taken
            try:
                results[index] = await run(item)
            except RunpodError as exc:
                if not plan.return_exceptions:
                    cursor.fail(exc)
                    scope.cancel()  # the others' jobs are cancelled remotely as they unwind
                    return
                results[index] = exc
            except Exception as exc:
                cursor.fail(exc)
                scope.cancel()
                return
            progress.advance()

    try:
        async with anyio.create_task_group() as group:
            for _ in range(plan.concurrency):
                group.start_soon(worker, group.cancel_scope)
    finally:
        progress.close()
    if cursor.failure is not None:
        raise cursor.failure
    return results
