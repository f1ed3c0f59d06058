"""Hostile servers: every call gives up in time, with a typed error, whatever the bytes.

A raw server on loopback (`hostile_server.py`) misbehaves on the routes a call
uses: it hangs, stalls after the headers, trickles the head or the body one byte
at a time, sends an endless body, answers about another job, loses a `/stream`
answer before a final output of `[]`, or answers 401 quoting the key. Each call
is made from the blocking and the async client (tenants of a `RunpodFactory`,
so the SDK's own connection pools; a few trials use a blocking client's own pool,
or a pool the caller passes with `http_client=`), and
with `/cancel` misbehaving too where giving up cancels a job.

The contract under test, with a generous margin (not a speed target):
- a call given `timeout=T` raises by T + 1 s, or by T + 1 s + the clean-up
  budget when the clean-up meets the hostile server (`/cancel` misbehaves, or
  the submission does: see test_deadlines);
- a call without a timeout argument raises by what the client's options allow:
  its `timeout=` per request, times the retry policy's attempts, plus the
  policy's longest back-offs between them (+ 1 s);
- the error is typed: WaitTimeout for a server that never finishes its answer
  when the call has a deadline, TransportError (after the retries) when it has
  none, ResponseTooLargeError for an endless body, ResponseFormatError for an
  answer about another job, StreamInterrupted for a lost page that the final
  output cannot replace, AuthenticationError for the 401;
- no error text, repr or attribute holds the key, though the server echoes it.

All trials run at once (a thread per blocking trial, one event loop for the
async ones), so the module takes about the longest bound.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from runpod_typed import (
    AsyncRunpod,
    AuthenticationError,
    PollingOptions,
    ResponseFormatError,
    ResponseTooLargeError,
    RetryPolicy,
    Runpod,
    RunpodError,
    RunpodFactory,
    ServerError,
    StreamInterrupted,
    TransportError,
    WaitTimeout,
)
from runpod_typed._flow import ABORT_BUDGET_SECONDS

from . import hostile_server as hs
from .recorder import SECRET_KEY, Case, Results, SecretWitness, describe

SECTION = "hostile"
pytestmark = pytest.mark.reliability

#: The timeout given to calls that take one.
T = 1.5
#: The margin the contract allows past a bound.
SLACK = 1.0
#: The clients' `timeout=` option for calls without a timeout argument: what bounds each
#: of their requests. Calls given `timeout=T` use the default option (30 s), so that T
#: bounds them.
CLIENT_TIMEOUT = 0.5
#: The clients' retry policy: the default one.
RETRY = RetryPolicy()
#: `max_response_bytes` of this module's clients (test_memory measures the default cap).
CAP = 1024 * 1024
#: Seconds between two trickled bytes.
TRICKLE = 0.4
#: Trials of a phase start this far apart (in an interleaved order), so that their
#: deadlines do not all fire in the same millisecond: on a loaded 2-core machine a
#: burst of 80 clean-ups at once would time the burst, not each call's bound.
STAGGER = 0.05
#: After this long a trial still running counts as hung (the server is then stopped).
WATCH = 30.0
MAP_INPUTS = 3
POLLING = PollingOptions(first_delay=0.02, max_delay=0.2)
JOB_INPUT = {"prompt": "x"}

_WAIT = ("status-sync", "status")


def retry_bound(policy: RetryPolicy = RETRY, timeout: float = CLIENT_TIMEOUT) -> float:
    """The longest a call without a timeout may take: every attempt runs out its
    request timeout, and every back-off between attempts is the longest it can be."""
    backoffs = sum(policy.backoff_cap(n) for n in range(1, policy.max_attempts))
    return policy.max_attempts * timeout + backoffs


@dataclass(frozen=True)
class Call:
    key: str
    label: str
    #: Routes the pattern is applied to (the rest answer like RunPod).
    targets: tuple[str, ...]
    #: Takes `timeout=T` (else bounded by the client's options).
    timed: bool = True
    #: Giving up cancels the remote job(s).
    cleans_up: bool = False
    #: Jobs it waits on (0: none, or the control plane).
    jobs: int = 1
    #: Semantic patterns that apply to it (besides the byte patterns and the 401).
    extra: tuple[str, ...] = ()


CALLS = {
    c.key: c
    for c in (
        Call(
            "run_sync",
            "endpoint.run_sync(x, timeout=T)",
            _WAIT,
            cleans_up=True,
            extra=("wrong-id",),
        ),
        Call("run_sync-submit", "endpoint.run_sync(x, timeout=T), at /run", ("run",)),
        Call(
            "output",
            "job.output(timeout=T)",
            _WAIT,
            cleans_up=True,
            extra=("wrong-id",),
        ),
        Call(
            "stream",
            "job.stream(timeout=T), iterated",
            ("stream", *_WAIT),
            cleans_up=True,
            extra=("lost-stream",),
        ),
        Call(
            "map",
            f"endpoint.map({MAP_INPUTS} inputs, timeout=T)",
            _WAIT,
            cleans_up=True,
            jobs=MAP_INPUTS,
            extra=("wrong-id",),
        ),
        Call(
            "wait_until_running",
            "pods.wait_until_running(pod_id, timeout=T)",
            (hs.PODS, hs.GRAPHQL),
            jobs=0,
        ),
        Call("cancel", "job.cancel()", ("cancel",), timed=False, extra=("wrong-id",)),
        Call("health", "endpoint.health()", ("health",), timed=False, jobs=0),
        Call("pods.list", "pods.list()", (hs.PODS, hs.GRAPHQL), timed=False, jobs=0),
    )
}


@dataclass(frozen=True)
class Pattern:
    key: str
    label: str
    behaviour: str
    #: `/cancel` misbehaves the same way.
    with_cancel: bool = False
    #: A plan option: the jobs' state and output in honest answers.
    state: str = "IN_PROGRESS"
    output: Any = None
    #: Applied to every route, not only the call's targets.
    everywhere: bool = False


_BYTES = {
    hs.HANG: "hangs (accepts, never answers)",
    hs.STALL: "stalls after the headers",
    hs.TRICKLE_HEAD: f"trickles the head (1 byte / {TRICKLE:g} s)",
    hs.TRICKLE_BODY: f"trickles the body (1 byte / {TRICKLE:g} s)",
}
PATTERNS = {
    p.key: p
    for p in (
        *(Pattern(b, label, b) for b, label in _BYTES.items()),
        Pattern(hs.ENDLESS, f"endless chunked body (cap {CAP // 1024} KiB)", hs.ENDLESS),
        *(
            Pattern(f"{b}+cancel", f"{label}, /cancel too", b, with_cancel=True)
            for b, label in _BYTES.items()
        ),
        Pattern("wrong-id", "answers about another job", hs.WRONG_ID),
        Pattern(
            "lost-stream",
            "loses a /stream answer; final output []",
            hs.LOST,
            state="COMPLETED",
            output=[],
        ),
        Pattern("echo-401", "401 quoting the key", hs.ECHO_401, everywhere=True),
    )
}
BYTE_PATTERNS = (*_BYTES, hs.ENDLESS)
CLIENTS = ("sync", "async")


@dataclass(frozen=True)
class Trial:
    call: Call
    pattern: Pattern
    client: str

    @property
    def key(self) -> str:
        return f"{self.call.key}-{self.client}-{self.pattern.key}"

    @property
    def api_key(self) -> str:
        """The tenant's own key: the server tells trials apart by it."""
        return f"{SECRET_KEY}-{self.key.replace('+', '-')}"

    @property
    def endpoint_id(self) -> str:
        return f"h-{self.key.replace('+', '-')}"[:100]

    def plan(self) -> hs.Plan:
        p = self.pattern
        if p.everywhere:
            routes = dict.fromkeys((*hs.JOB_ROUTES, hs.GRAPHQL, hs.PODS), p.behaviour)
        elif p.behaviour == hs.LOST:
            routes = {"stream": p.behaviour}  # the recovery's status reads are answered
        else:
            routes = dict.fromkeys(self.call.targets, p.behaviour)
            if p.with_cancel:
                routes["cancel"] = p.behaviour
        return hs.Plan(routes=routes, state=p.state, output=p.output, trickle=TRICKLE)

    @property
    def expected(self) -> type[RunpodError]:
        behaviour = self.pattern.behaviour
        if behaviour == hs.ENDLESS:
            return ResponseTooLargeError
        if behaviour == hs.WRONG_ID:
            # A wait rides out a few unreadable status answers (a proxy's bad moment), so
            # with a deadline it may be the deadline that ends it: either is typed, and
            # the other job's output is never returned.
            return ResponseFormatError
        if behaviour == hs.LOST:
            return StreamInterrupted
        if behaviour == hs.ECHO_401:
            return AuthenticationError
        return WaitTimeout if self.call.timed else TransportError

    @property
    def cancels(self) -> bool:
        """Gives up on a known job with a WaitTimeout, so it sends /cancel."""
        return (
            self.expected is WaitTimeout and self.call.cleans_up and "run" not in self.call.targets
        )

    @property
    def bound(self) -> float:
        if not self.call.timed:
            return retry_bound() + SLACK
        cleanup_meets_server = self.call.cleans_up and self.pattern.with_cancel
        cleanup_meets_server |= "run" in self.call.targets  # see test_deadlines
        return T + SLACK + (ABORT_BUDGET_SECONDS if cleanup_meets_server else 0.0)

    def expectation(self) -> str:
        name = self.expected.__name__
        if self.expected is ResponseFormatError and self.call.timed:
            name += " (or WaitTimeout if the deadline comes first)"
        text = f"{name} by {self.bound:g} s"
        if self.cancels:
            text += (
                "; cancelled=False (the /cancel misbehaves too)"
                if self.pattern.with_cancel
                else f"; cancelled=True, /cancel reached the server for {self.call.jobs} job(s)"
            )
        return text + "; the key in no error text, repr or attribute"


