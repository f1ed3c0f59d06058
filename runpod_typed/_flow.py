"""Effects and the two drivers that run them: how sync and async share one implementation.

Every behaviour of the SDK that talks to RunPod (retries, rate limits, long-poll,
polling, streaming) is written once, as a generator that *yields effects* --
"send this request", "sleep this long", "hand this chunk to the caller" -- and
receives their results. A flow never does I/O itself, so the same flow runs
under a blocking `httpx.Client` (`run_sync`, `iterate_sync`) and under an
`httpx.AsyncClient` (`run_async`, `iterate_async`). The drivers are the only
code that exists twice, and they are short. An async client may carry its own
sender (`AsyncSender.exchange`, e.g. `AioHttpClient`): the async driver then
hands it each `Send` instead of going through httpx's request layer.

The drivers also own the call's deadline (`_deadline.py`): every request and
every sleep is bounded by the time left, so a call given `timeout=T` ends by T
whatever the server does; past it they raise `WaitTimeout`. And they own
"giving up": when the caller abandons a wait (KeyboardInterrupt, task
cancellation, an anyio cancel scope, the deadline, leaving a stream early) they
run the flow's `on_abort` flow -- for a job, a shielded `/cancel` under its own
small deadline -- and then re-raise.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx

from runpod_typed._bounded_io import request_ends_at
from runpod_typed._deadline import Deadline
from runpod_typed._errors import ResponseTooLargeError, RunpodError, WaitTimeout
from runpod_typed._logging import logger, redact

T = TypeVar("T")

#: How long a best-effort clean-up (the remote cancel) may take before the
#: driver gives up on it and re-raises the caller's interruption anyway.
ABORT_BUDGET_SECONDS = 5.0


#: Most bytes of one answer a client reads (RunPod's payloads are at most 20 MB).
MAX_ANSWER_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Send:
    """Send one HTTP request; the flow receives its `Answer`.

    A transport failure (`httpx.TransportError`) is thrown into the flow at the
    yield, so the flow decides whether to retry. `timeout` bounds the whole
    request (not each read); an answer over `max_bytes` is a ResponseTooLargeError.
    """

    method: str
    url: str
    #: Carries the key: kept out of the repr (tracebacks with locals print reprs).
    headers: dict[str, str] = field(repr=False)
    params: dict[str, str] | None = None
    content: bytes | None = None
    timeout: float | None = None
    max_bytes: int = MAX_ANSWER_BYTES
    #: The request creates something remotely (POST /run): if the caller cancels (or
    #: presses Ctrl-C) while it is in flight, the driver still waits for the answer,
    #: hands it to the flow, and only then re-raises -- so the clean-up knows what to
    #: cancel.
    finish: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer as flows see it, whatever client library fetched it."""

    status_code: int
    #: Case-insensitive, as HTTP header names are. Out of the repr, like the body: a
    #: traceback printed with locals shows reprs, and a server may quote the key back.
    headers: Mapping[str, str] = field(repr=False)
    content: bytes = field(repr=False)
    #: The URL that answered (for error messages, after redaction).
    url: str

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait this many seconds (rate-limit slot, retry back-off, polling delay)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Emit:
    """Hand a value to the consumer of a streaming flow (see `iterate_sync`)."""

    value: Any = field(default=None)


Effect = Send | Sleep | Emit
#: What a flow receives at a yield: the Answer to a Send, None for a Sleep or an Emit.
Received = Answer | None
Flow = Generator[Effect, Received, T]
AbortFlow = Callable[[], Flow[Any]]


class AsyncSender(Protocol):
    """What an async client may add to execute Sends itself (the async driver's hook).

    `exchange` sends the request and reads its answer (at most `send.max_bytes`,
    else `ResponseTooLargeError`), the whole of it within `budget` seconds when
    given (past it, a `httpx.TimeoutException`). Its failures are httpx's
    `TransportError` classes, which the flows' retry rules read:
    `ConnectError`/`ConnectTimeout` only when nothing was sent, otherwise
    `ReadError`, `RemoteProtocolError`, `ReadTimeout` (`_retry.py`).
    """

    async def exchange(self, send: Send, budget: float | None, /) -> Answer: ...


