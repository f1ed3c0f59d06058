"""Hung servers: a call given `timeout=T` gives up by T, whatever the server does.

Each call that takes a timeout -- `run_sync` (with and without cancel_on_exit),
`job.output`, `job.stream`, `map` and `pods.wait_until_running` -- is made from
the blocking and the async client against an emulator whose routes accept the
request and then hang (`latency=30` on the routes the call uses), and again with
`/cancel` hanging too. The time bound is the contract under test, with a
generous margin, not a speed target: the call must raise `WaitTimeout` (a
builtin `TimeoutError`) within T + 1 s, or within T + 1 s + the clean-up budget
(`ABORT_BUDGET_SECONDS`) when its clean-up meets the hung server: the cancel
hangs too, or the submission hangs (the job may exist already, and the clean-up
may spend its budget learning the id to cancel; with cancel_on_exit=False there
is no clean-up and no budget).
`WaitTimeout.cancelled` must be True exactly when a job id was known and the
cancel was answered, and then the emulator must show the job CANCELLED.

All trials run at once (one thread each, an event loop per async trial) after a
set-up phase without faults (jobs submitted, pods created), so the module takes
about T + the clean-up budget (up to the `WATCH` bound while a call overruns);
each test then judges one trial's measurements.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from runpod_typed import AsyncRunpod, Runpod, WaitTimeout
from runpod_typed._flow import ABORT_BUDGET_SECONDS
from runpod_typed.emulator import Emulator

from . import harness
from .recorder import Case, Results, SecretWitness, describe

SECTION = "deadlines"
pytestmark = pytest.mark.reliability

#: The timeout every call is given (small, to keep the module fast).
T = 1.5
#: The margin the contract allows past T.
SLACK = 1.0
#: Latency of a hung route: far beyond every bound here.
HANG = 30.0
#: How long each remote job would run if nobody cancelled it.
JOB_SECONDS = 30.0
MAP_INPUTS = 3
#: After this long, a trial still running counts as hung (the emulators are then stopped);
#: long enough to measure a call that overruns its bound by a few clean-up budgets.
WATCH = 20.0
GPU = "NVIDIA GeForce RTX 4090"
JOB_ROUTE = re.compile(r"/(?:status|status-sync|stream|cancel)/([^/]+)$")

_WAIT_ROUTES = ("status", "status-sync", "stream")
_SUBMIT_ROUTES = ("run", "runsync")


def _hang(*routes: str) -> str:
    return ";".join(f"{route}:latency={HANG:g}" for route in routes)


@dataclass(frozen=True)
class Fault:
    """A way for the server to hang, served by one emulator."""

    key: str
    label: str
    spec: str
    #: The submission hangs: the call never learns a job id, so there is nothing to cancel.
    submit_hangs: bool
    cancel_hangs: bool


FAULTS = {
    fault.key: fault
    for fault in (
        Fault("submit", "/run, /runsync hang", _hang(*_SUBMIT_ROUTES), True, False),
        Fault(
            "submit+cancel",
            "/run, /runsync, /cancel hang",
            _hang(*_SUBMIT_ROUTES, "cancel"),
            True,
            True,
        ),
        Fault("wait", "status, status-sync, stream hang", _hang(*_WAIT_ROUTES), False, False),
        Fault(
            "wait+cancel",
            "status, status-sync, stream, /cancel hang",
            _hang(*_WAIT_ROUTES, "cancel"),
            False,
            True,
        ),
        Fault(
            "control",
            "the control plane (GraphQL, REST v2) hangs",
            _hang("graphql", "rest"),
            False,
            False,
        ),
    )
}
_ALL_JOB_FAULTS = ("submit", "submit+cancel", "wait", "wait+cancel")


@dataclass(frozen=True)
class Call:
    """A call that takes `timeout=`, and what giving up should do remotely."""

    key: str
    label: str
    faults: tuple[str, ...]
    #: Giving up cancels the remote job(s) (cancel_on_exit).
    cancels: bool = True
    #: Remote jobs the call waits on (0: control plane).
    jobs: int = 1
    #: Waits on a job submitted beforehand (job.output, job.stream).
    needs_job: bool = False


CALLS = {
    call.key: call
    for call in (
        Call("run_sync", "endpoint.run_sync(x, timeout=T)", _ALL_JOB_FAULTS),
        Call(
            "run_sync-keep",
            "endpoint.run_sync(x, timeout=T, cancel_on_exit=False)",
            _ALL_JOB_FAULTS,
            cancels=False,
        ),
        Call("output", "job.output(timeout=T)", ("wait", "wait+cancel"), needs_job=True),
        Call("stream", "job.stream(timeout=T), iterated", ("wait", "wait+cancel"), needs_job=True),
        Call("map", f"endpoint.map({MAP_INPUTS} inputs, timeout=T)", _ALL_JOB_FAULTS, jobs=3),
        Call(
            "wait_until_running",
            "pods.wait_until_running(pod_id, timeout=T)",
            ("control",),
            cancels=False,
            jobs=0,
        ),
    )
}
CLIENTS = ("sync", "async")


@dataclass(frozen=True)
class Trial:
    call: Call
    client: str
    fault: Fault

    @property
    def key(self) -> str:
        return f"{self.call.key}-{self.client}-{self.fault.key}"

    @property
    def endpoint_id(self) -> str:
        return f"dl-{self.key}".replace("+", "-")

    @property
    def sends_cancel(self) -> bool:
        """A job id is known when the call gives up and the call cancels it."""
        return self.call.cancels and self.call.jobs > 0 and not self.fault.submit_hangs

    @property
    def expect_cancelled(self) -> bool:
        return self.sends_cancel and not self.fault.cancel_hangs

    @property
    def bound(self) -> float:
        """T + 1 s, plus the clean-up budget when the clean-up itself may meet a hung server.

        That is a hung /cancel, and also a hung submission: the job may exist on RunPod
        already, so the clean-up may spend its budget waiting to learn the id it must
        cancel (the cancellation trials require that no job is left running unseen).
        With cancel_on_exit=False there is no clean-up, so no budget either.
        """
        cleans_up = self.call.cancels and self.call.jobs > 0
        hung_cleanup = cleans_up and (self.fault.cancel_hangs or self.fault.submit_hangs)
        return T + SLACK + (ABORT_BUDGET_SECONDS if hung_cleanup else 0.0)

    def expectation(self) -> str:
        cancelled = f"cancelled={self.expect_cancelled}"
        if self.expect_cancelled:
            cancelled += f", {self.call.jobs} job(s) CANCELLED"
        elif self.call.jobs and not self.call.cancels:
            cancelled += ", no /cancel sent, job not cancelled"
        elif self.call.jobs and self.fault.submit_hangs:
            cancelled += " (no job id known), no /cancel sent"
        return f"WaitTimeout in [{T:g}, {self.bound:g}] s; {cancelled}"


TRIALS = [
    Trial(call, client, FAULTS[fault])
    for call in CALLS.values()
    for fault in call.faults
    for client in CLIENTS
]

#: Known defects: trial key -> reason (the test is xfail(strict=True) until fixed).
KNOWN_DEFECTS: dict[str, str] = {}


@dataclass
class Outcome:
    """What one trial measured."""

    started: float | None = None
    elapsed: float | None = None
    error: BaseException | None = None
    returned: bool = False
    job_ids: set[str] = field(default_factory=set)
    cancels: int = 0
    remote: Counter[str] = field(default_factory=Counter)

    def saw(self, request: httpx.Request) -> None:
        path = request.url.path
        found = JOB_ROUTE.search(path)
        if found:
            self.job_ids.add(found.group(1))
        if "/cancel/" in path:
            self.cancels += 1

    def result(self) -> str:
        if self.elapsed is None:
            return "still waiting"
        if self.error is None:
            return "returned"
        if isinstance(self.error, WaitTimeout):
            return "WaitTimeout"
        return describe(self.error)

    @property
    def cancelled(self) -> bool | None:
        return self.error.cancelled if isinstance(self.error, WaitTimeout) else None


JOB_INPUT = {"sleep": JOB_SECONDS}


@dataclass(frozen=True)
class Prepared:
    """What the set-up phase made for a trial: a job to wait on, or a pod."""

    job_id: str | None = None
    pod_id: str | None = None


def call_sync(rp: Runpod, trial: Trial, prepared: Prepared) -> None:
    ep = rp.endpoint(trial.endpoint_id)
    key = trial.call.key
    if key == "run_sync":
        ep.run_sync(JOB_INPUT, timeout=T)
    elif key == "run_sync-keep":
        ep.run_sync(JOB_INPUT, timeout=T, cancel_on_exit=False)
    elif key == "output":
        ep.job(_known(prepared.job_id)).output(timeout=T)
    elif key == "stream":
        for _ in ep.job(_known(prepared.job_id)).stream(timeout=T):
            pass
    elif key == "map":
        ep.map([JOB_INPUT] * MAP_INPUTS, timeout=T, concurrency=MAP_INPUTS)
    elif key == "wait_until_running":
        rp.pods.wait_until_running(_known(prepared.pod_id), timeout=T)
    else:
        raise AssertionError(f"unknown call {key}")


async def call_async(rp: AsyncRunpod, trial: Trial, prepared: Prepared) -> None:
    ep = rp.endpoint(trial.endpoint_id)
    key = trial.call.key
    if key == "run_sync":
        await ep.run_sync(JOB_INPUT, timeout=T)
    elif key == "run_sync-keep":
        await ep.run_sync(JOB_INPUT, timeout=T, cancel_on_exit=False)
    elif key == "output":
        await ep.job(_known(prepared.job_id)).output(timeout=T)
    elif key == "stream":
        async for _ in ep.job(_known(prepared.job_id)).stream(timeout=T):
            pass
    elif key == "map":
        await ep.map([JOB_INPUT] * MAP_INPUTS, timeout=T, concurrency=MAP_INPUTS)
    elif key == "wait_until_running":
        await rp.pods.wait_until_running(_known(prepared.pod_id), timeout=T)
    else:
        raise AssertionError(f"unknown call {key}")


def _known(value: str | None) -> str:
    assert value is not None, "the set-up phase made nothing for this trial"
    return value


def run_trial(
    trial: Trial,
    server: Any,
    witness: SecretWitness,
    prepared: Prepared,
    barrier: threading.Barrier,
    outcome: Outcome,
    tls: ssl.SSLContext,
) -> None:
    """Make the trial's call (after every trial is ready) and time it until it gives up.

    Each pool gets a transport over one shared TLS context (unused on loopback): httpx
    would build one per client, a fifth of a second each, held up by the GIL.
    """
    urls = harness.emulator_urls(server)

    def failed(exc: Exception) -> None:
        outcome.error = exc
        witness.check_exception(exc)

    try:
        if trial.client == "sync":
            transport = httpx.HTTPTransport(limits=harness.LIMITS, verify=tls)
            rp = harness.sync_client(witness, transport=transport, on_request=outcome.saw, **urls)
            try:
                barrier.wait()
                outcome.started = time.monotonic()
                try:
                    call_sync(rp, trial, prepared)
                    outcome.returned = True
                except Exception as exc:
                    failed(exc)
                finally:
                    outcome.elapsed = time.monotonic() - outcome.started
            finally:
                rp._http.close()
            return

        async def main() -> None:
            async def saw(request: httpx.Request) -> None:
                outcome.saw(request)

            transport = httpx.AsyncHTTPTransport(limits=harness.LIMITS, verify=tls)
            rp = harness.async_client(witness, transport=transport, on_request=saw, **urls)
            try:
                barrier.wait()  # a moment's block; nothing else runs on this loop yet
                outcome.started = time.monotonic()
                try:
                    await call_async(rp, trial, prepared)
                    outcome.returned = True
                except Exception as exc:
                    failed(exc)
                finally:
                    outcome.elapsed = time.monotonic() - outcome.started
            finally:
                await rp._http.aclose()

        asyncio.run(main())
    except Exception as exc:  # the trial never got to its call (e.g. a broken barrier)
        if outcome.started is None:
            failed(exc)
            outcome.elapsed = 0.0


def prepare(trial: Trial, server: Any, witness: SecretWitness, tls: ssl.SSLContext) -> Prepared:
    """Before the faults: submit the job a wait needs, or create the pod."""
    if not trial.call.needs_job and trial.call.key != "wait_until_running":
        return Prepared()
    transport = httpx.HTTPTransport(limits=harness.LIMITS, verify=tls)
    rp = harness.sync_client(witness, transport=transport, **harness.emulator_urls(server))
    try:
        if trial.call.needs_job:
            return Prepared(job_id=rp.endpoint(trial.endpoint_id).run(JOB_INPUT).id)
        pod = rp.pods.create(name=f"dl-{trial.client}", image_name="img", gpu_type_id=GPU)
        return Prepared(pod_id=pod.id)
    finally:
        rp._http.close()


def _stop_all(stacks: list[ExitStack]) -> None:
    """Stop the emulators at once (each waits for its hung requests a moment)."""
    threads = [threading.Thread(target=stack.close, daemon=True) for stack in stacks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def measured(secret_witness: SecretWitness) -> Iterator[dict[str, Outcome]]:
    """Run every trial at once; the trial key -> what it measured."""
    stacks: list[ExitStack] = []
    servers: dict[str, Any] = {}
    threads: list[threading.Thread] = []
    try:
        for key in FAULTS:
            stack = ExitStack()
            stacks.append(stack)
            emulator = Emulator(default_handler="demo", rate_limits=False, workers=MAP_INPUTS + 1)
            servers[key] = stack.enter_context(emulator.serve())
        tls = ssl.create_default_context()
        prepared = {t.key: prepare(t, servers[t.fault.key], secret_witness, tls) for t in TRIALS}
        for key, server in servers.items():
            server.set_faults(FAULTS[key].spec)
        outcomes = {t.key: Outcome() for t in TRIALS}
        barrier = threading.Barrier(len(TRIALS), timeout=30)
        for trial in TRIALS:
            args = (trial, servers[trial.fault.key], secret_witness, prepared[trial.key])
            thread = threading.Thread(
                target=run_trial,
                args=(*args, barrier, outcomes[trial.key], tls),
                name=f"deadline-{trial.key}",
                daemon=True,
            )
            threads.append(thread)
            thread.start()
        watch_until = time.monotonic() + WATCH + 2.0  # + starting threads and clients
        for thread in threads:
            thread.join(timeout=max(0.0, watch_until - time.monotonic()))
        for trial in TRIALS:
            outcome = outcomes[trial.key]
            server = servers[trial.fault.key]
            if isinstance(outcome.error, WaitTimeout) and outcome.error.job_id:
                outcome.job_ids.add(outcome.error.job_id)  # e.g. from a /runsync answer
            for job_id in sorted(outcome.job_ids):
                state = server.job_state(trial.endpoint_id, job_id) or {}
                outcome.remote[str(state.get("status", "gone"))] += 1
        yield outcomes
    finally:
        _stop_all(stacks)
        until = time.monotonic() + 5.0  # trials hung past the watch end once their server stops
        for thread in threads:
            thread.join(timeout=max(0.0, until - time.monotonic()))


def _record(results: Results, outcomes: dict[str, Outcome]) -> None:
    """The report's figures (every test sets the same ones, from the one measurement)."""
    results.figure(SECTION, "timeout= given to each call (s)", T)
    results.figure(SECTION, "clean-up budget for the remote cancel (s)", ABORT_BUDGET_SECONDS)
    results.figure(SECTION, "latency of a hung route (s)", HANG)
    rows = []
    for trial in TRIALS:
        outcome = outcomes[trial.key]
        cancelled = outcome.cancelled
        rows.append(
            {
                "call": f"`{trial.call.label}`",
                "client": trial.client,
                "server": trial.fault.label,
                "gave up after (s)": (
                    f"{outcome.elapsed:.2f}" if outcome.elapsed is not None else f"> {WATCH:g}"
                ),
                "bound (s)": f"{trial.bound:g}",
                "raised": outcome.result(),
                "cancelled": "-" if cancelled is None else ("yes" if cancelled else "no"),
                "/cancel sent": outcome.cancels,
                "remote jobs after": _remote(trial, outcome),
            }
        )
    results.figure(SECTION, "time to give up", rows)