def _applies(call: Call, pattern: Pattern) -> bool:
    if pattern.key in BYTE_PATTERNS or pattern.key == "echo-401":
        return True
    if pattern.with_cancel:
        return call.cleans_up
    return pattern.key in call.extra


TRIALS = [
    Trial(call, pattern, client)
    for call in CALLS.values()
    for pattern in PATTERNS.values()
    if _applies(call, pattern)
    for client in CLIENTS
]
#: Trials through a blocking client's own pool (Runpod without a factory; the async
#: client's own pool is the factory's kind, and costs seconds to build on a busy machine),
#: and through a pool the caller passes (`http_client=httpx.Client()`).
OWN_POOL = [
    Trial(CALLS["output"], PATTERNS[hs.TRICKLE_BODY], "sync-own"),
    Trial(CALLS["health"], PATTERNS[hs.TRICKLE_HEAD], "sync-own"),
    Trial(CALLS["output"], PATTERNS[hs.TRICKLE_BODY], "sync-user"),
    Trial(CALLS["output"], PATTERNS[f"{hs.TRICKLE_BODY}+cancel"], "sync-user"),
    Trial(CALLS["health"], PATTERNS[hs.TRICKLE_HEAD], "sync-user"),
]
ALL_TRIALS = TRIALS + OWN_POOL