class Drive(Protocol):
    """Runs a flow to its result with blocking I/O (`run_sync` bound to a client)."""

    def __call__(self, flow: Flow[T], /) -> T: ...


class AsyncDrive(Protocol):
    """Runs a flow to its result with async I/O (`run_async` bound to a client)."""

    def __call__(self, flow: Flow[T], /) -> Awaitable[T]: ...


#: The ways a caller gives up on a wait; they trigger `on_abort`. The async driver
#: adds task cancellation (asyncio's, or the running loop's own through anyio).
ABANDONMENTS: tuple[type[BaseException], ...] = (KeyboardInterrupt, GeneratorExit, WaitTimeout)


def _request(
    client: httpx.Client | httpx.AsyncClient, effect: Send, budget: float | None
) -> httpx.Request:
    """The httpx request for a Send, its timeouts cut to the request's total `budget`."""
    timeout = (
        client.timeout if effect.timeout is None else httpx.Timeout(effect.timeout, connect=10.0)
    )
    if budget is not None:
        timeout = httpx.Timeout(
            connect=_cut(timeout.connect, budget),
            read=_cut(timeout.read, budget),
            write=_cut(timeout.write, budget),
            pool=_cut(timeout.pool, budget),
        )
    return client.build_request(
        effect.method,
        effect.url,
        headers=effect.headers,
        params=effect.params,
        content=effect.content,
        timeout=timeout,
    )


def _budget(
    client: httpx.Client | httpx.AsyncClient, effect: Send, deadline: Deadline | None
) -> tuple[float | None, bool]:
    """Seconds the whole request may take (not per read), and whether the deadline set them."""
    own = client.timeout.read if effect.timeout is None else effect.timeout
    if deadline is None:
        return own, False
    left = deadline.remaining()
    if effect.finish:  # a submission's answer names the job to cancel: worth a little more
        left += deadline.submission_grace
    return (left, True) if own is None or left <= own else (own, False)


def _cut(seconds: float | None, budget: float) -> float:
    return budget if seconds is None else min(seconds, budget)


def _sleep_for(effect: Sleep, deadline: Deadline | None) -> tuple[float, WaitTimeout | None]:
    """How long to sleep, and the error to raise after it if the deadline passes first."""
    if deadline is None:
        return effect.seconds, None
    left = deadline.remaining()
    return (left, deadline.expired()) if effect.seconds >= left else (effect.seconds, None)


def _scrub(exc: BaseException) -> None:
    """Leave nothing in an error that reaches the caller that could show the key.

    Its message (and its causes') goes through the redactor: it may quote a server's
    text (a GraphQL error, a worker's error message). A context the SDK suppressed with
    `raise ... from None` is dropped, since error trackers walk `__context__` anyway:
    an httpx error's request carries the Authorization header, a JSON error the body.
    """
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo and len(seen) < 16:  # chains are short; a cycle must not hang the caller
        link = todo.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        if isinstance(link, RunpodError):
            link.args = tuple(redact(a) if isinstance(a, str) else a for a in link.args)
        if link.__suppress_context__:
            link.__context__ = None
        todo += [e for e in (link.__cause__, link.__context__) if e is not None]


def _ran_out(ends_at: float) -> bool:
    """Whether a request's timeout came from its total budget (else one operation's own
    timeout, with time left, which the flow may retry)."""
    return time.monotonic() >= ends_at - 0.05


def _over_budget(effect: Send, deadline: Deadline | None, by_deadline: bool) -> Exception:
    """What a request that ran out of time raises: the deadline's WaitTimeout, if it set
    the budget, else a transport timeout the flow may retry."""
    if by_deadline and deadline is not None:
        return deadline.expired(submitting=effect.finish)
    return httpx.ReadTimeout("the request took longer than its total timeout")


