"""Fan-out with bounded concurrency: results in input order, progress, per-item errors.

A fixed pool of workers (threads for the blocking client, tasks for the async
one) pulls items from one shared cursor, so 10,000 inputs cost N workers, not
10,000 pending tasks. `Progress` is shared by both.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from runpod_typed._errors import InvalidRequestError, RunpodError

if TYPE_CHECKING:
    import anyio

ProgressCallback = Callable[[int, int], Any]
"""Called as `on_progress(done, total)` after each item finishes."""


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


def _check_concurrency(concurrency: int) -> None:
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not (1 <= concurrency <= 10_000)
    ):
        raise InvalidRequestError(
            f"concurrency must be an int from 1 to 10000, got {concurrency!r}"
        )


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
    run: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    concurrency: int,
    return_exceptions: bool,
    on_progress: ProgressCallback | None,
    progress_bar: bool,
) -> list[Any]:
    from concurrent.futures import ThreadPoolExecutor  # deferred: only map() needs threads

    _check_concurrency(concurrency)
    results: list[Any] = [None] * len(items)
    cursor = _Cursor(items)
    progress = Progress(len(items), on_progress, progress_bar)

    def worker() -> None:
        while (taken := cursor.take()) is not None:
            index, item = taken
            try:
                results[index] = run(item)
            except RunpodError as exc:
                if not return_exceptions:
                    cursor.fail(exc)
                    return
                results[index] = exc
            except BaseException as exc:
                cursor.fail(exc)
                return
            progress.advance()

    try:
        with ThreadPoolExecutor(max_workers=min(concurrency, max(1, len(items)))) as pool:
            for _ in range(min(concurrency, len(items))):
                pool.submit(worker)
    finally:
        progress.close()
    if cursor.failure is not None:
        raise cursor.failure
    return results


async def map_async(
    run: Callable[[Any], Awaitable[Any]],
    items: Sequence[Any],
    *,
    concurrency: int,
    return_exceptions: bool,
    on_progress: ProgressCallback | None,
    progress_bar: bool,
) -> list[Any]:
    import anyio

    _check_concurrency(concurrency)
    results: list[Any] = [None] * len(items)
    cursor = _Cursor(items)
    progress = Progress(len(items), on_progress, progress_bar)

    async def worker(scope: anyio.CancelScope) -> None:
        while (taken := cursor.take()) is not None:
            index, item = taken
            try:
                results[index] = await run(item)
            except RunpodError as exc:
                if not return_exceptions:
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
            for _ in range(min(concurrency, len(items))):
                group.start_soon(worker, group.cancel_scope)
    finally:
        progress.close()
    if cursor.failure is not None:
        raise cursor.failure
    return results