#: Known defects: trial key -> reason (xfail(strict=True) until fixed).
KNOWN_DEFECTS: dict[str, str] = {}


@dataclass
class Outcome:
    elapsed: float | None = None
    error: BaseException | None = None
    returned: Any = None
    did_return: bool = False
    jobs_left: int = 0
    cancels: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def result(self) -> str:
        if self.elapsed is None:
            return "still waiting"
        if self.error is None:
            return f"returned {self.returned!r}"[:80]
        if isinstance(self.error, WaitTimeout):
            return f"WaitTimeout (cancelled={self.error.cancelled})"
        return type(self.error).__name__


def job_id_of(trial: Trial) -> str:
    return f"job-given-{trial.endpoint_id}"[:120]


def call_sync(rp: Runpod, trial: Trial) -> Any:
    ep = rp.endpoint(trial.endpoint_id)
    key = trial.call.key
    if key in ("run_sync", "run_sync-submit"):
        return ep.run_sync(JOB_INPUT, timeout=T)
    if key == "output":
        return ep.job(job_id_of(trial)).output(timeout=T)
    if key == "stream":
        return list(ep.job(job_id_of(trial)).stream(timeout=T))
    if key == "map":
        return ep.map([JOB_INPUT] * MAP_INPUTS, timeout=T, concurrency=MAP_INPUTS)
    if key == "wait_until_running":
        return rp.pods.wait_until_running("pod-1", timeout=T)
    if key == "cancel":
        return ep.job(job_id_of(trial)).cancel()
    if key == "health":
        return ep.health()
    if key == "pods.list":
        return rp.pods.list()
    raise AssertionError(key)