# -- blocking driver ---------------------------------------------------------------------------


class _Body:
    """Collects an answer's bytes, at most the Send's `max_bytes` (a bigger one is refused)."""

    def __init__(self, effect: Send, response: httpx.Response) -> None:
        self.effect = effect
        self.response = response
        self.parts: list[bytes] = []
        self.size = 0
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > effect.max_bytes:
            raise self._too_large()

    def add(self, part: bytes) -> None:
        self.size += len(part)
        if self.size > self.effect.max_bytes:
            raise self._too_large()
        self.parts.append(part)

    def answer(self) -> Answer:
        response = self.response
        content = b"".join(self.parts)
        return Answer(response.status_code, response.headers, content, str(response.request.url))

    def _too_large(self) -> ResponseTooLargeError:
        return too_large(self.effect)


def too_large(effect: Send) -> ResponseTooLargeError:
    """The error for an answer over the Send's `max_bytes` (any sender raises this one)."""
    return ResponseTooLargeError(
        f"{effect.method} {redact(effect.url)}: the answer is over {effect.max_bytes} "
        "bytes, more than RunPod sends; a proxy or a broken server may be in the way "
        "(the limit is the client option max_response_bytes)",
        limit=effect.max_bytes,
    )


def _read_sync(effect: Send, response: httpx.Response) -> Answer:
    try:
        body = _Body(effect, response)
        for part in response.iter_bytes():
            body.add(part)
    finally:
        response.close()
    return body.answer()


async def _read_async(effect: Send, response: httpx.Response) -> Answer:
    try:
        body = _Body(effect, response)
        async for part in response.aiter_bytes():
            body.add(part)
    finally:
        await response.aclose()
    return body.answer()


def _step_sync(client: httpx.Client, effect: Effect, deadline: Deadline | None) -> Any:
    if isinstance(effect, Sleep):
        seconds, expiry = _sleep_for(effect, deadline)
        time.sleep(seconds)
        if expiry is not None:
            raise expiry
        return None
    if isinstance(effect, Send):
        budget, by_deadline = _budget(client, effect, deadline)
        ends_at = None if budget is None else time.monotonic() + budget
        try:
            with request_ends_at(ends_at):
                response = client.send(_request(client, effect, budget), stream=True)
                return _read_sync(effect, response)
        except httpx.TimeoutException:
            if ends_at is None or not _ran_out(ends_at):
                raise
            raise _over_budget(effect, deadline, by_deadline) from None
    raise TypeError(f"run_sync cannot perform {effect!r}")


@contextmanager
def _ctrl_c_deferred() -> Iterator[list[bool]]:
    """Hold back the first Ctrl-C (main thread only) until the block ends; a second is at once.

    The blocking twin of `_finish_send`: a /run interrupted mid-flight would leave
    a job nobody can name, so the answer is awaited and the interrupt raised after.
    """
    pressed: list[bool] = []
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield pressed
        return

    def hold(signum: int, frame: object) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def _advance_sync(
    client: httpx.Client, flow: Flow[T], deadline: Deadline | None
) -> tuple[bool, Any]:
    """Run `flow` to its next Emit (False, value) or to its end (True, result)."""
    value: Any = None
    error: BaseException | None = None
    interrupted = False
    while True:
        try:
            effect = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as stop:
            if interrupted:
                raise KeyboardInterrupt from None
            return True, stop.value
        if interrupted:  # the flow has seen the answer it needed: stop now
            raise KeyboardInterrupt
        value, error = None, None
        if isinstance(effect, Emit):
            return False, effect.value
        try:
            if isinstance(effect, Send) and effect.finish:
                with _ctrl_c_deferred() as pressed:
                    value = _step_sync(client, effect, deadline)
                interrupted = bool(pressed)
            else:
                value = _step_sync(client, effect, deadline)
        except WaitTimeout:
            raise
        except (httpx.TransportError, RunpodError) as exc:
            error = exc