def _remote(trial: Trial, outcome: Outcome) -> str:
    if not trial.call.jobs:
        return "-"
    if not outcome.job_ids:
        return "no job id reached the client"
    return ", ".join(f"{state}: {n}" for state, n in sorted(outcome.remote.items()))


def _param(trial: Trial) -> Any:
    reason = KNOWN_DEFECTS.get(trial.key)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(trial, id=trial.key, marks=marks)


@pytest.mark.parametrize("trial", [_param(t) for t in TRIALS])
def test_gives_up_in_time(
    trial: Trial, measured: dict[str, Outcome], case: Case, results: Results
) -> None:
    """A call given timeout=T against a hung server raises WaitTimeout in time."""
    _record(results, measured)
    outcome = measured[trial.key]
    case.expected = trial.expectation()
    if outcome.elapsed is None:
        case.observed = f"still waiting after {WATCH:g} s"
        pytest.fail(f"{trial.call.label} did not give up within {WATCH:g} s")
    cancelled = outcome.cancelled
    case.observed = (
        f"{outcome.result()} after {outcome.elapsed:.2f} s"
        + ("" if cancelled is None else f", cancelled={cancelled}")
        + f"; /cancel sent {outcome.cancels}x; remote: {_remote(trial, outcome)}"
    )
    assert isinstance(outcome.error, WaitTimeout), f"expected WaitTimeout, got {outcome.result()}"
    assert isinstance(outcome.error, TimeoutError)
    assert T - 0.05 <= outcome.elapsed <= trial.bound, (
        f"gave up after {outcome.elapsed:.2f} s, outside [{T:g}, {trial.bound:g}] s"
    )
    assert outcome.error.cancelled is trial.expect_cancelled
    if trial.expect_cancelled:
        assert outcome.remote == Counter({"CANCELLED": trial.call.jobs}), (
            f"cancelled=True but the emulator shows {dict(outcome.remote)}"
        )
    if trial.call.jobs and not trial.sends_cancel:
        assert outcome.cancels == 0, "sent /cancel although there was nothing it may cancel"
        assert not outcome.remote["CANCELLED"], "a job the caller kept was cancelled"