async def call_async(rp: AsyncRunpod, trial: Trial) -> Any:
    ep = rp.endpoint(trial.endpoint_id)
    key = trial.call.key
    if key in ("run_sync", "run_sync-submit"):
        return await ep.run_sync(JOB_INPUT, timeout=T)
    if key == "output":
        return await ep.job(job_id_of(trial)).output(timeout=T)
    if key == "stream":
        return [chunk async for chunk in ep.job(job_id_of(trial)).stream(timeout=T)]
    if key == "map":
        return await ep.map([JOB_INPUT] * MAP_INPUTS, timeout=T, concurrency=MAP_INPUTS)
    if key == "wait_until_running":
        return await rp.pods.wait_until_running("pod-1", timeout=T)
    if key == "cancel":
        return await ep.job(job_id_of(trial)).cancel()
    if key == "health":
        return await ep.health()
    if key == "pods.list":
        return await rp.pods.list()
    raise AssertionError(key)


def client_options(server: hs.HostileServer, timed: bool) -> dict[str, Any]:
    return {
        **server.urls(),
        **({} if timed else {"timeout": CLIENT_TIMEOUT}),
        "retry": RETRY,
        "polling": POLLING,
        "max_response_bytes": CAP,
        "rate_limits": False,
    }


def _record_call(outcome: Outcome, witness: SecretWitness, call: Any) -> Any:
    """Run `call()` (blocking) and record its elapsed time and error."""
    started = time.monotonic()
    try:
        outcome.returned = call()
        outcome.did_return = True
    except Exception as exc:
        outcome.error = exc
        witness.check_exception(exc)
    finally:
        outcome.elapsed = time.monotonic() - started


def _sync_trial(
    trial: Trial,
    rp: Runpod,
    barrier: threading.Barrier,
    outcome: Outcome,
    witness: SecretWitness,
    offset: float,
) -> None:
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        return
    time.sleep(offset)
    _record_call(outcome, witness, lambda: call_sync(rp, trial))


def _async_trials(
    loop: asyncio.AbstractEventLoop,
    clients: dict[str, AsyncRunpod],
    trials: list[Trial],
    barrier: threading.Barrier,
    outcomes: dict[str, Outcome],
    witness: SecretWitness,
) -> None:
    """The async trials of a phase, on the module's event loop (one for every phase: the
    async clients share their pools, which belong to the loop that first used them)."""

    async def one(trial: Trial, offset: float) -> None:
        await asyncio.sleep(offset)
        outcome = outcomes[trial.key]
        started = time.monotonic()
        try:
            outcome.returned = await call_async(clients[trial.key], trial)
            outcome.did_return = True
        except Exception as exc:
            outcome.error = exc
            witness.check_exception(exc)
        finally:
            outcome.elapsed = time.monotonic() - started

    async def main() -> None:
        if trials:
            await warm_up(clients[trials[0].key])
        try:
            barrier.wait()  # a moment's block; nothing else runs on this loop yet
        except threading.BrokenBarrierError:
            return
        order = _interleaved(trials)
        await asyncio.gather(*(one(t, STAGGER * order[t.key]) for t in trials))

    asyncio.run_coroutine_threadsafe(main(), loop).result()


