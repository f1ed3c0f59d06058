"""Cancellation trials: the caller gives up at a random moment; the remote job must stop.

Three ways of giving up, 100 seeded trials each, 25 at a time: cancelling the
asyncio task running `run_sync`, a client-side `timeout=` (WaitTimeout), and
leaving a `stream()` early (half with `aclosing`, half with a bare `break` that
leaves the generator to the garbage collector). About a third of the jobs are
short, so some are already final when the caller gives up; the rest would run
for 30 s. Afterwards every job the emulator created must be CANCELLED or have
been final already, and -- after a bounded wait -- none may still be running.

The client's request hooks track each trial's phase (before `/run`, `/run` in
flight, submitted) and map job ids to trials. A cancellation that lands while
the `/run` answer is in flight is the hard case: the SDK must still learn the
new job's id (finishing that request, shielded and bounded) and cancel it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest

from runpod_typed import AsyncEndpoint, AsyncRunpod, WaitTimeout

from .harness import await_until, emulator_urls, unfinished
from .recorder import Case, Results

SECTION = "cancellation"
pytestmark = pytest.mark.reliability

TRIALS = 100
AT_ONCE = 25
SHORT_SHARE = 0.3
#: How long a job nobody cancels would run (far beyond the bounded wait below).
LONG_SECONDS = 30.0
#: Seconds the trials' jobs get to reach a final state after the last trial.
SETTLE_BOUND = 10.0


@dataclass
class Tracker:
    """Each trial's phase and job id, as the client's request hooks saw them."""

    phase: dict[str, str] = field(default_factory=dict)
    job_of: dict[str, str] = field(default_factory=dict)
    cancels: int = 0

    async def on_request(self, request: httpx.Request) -> None:
        if request.url.path.endswith("/run"):
            self.phase[_trial_of(request)] = "/run in flight"
        elif "/cancel/" in request.url.path:
            self.cancels += 1

    async def on_response(self, response: httpx.Response) -> None:
        if response.request.url.path.endswith("/run") and response.status_code == 200:
            await response.aread()
            trial = _trial_of(response.request)
            self.job_of[trial] = response.json()["id"]
            self.phase[trial] = "submitted"


def _trial_of(request: httpx.Request) -> str:
    return str(json.loads(request.content)["input"]["trial"])


@dataclass(frozen=True)
class Trial:
    name: str
    short: bool
    moment: float

    @property
    def endpoint_id(self) -> str:
        return "cx-short" if self.short else "cx-long"


def plan(mode: str) -> list[Trial]:
    rng = random.Random(f"cancellation/{mode}")
    return [
        Trial(f"{mode}-{n}", rng.random() < SHORT_SHARE, round(rng.uniform(0.01, 0.4), 3))
        for n in range(TRIALS)
    ]


def sleep_input(trial: Trial) -> dict[str, Any]:
    seconds = round(trial.moment * random.Random(trial.name).uniform(0.2, 1.5), 3)
    return {"trial": trial.name, "sleep": seconds if trial.short else LONG_SECONDS}


def token_input(trial: Trial) -> dict[str, Any]:
    words = 5 if trial.short else int(LONG_SECONDS / 0.1)
    return {"trial": trial.name, "prompt": " ".join(f"w{i}" for i in range(words)), "delay": 0.02}


TrialRun = Callable[[AsyncEndpoint, Trial, Tracker], Awaitable[str]]


async def give_up_by_task_cancel(endpoint: AsyncEndpoint, trial: Trial, tracker: Tracker) -> str:
    task = asyncio.create_task(endpoint.run_sync(sleep_input(trial)))
    await asyncio.sleep(trial.moment)
    tracker.phase.setdefault(trial.name, "before /run")
    phase = tracker.phase[trial.name]
    task.cancel()
    await asyncio.wait([task])
    if task.cancelled():
        return f"CancelledError ({phase})"
    error = task.exception()
    return "returned" if error is None else type(error).__name__


async def give_up_by_timeout(endpoint: AsyncEndpoint, trial: Trial, tracker: Tracker) -> str:
    try:
        await endpoint.run_sync(sleep_input(trial), timeout=trial.moment)
    except WaitTimeout as exc:
        return "WaitTimeout (cancelled=True)" if exc.cancelled else "WaitTimeout (cancelled=False)"
    return "returned"


async def give_up_by_leaving_stream(endpoint: AsyncEndpoint, trial: Trial, tracker: Tracker) -> str:
    job = await endpoint.run(token_input(trial))
    wanted = 1 + int(trial.moment * 20)  # 1..9 chunks; short jobs have only 5
    seen: list[str] = []
    if int(trial.name.rsplit("-", 1)[1]) % 2:
        async with contextlib.aclosing(job.stream(str)) as chunks:  # type: ignore[type-var]
            async for chunk in chunks:
                seen.append(chunk)
                if len(seen) == wanted:
                    break
    else:
        async for chunk in job.stream(str):
            seen.append(chunk)
            if len(seen) == wanted:
                break
    if seen != [f"w{i}" for i in range(len(seen))]:
        return f"wrong chunks {seen[:3]}"
    return "left early" if len(seen) == wanted else "stream ended"


def untracked(server: Any, tracker: Tracker) -> int:
    """Jobs the emulator created whose id never reached the caller."""
    return int(server.counters()["jobs_created"]) - len(tracker.job_of)


MODES: dict[str, tuple[str, TrialRun]] = {
    "task cancel": ("demo", give_up_by_task_cancel),
    "client timeout": ("demo", give_up_by_timeout),
    "early stream exit": ("tokens", give_up_by_leaving_stream),
}


@pytest.mark.parametrize("mode", list(MODES))
async def test_cancellation_trials(
    mode: str,
    runpod_emulator_factory: Callable[..., Any],
    async_clients: Callable[..., AsyncRunpod],
    case: Case,
    results: Results,
) -> None:
    """100 trials at random moments: every remote job ends CANCELLED or was final; none left running."""
    handler, give_up = MODES[mode]
    server = runpod_emulator_factory(handlers={"cx-long": handler, "cx-short": handler}, workers=64)
    tracker = Tracker()
    rp = async_clients(
        on_request=tracker.on_request, on_response=tracker.on_response, **emulator_urls(server)
    )
    trials = plan(mode)
    caller: dict[str, str] = {}
    limit = anyio.Semaphore(AT_ONCE)

    async def one(trial: Trial) -> None:
        async with limit:
            caller[trial.name] = await give_up(rp.endpoint(trial.endpoint_id), trial, tracker)

    with anyio.fail_after(120):  # a bound against hangs, not a speed target
        async with anyio.create_task_group() as group:
            for trial in trials:
                group.start_soon(one, trial)
    await await_until(lambda: unfinished(server) == 0, bound=SETTLE_BOUND)

    problems: list[str] = []
    remote: Counter[str] = Counter()
    for trial in trials:
        job_id = tracker.job_of.get(trial.name)
        if job_id is None:
            continue
        state = (server.job_state(trial.endpoint_id, job_id) or {}).get("status", "gone")
        remote[f"{'short' if trial.short else 'long'} {state}"] += 1
        if state != "CANCELLED" and not (trial.short and state == "COMPLETED"):
            problems.append(f"{trial.name}: {'short' if trial.short else 'long'} job is {state}")
    counters = server.counters()
    if counters["duplicate_inputs"]:
        problems.append(f"{len(counters['duplicate_inputs'])} trials submitted twice")
    in_flight = [t for t in trials if caller.get(t.name, "").endswith("(/run in flight)")]
    untracked_jobs = untracked(server, tracker)
    if untracked_jobs:
        problems.append(f"{untracked_jobs} jobs created whose /run answer the caller never saw")
    left_running = unfinished(server)
    if left_running:
        problems.append(f"{left_running} jobs still running after the bounded wait")
    outcomes = Counter(caller.values())
    # cancelled=False is right only for a job that had finished before the /cancel came.
    misreported = [
        trial.name
        for trial in trials
        if caller.get(trial.name) == "WaitTimeout (cancelled=False)"
        and (job_id := tracker.job_of.get(trial.name)) is not None
        and (server.job_state(trial.endpoint_id, job_id) or {}).get("status") == "CANCELLED"
    ]
    if misreported:
        problems.append(
            f"WaitTimeout says cancelled=False although the SDK cancelled the job: {misreported}"
        )
    odd = [o for o in outcomes if o.startswith("wrong") or o.endswith("Error")]
    if odd:
        problems.append(f"unexpected caller outcomes: {odd}")

    results.figure(
        SECTION,
        "trials",
        [
            *results.figures.get(SECTION, {}).get("trials", []),
            {
                "way of giving up": mode,
                "trials": len(trials),
                "short jobs": sum(t.short for t in trials),
                "caller saw": dict(sorted(outcomes.items())),
                "remote final states": dict(sorted(remote.items())),
                "/cancel requests": tracker.cancels,
                "jobs left running": left_running,
            },
        ],
    )
    case.observed = (
        f"{sum(v for k, v in remote.items() if k.endswith('CANCELLED'))} CANCELLED, "
        f"{sum(v for k, v in remote.items() if k.endswith('COMPLETED'))} already final, "
        f"{left_running} left running ({len(in_flight)} cancelled with /run in flight)"
    )
    assert not problems, "; ".join(problems)


class SlowRunAnswer(httpx.AsyncBaseTransport):
    """A server whose /run creates the job at once but whose answer takes a while to arrive."""

    def __init__(self) -> None:
        self.created = asyncio.Event()
        self.cancelled: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/run"):
            self.created.set()
            await asyncio.sleep(0.2)  # the answer is on its way back
            return httpx.Response(200, json={"id": "job-in-flight", "status": "IN_QUEUE"})
        if "/cancel/" in request.url.path:
            job_id = request.url.path.rsplit("/", 1)[1]
            self.cancelled.append(job_id)
            return httpx.Response(200, json={"id": job_id, "status": "CANCELLED"})
        return httpx.Response(200, json={"id": "job-in-flight", "status": "IN_PROGRESS"})


async def test_task_cancelled_while_run_answer_in_flight(
    async_clients: Callable[..., AsyncRunpod], case: Case
) -> None:
    """A task cancelled after /run reached the server but before its answer: the job is cancelled."""
    server = SlowRunAnswer()
    rp = async_clients(transport=server, rate_limits=False)
    task = asyncio.create_task(rp.endpoint("ep").run_sync({"x": 1}))
    with anyio.fail_after(10):
        await server.created.wait()
        task.cancel()
        await asyncio.wait([task])
        await await_until(lambda: bool(server.cancelled), bound=2)
    case.observed = (
        f"task {'cancelled' if task.cancelled() else 'not cancelled'}; "
        f"/cancel sent for {server.cancelled or 'no job'}"
    )
    assert task.cancelled()
    assert server.cancelled == ["job-in-flight"]