def _abort_deadline() -> Deadline:
    return Deadline.after(ABORT_BUDGET_SECONDS, "the remote clean-up")


def _abort_sync(client: httpx.Client, on_abort: AbortFlow | None, reason: BaseException) -> None:
    if on_abort is None or not isinstance(reason, ABANDONMENTS):
        return
    try:
        _, outcome = _advance_sync(client, on_abort(), _abort_deadline())
    except Exception as exc:  # best effort: the caller's interruption matters more
        _clean_up_failed(reason, exc)
    else:
        _cleaned_up(reason, outcome)


def _cleaned_up(reason: BaseException, outcome: Any) -> None:
    """Record on a WaitTimeout that the clean-up acted (an abort flow returns None if it had nothing to do)."""
    if isinstance(reason, WaitTimeout) and outcome is not None:
        reason.cancelled = True


def _clean_up_failed(reason: BaseException, exc: Exception) -> None:
    logger.warning("remote clean-up after %s failed: %s", type(reason).__name__, exc)


def run_sync(
    client: httpx.Client,
    flow: Flow[T],
    *,
    on_abort: AbortFlow | None = None,
    deadline: Deadline | None = None,
) -> T:
    """Drive a flow to its result with blocking I/O, within `deadline` if given."""
    try:
        done, result = _advance_sync(client, flow, deadline)
    except BaseException as exc:
        flow.close()
        _abort_sync(client, on_abort, exc)
        _scrub(exc)
        raise
    if not done:
        raise RuntimeError("a non-streaming flow emitted a value")
    return result  # type: ignore[no-any-return]


def iterate_sync(
    client: httpx.Client,
    flow: Flow[None],
    *,
    on_abort: AbortFlow | None = None,
    deadline: Deadline | None = None,
) -> Iterator[Any]:
    """Drive a streaming flow, yielding each emitted value; leaving early runs `on_abort`.

    The deadline bounds the whole stream, including the time the consumer holds a chunk.
    """
    try:
        while True:
            done, value = _advance_sync(client, flow, deadline)
            if done:
                return
            yield value
    except BaseException as exc:
        flow.close()
        _abort_sync(client, on_abort, exc)
        _scrub(exc)
        raise


# -- asyncio / anyio driver --------------------------------------------------------------------


async def _step_async(client: httpx.AsyncClient, effect: Effect, deadline: Deadline | None) -> Any:
    import anyio  # deferred: blocking-only programs never load the async stack

    if isinstance(effect, Sleep):
        seconds, expiry = _sleep_for(effect, deadline)
        await anyio.sleep(seconds)
        if expiry is not None:
            raise expiry
        return None
    if isinstance(effect, Send):
        budget, by_deadline = _budget(client, effect, deadline)
        if budget is None:
            return await _exchange(client, effect, None)
        ends_at = time.monotonic() + budget
        try:
            return await _exchange(client, effect, budget)
        except httpx.TimeoutException:
            if not _ran_out(ends_at):
                raise
        raise _over_budget(effect, deadline, by_deadline)
    raise TypeError(f"run_async cannot perform {effect!r}")


def _exchange(client: httpx.AsyncClient, effect: Send, budget: float | None) -> Awaitable[Answer]:
    """The client's own sender (`AsyncSender`) if it has one, else httpx's request layer."""
    exchange: Callable[[Send, float | None], Awaitable[Answer]] | None = getattr(
        client, "exchange", None
    )
    if exchange is not None:
        return exchange(effect, budget)
    return _exchange_httpx(client, effect, budget)