def warm_up(rp: Runpod | AsyncRunpod) -> Any:
    """Load what a first call loads lazily (the generated GraphQL clients, anyio), so the
    trials time the SDK's deadlines, not imports made by 80 threads at once."""
    assert rp.pods is not None and rp.graphql is not None
    if isinstance(rp, AsyncRunpod):
        import anyio.lowlevel

        return anyio.lowlevel.checkpoint()
    return None


def _interleaved(trials: list[Trial]) -> dict[str, int]:
    """Each trial's place in the start order: round-robin over the calls."""
    by_call: dict[str, list[Trial]] = {}
    for trial in trials:
        by_call.setdefault(trial.call.key, []).append(trial)
    order: dict[str, int] = {}
    rounds = max((len(group) for group in by_call.values()), default=0)
    for i in range(rounds):
        for group in by_call.values():
            if i < len(group):
                order[group[i].key] = len(order)
    return order


def _phase(
    loop: asyncio.AbstractEventLoop,
    sync_trials: list[Trial],
    async_trials: list[Trial],
    sync_clients: dict[str, Runpod],
    async_clients: dict[str, AsyncRunpod],
    outcomes: dict[str, Outcome],
    witness: SecretWitness,
) -> list[threading.Thread]:
    """Run blocking trials (a thread each) and async ones (one loop) at once, staggered."""
    barrier = threading.Barrier(len(sync_trials) + 1, timeout=60)
    order = _interleaved(sync_trials)
    threads = [
        threading.Thread(
            target=_sync_trial,
            args=(
                t,
                sync_clients[t.key],
                barrier,
                outcomes[t.key],
                witness,
                STAGGER * order[t.key],
            ),
            name=f"hostile-{t.key}",
            daemon=True,
        )
        for t in sync_trials
    ]
    threads.append(
        threading.Thread(
            target=_async_trials,
            args=(loop, async_clients, async_trials, barrier, outcomes, witness),
            name="hostile-async",
            daemon=True,
        )
    )
    for thread in threads:
        thread.start()
    watch_until = time.monotonic() + WATCH
    for thread in threads:
        thread.join(timeout=max(0.0, watch_until - time.monotonic()))
    return threads


@pytest.fixture(scope="module")
def measured(secret_witness: SecretWitness) -> Iterator[dict[str, Outcome]]:
    """Run every trial; trial key -> what it measured.

    Two phases: the blocking trials with a deadline next to the async ones without,
    then the async trials with a deadline next to the blocking ones without. A trial
    with a deadline is timed to a fraction of a second; those without one spend most
    of their time waiting, so they barely compete for the CPU (80 threads at once
    would starve the event loop of the GIL and time the test, not the SDK).
    """
    server = hs.HostileServer()
    server.__enter__()
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever, name="hostile-loop", daemon=True)
    loop_thread.start()
    threads: list[threading.Thread] = []
    factory: RunpodFactory | None = None
    sync_clients: dict[str, Runpod] = {}
    async_clients: dict[str, AsyncRunpod] = {}
    callers: list[httpx.Client] = []
    try:
        for trial in ALL_TRIALS:
            server.plan(trial.api_key, trial.plan())
        # One factory: its pools (the SDK's own) serve every tenant; the tenants of calls
        # without a timeout argument get the short client timeout over the same pools.
        factory = RunpodFactory(**client_options(server, True))
        for trial in ALL_TRIALS:
            options = client_options(server, trial.call.timed)
            if trial.client == "sync-own":
                sync_clients[trial.key] = Runpod(trial.api_key, **options)
            elif trial.client == "sync-user":
                callers.append(httpx.Client())
                sync_clients[trial.key] = Runpod(trial.api_key, http_client=callers[-1], **options)
            elif trial.client == "sync":
                rp = factory.client(trial.api_key)
                if not trial.call.timed:
                    rp = Runpod(trial.api_key, http_client=rp._http, **options)
                sync_clients[trial.key] = rp
            else:
                arp = factory.async_client(trial.api_key)
                if not trial.call.timed:
                    arp = AsyncRunpod(trial.api_key, http_client=arp._http, **options)
                async_clients[trial.key] = arp
        warm_up(next(iter(sync_clients.values())))
        outcomes = {t.key: Outcome() for t in ALL_TRIALS}

        def kind(trials: Iterator[Trial] | list[Trial], client: str, timed: bool) -> list[Trial]:
            return [t for t in trials if t.client.startswith(client) and t.call.timed is timed]

        for timed_client in ("sync", "async"):
            untimed_client = "async" if timed_client == "sync" else "sync"
            phase = kind(ALL_TRIALS, timed_client, True) + kind(ALL_TRIALS, untimed_client, False)
            threads += _phase(
                loop,
                [t for t in phase if t.client.startswith("sync")],
                [t for t in phase if t.client.startswith("async")],
                sync_clients,
                async_clients,
                outcomes,
                secret_witness,
            )
        for trial in ALL_TRIALS:
            seen = server.seen(trial.api_key)
            outcome = outcomes[trial.key]
            waited = set(seen.issued)
            if trial.call.key in ("output", "stream"):
                waited.add(job_id_of(trial))
            outcome.jobs_left = len(waited - set(seen.cancelled))
            outcome.cancels = seen.count("cancel")
        yield outcomes
    finally:
        server.stop()  # trials still hung fail fast once their connections close
        for thread in threads:
            thread.join(timeout=5)
        for client in sync_clients.values():
            client.close()
        for pool in callers:
            pool.close()

        async def close_async() -> None:
            for client in async_clients.values():
                await client.close()
            if factory is not None:
                await factory.aclose()

        asyncio.run_coroutine_threadsafe(close_async(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        loop_thread.join(timeout=5)
        loop.close()


def _seconds(outcome: Outcome) -> str:
    return f"{outcome.elapsed:.2f}" if outcome.elapsed is not None else f"> {WATCH:g}"


def _record(results: Results, outcomes: dict[str, Outcome]) -> None:
    results.figure(SECTION, "timeout= given to calls that take one (s)", T)
    results.figure(SECTION, "client option timeout= (s per request)", CLIENT_TIMEOUT)
    results.figure(
        SECTION,
        "retry policy (the default)",
        f"{RETRY.max_attempts} attempts, back-off caps "
        + ", ".join(f"{RETRY.backoff_cap(n):g}" for n in range(1, RETRY.max_attempts))
        + " s",
    )
    results.figure(
        SECTION,
        "bound for calls without a timeout (s)",
        f"{RETRY.max_attempts} x {CLIENT_TIMEOUT:g} + {retry_bound() - RETRY.max_attempts * CLIENT_TIMEOUT:g}"
        f" = {retry_bound():g}, + {SLACK:g} margin",
    )
    results.figure(SECTION, "clean-up budget for the remote cancel (s)", ABORT_BUDGET_SECONDS)
    results.figure(SECTION, "max_response_bytes in these trials", CAP)
    patterns = [p for p in PATTERNS.values() if any(t.pattern is p for t in TRIALS)]
    pivot = []
    for call in CALLS.values():
        row: dict[str, Any] = {"call (sync / async, s)": f"`{call.label}`"}
        for pattern in patterns:
            times = []
            for client in CLIENTS:
                key = Trial(call, pattern, client).key
                times.append(_seconds(outcomes[key]) if key in outcomes else "")
            row[pattern.key] = " / ".join(times) if any(times) else "-"
        pivot.append(row)
    results.figure(SECTION, "time to give up, per call and server pattern", pivot)
    rows = []
    for trial in ALL_TRIALS:
        outcome = outcomes[trial.key]
        rows.append(
            {
                "call": f"`{trial.call.label}`",
                "client": trial.client,
                "server": trial.pattern.label,
                "gave up after (s)": _seconds(outcome),
                "bound (s)": f"{trial.bound:g}",
                "raised": outcome.result(),
                "/cancel sent": outcome.cancels,
                "jobs left uncancelled": outcome.jobs_left if trial.call.jobs else "-",
            }
        )
    results.figure(SECTION, "every trial", rows)


def _param(trial: Trial) -> Any:
    reason = KNOWN_DEFECTS.get(trial.key)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(trial, id=trial.key, marks=marks)


@pytest.mark.parametrize("trial", [_param(t) for t in ALL_TRIALS])
def test_hostile_server(
    trial: Trial, measured: dict[str, Outcome], case: Case, results: Results
) -> None:
    """A call against a misbehaving route gives up in time with a typed error, key unquoted."""
    _record(results, measured)
    outcome = measured[trial.key]
    case.expected = trial.expectation()
    if outcome.elapsed is None:
        case.observed = f"still waiting after {WATCH:g} s"
        pytest.fail(f"{trial.call.label} did not give up within {WATCH:g} s")
    case.observed = (
        f"{outcome.result()} after {outcome.elapsed:.2f} s; /cancel sent {outcome.cancels}x"
        + (f"; jobs left uncancelled: {outcome.jobs_left}" if trial.call.jobs else "")
        + (f" -- {describe(outcome.error)}" if outcome.error is not None else "")
    )
    assert outcome.error is not None, f"returned {outcome.returned!r} instead of raising"
    allowed: tuple[type[BaseException], ...] = (trial.expected,)
    if trial.expected is ResponseFormatError and trial.call.timed:
        allowed += (WaitTimeout,)
    assert isinstance(outcome.error, allowed), (
        f"expected {trial.expected.__name__}, got {describe(outcome.error)}"
    )
    assert outcome.elapsed <= trial.bound, (
        f"gave up after {outcome.elapsed:.2f} s, over the bound of {trial.bound:g} s"
    )
    if trial.expected is WaitTimeout:
        assert outcome.elapsed >= T - 0.05, f"gave up early, after {outcome.elapsed:.2f} s"
    if trial.cancels and isinstance(outcome.error, WaitTimeout):
        assert outcome.error.cancelled is not trial.pattern.with_cancel
        if not trial.pattern.with_cancel:
            assert outcome.jobs_left == 0, f"{outcome.jobs_left} job(s) were not cancelled"
    for text in (str(outcome.error), repr(outcome.error), repr(vars(outcome.error))):
        assert trial.api_key not in text and SECRET_KEY not in text


def test_hostile_trials_ran(measured: dict[str, Outcome], case: Case) -> None:
    """Every trial of the module gave up (none still waiting when the server stopped)."""
    hung = [key for key, outcome in measured.items() if outcome.elapsed is None]
    by_error = Counter(type(o.error).__name__ if o.error else "returned" for o in measured.values())
    case.observed = f"{len(measured)} trials; " + ", ".join(
        f"{name}: {n}" for name, n in sorted(by_error.items())
    )
    assert not hung, hung


#: What turning a proxy's huge error page into an error may cost (it is cut to an excerpt).
HUGE_PAGE_BOUND = 2.0


@pytest.mark.parametrize("tenants", [1, 300])
def test_huge_error_page_costs_what_a_short_one_does(
    tenants: int, case: Case, secret_witness: SecretWitness
) -> None:
    """A 20 MiB 502 page quoting the key: ServerError quickly, whatever the tenant count."""
    keys = [f"rpa_HUGE{tenants:03d}_{i:04d}_0123456789abcdef" for i in range(tenants)]
    with (
        hs.HostileServer() as server,
        RunpodFactory(**server.urls(), retry=RetryPolicy.none()) as factory,
    ):
        clients = [factory.client(key) for key in keys]  # every key registered, kept alive
        server.plan(keys[0], hs.Plan({"health": hs.HUGE_502}))
        started = time.monotonic()
        with pytest.raises(RunpodError) as caught:
            clients[0].endpoint("huge").health()
        elapsed = time.monotonic() - started
    secret_witness.check_exception(caught.value)
    texts = (str(caught.value), repr(caught.value), repr(vars(caught.value)))
    case.expected = f"ServerError within {HUGE_PAGE_BOUND:g} s; the key in no text"
    case.observed = (
        f"{type(caught.value).__name__} after {elapsed:.2f} s with {tenants} live tenant(s); "
        f".body {len(getattr(caught.value, 'body', ''))} chars"
    )
    assert isinstance(caught.value, ServerError)
    assert not any(keys[0] in text for text in texts)
    assert elapsed <= HUGE_PAGE_BOUND, case.observed