async def _exchange_httpx(client: httpx.AsyncClient, effect: Send, budget: float | None) -> Answer:
    import anyio

    request = _request(client, effect, budget)
    if budget is None:
        return await _read_async(effect, await client.send(request, stream=True))
    # A total bound on the request, however the server trickles its answer.
    with anyio.move_on_after(budget):
        return await _read_async(effect, await client.send(request, stream=True))
    raise httpx.ReadTimeout("the request took longer than its total timeout")


async def _finish_send(
    client: httpx.AsyncClient, effect: Send, deadline: Deadline | None
) -> tuple[Any, BaseException | None]:
    """Send; if the caller cancels meanwhile, still wait (bounded) for the answer.

    Returns the response and the interruption to re-raise once the flow has seen it.
    The call's own deadline is not a cancellation: past it, the request is dropped.
    """
    import asyncio

    import anyio

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio: a shielded scope holds every cancellation back
        with anyio.CancelScope(shield=True):
            return await _step_async(client, effect, deadline), None
    task = asyncio.ensure_future(_step_async(client, effect, deadline))
    try:
        return await asyncio.shield(task), None
    except asyncio.CancelledError as interrupted:
        with anyio.CancelScope(shield=True), anyio.move_on_after(ABORT_BUDGET_SECONDS):
            try:
                return await task, interrupted
            except (httpx.TransportError, RunpodError):
                pass
        task.cancel()
        raise


async def _advance_async(
    client: httpx.AsyncClient, flow: Flow[T], deadline: Deadline | None
) -> tuple[bool, Any]:
    value: Any = None
    error: BaseException | None = None
    interrupted: BaseException | None = None
    while True:
        try:
            effect = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as stop:
            if interrupted is not None:
                raise interrupted from None
            return True, stop.value
        if interrupted is not None:  # the flow has seen the answer it needed: stop now
            raise interrupted
        value, error = None, None
        if isinstance(effect, Emit):
            return False, effect.value
        try:
            if isinstance(effect, Send) and effect.finish:
                value, interrupted = await _finish_send(client, effect, deadline)
            else:
                value = await _step_async(client, effect, deadline)
        except WaitTimeout:
            raise
        except (httpx.TransportError, RunpodError) as exc:
            error = exc


async def _abort_async(
    client: httpx.AsyncClient, on_abort: AbortFlow | None, reason: BaseException
) -> None:
    import asyncio

    import anyio

    cancelled = (asyncio.CancelledError, anyio.get_cancelled_exc_class())
    if on_abort is None or not isinstance(reason, (*ABANDONMENTS, *cancelled)):
        return
    try:
        # Shielded: the caller's cancellation must not cancel the clean-up itself.
        with anyio.CancelScope(shield=True):
            _, outcome = await _advance_async(client, on_abort(), _abort_deadline())
    except Exception as exc:
        _clean_up_failed(reason, exc)
    else:
        _cleaned_up(reason, outcome)


async def run_async(
    client: httpx.AsyncClient,
    flow: Flow[T],
    *,
    on_abort: AbortFlow | None = None,
    deadline: Deadline | None = None,
) -> T:
    """Drive a flow to its result with async I/O (asyncio or trio through anyio)."""
    try:
        done, result = await _advance_async(client, flow, deadline)
    except BaseException as exc:
        flow.close()
        await _abort_async(client, on_abort, exc)
        _scrub(exc)
        raise
    if not done:
        raise RuntimeError("a non-streaming flow emitted a value")
    return result  # type: ignore[no-any-return]


async def iterate_async(
    client: httpx.AsyncClient,
    flow: Flow[None],
    *,
    on_abort: AbortFlow | None = None,
    deadline: Deadline | None = None,
) -> AsyncIterator[Any]:
    """Async twin of `iterate_sync`."""
    try:
        while True:
            done, value = await _advance_async(client, flow, deadline)
            if done:
                return
            yield value
    except BaseException as exc:
        flow.close()
        await _abort_async(client, on_abort, exc)
        _scrub(exc)
        raise
