"""Blocking client: Ctrl-C during `map` and `run_sync`, and the first failure in `map`.

The async client's cancellation is tried in test_cancellation; here the blocking
one. A timer thread sends SIGINT to this process at a seeded random moment
(before, during or after `/run` answers), as Ctrl-C in a terminal would: the
call must raise KeyboardInterrupt promptly (within the clean-up budget, plus a
second), no item of a `map` may start after it, and every job the emulator
created must end CANCELLED (none left running to bill). A `map` whose item fails
must raise that failure promptly and cancel the jobs still running the same way.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from runpod_typed import JobFailed, PollingOptions, Runpod
from runpod_typed._flow import ABORT_BUDGET_SECONDS
from runpod_typed.emulator import Emulator

from . import harness
from .recorder import Case, Results, SecretWitness, describe

SECTION = "sync-cancellation"
pytestmark = pytest.mark.reliability

SEED = 13
LONG = {"sleep": 30}
MAP_ITEMS = 8
MAP_CONCURRENCY = 4
#: Seconds after giving up for the emulator to show every job final.
SETTLE = 5.0
#: How long after Ctrl-C (or the failure) the call may take to raise.
PROMPT = ABORT_BUDGET_SECONDS + 1.0
POLLING = PollingOptions(first_delay=0.05, max_delay=0.2)


@dataclass
class Trial:
    kind: str
    index: int
    moment: float

    @property
    def endpoint_id(self) -> str:
        return f"sc-{self.kind}-{self.index}"


@dataclass
class Outcome:
    raised: str = ""
    after_signal: float | None = None
    runs: int = 0
    job_ids: list[str] = field(default_factory=list)
    final: Counter[str] = field(default_factory=Counter)


def _trials() -> list[Trial]:
    rng = random.Random(SEED)
    trials = [Trial("map-ctrl-c", i, rng.uniform(0.05, 0.8)) for i in range(6)]
    trials += [Trial("run_sync-ctrl-c", i, rng.uniform(0.02, 0.6)) for i in range(6)]
    trials += [Trial("map-failure", i, rng.uniform(0.2, 0.6)) for i in range(4)]
    return trials


TRIALS = _trials()


def _client(server: Any, witness: SecretWitness, outcome: Outcome) -> Runpod:
    lock = threading.Lock()

    def on_response(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/run") and response.status_code == 200:
            response.read()
            with lock:
                outcome.job_ids.append(json.loads(response.content)["id"])

    def on_request(request: httpx.Request) -> None:
        if request.url.path.endswith("/run"):
            with lock:
                outcome.runs += 1

    http = harness.sync_http(witness, on_request=on_request)
    http.event_hooks["response"] = [on_response]
    return Runpod(
        harness.SECRET_KEY, http_client=http, polling=POLLING, **harness.emulator_urls(server)
    )


def _interrupt_after(seconds: float, fired: list[float]) -> threading.Timer:
    def fire() -> None:
        fired.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(seconds, fire)
    timer.start()
    return timer


def _run(trial: Trial, rp: Runpod, outcome: Outcome) -> None:
    ep = rp.endpoint(trial.endpoint_id)
    if trial.kind == "map-failure":
        failing = {"sleep": trial.moment, "fail": f"row {trial.index} is bad"}
        items = [LONG, LONG, failing, LONG] + [LONG] * (MAP_ITEMS - 4)
        started = time.monotonic()
        try:
            ep.map(items, concurrency=MAP_CONCURRENCY)
            outcome.raised = "returned"
        except JobFailed as exc:
            outcome.raised = "JobFailed"
            # The job failed `moment` s after it started: time the rest from there.
            outcome.after_signal = time.monotonic() - started - trial.moment
            assert "is bad" in str(exc)
        return
    fired: list[float] = []
    timer = _interrupt_after(trial.moment, fired)
    try:
        if trial.kind == "map-ctrl-c":
            ep.map([LONG] * MAP_ITEMS, concurrency=MAP_CONCURRENCY)
        else:
            ep.run_sync(LONG)
        outcome.raised = "returned"
    except KeyboardInterrupt:
        outcome.raised = "KeyboardInterrupt"
        outcome.after_signal = time.monotonic() - fired[0]
    except Exception as exc:
        outcome.raised = describe(exc)
    finally:
        timer.join()


def _settle(server: Any, trial: Trial, outcome: Outcome) -> None:
    deadline = time.monotonic() + SETTLE
    while True:
        states = Counter(
            str((server.job_state(trial.endpoint_id, job_id) or {}).get("status", "gone"))
            for job_id in outcome.job_ids
        )
        running = states["IN_PROGRESS"] + states["IN_QUEUE"]
        if not running or time.monotonic() >= deadline:
            outcome.final = states
            return
        time.sleep(0.05)


@pytest.fixture(scope="module")
def measured(secret_witness: SecretWitness) -> Iterator[dict[str, Outcome]]:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("Ctrl-C trials need the main thread")
    with Emulator(
        default_handler="demo", rate_limits=False, workers=MAP_CONCURRENCY
    ).serve() as server:
        yield _measure(server, secret_witness)


def _measure(server: Any, secret_witness: SecretWitness) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for trial in TRIALS:
        outcome = outcomes[trial.endpoint_id] = Outcome()
        rp = _client(server, secret_witness, outcome)
        try:
            _run(trial, rp, outcome)
        finally:
            rp._http.close()
        _settle(server, trial, outcome)
    return outcomes


def _record(results: Results, outcomes: dict[str, Outcome]) -> None:
    rows = []
    for kind in ("map-ctrl-c", "run_sync-ctrl-c", "map-failure"):
        trials = [t for t in TRIALS if t.kind == kind]
        taken = [outcomes[t.endpoint_id] for t in trials]
        waits = [o.after_signal for o in taken if o.after_signal is not None]
        final: Counter[str] = Counter()
        for o in taken:
            final += o.final
        rows.append(
            {
                "way of giving up": kind,
                "trials": len(trials),
                "caller saw": ", ".join(
                    f"{n}x {name}" for name, n in Counter(o.raised for o in taken).items()
                ),
                "raised after (s; median / max)": (
                    f"{statistics.median(waits):.2f} / {max(waits):.2f}" if waits else "-"
                ),
                "jobs created": sum(len(o.job_ids) for o in taken),
                "/run sent (most in one trial)": max(o.runs for o in taken),
                "remote states after": ", ".join(f"{s}: {n}" for s, n in sorted(final.items())),
            }
        )
    results.figure(SECTION, "trials", rows)
    results.figure(SECTION, "map(8 inputs, concurrency=4) of 30 s jobs; seed", SEED)


@pytest.mark.parametrize("trial", TRIALS, ids=[t.endpoint_id for t in TRIALS])
def test_giving_up_cancels_remote_jobs(
    trial: Trial, measured: dict[str, Outcome], case: Case, results: Results
) -> None:
    """Ctrl-C or a map's first failure: raised promptly, no job left running, none started after."""
    _record(results, measured)
    outcome = measured[trial.endpoint_id]
    expected = "JobFailed" if trial.kind == "map-failure" else "KeyboardInterrupt"
    case.expected = (
        f"{expected} within {PROMPT:g} s; every created job CANCELLED (or already final); "
        f"at most {MAP_CONCURRENCY if trial.kind != 'run_sync-ctrl-c' else 1} /run"
    )
    case.observed = (
        f"{outcome.raised} after "
        + (f"{outcome.after_signal:.2f} s" if outcome.after_signal is not None else "-")
        + f" (moment {trial.moment:.2f} s); /run x{outcome.runs}; jobs: "
        + (", ".join(f"{s}: {n}" for s, n in sorted(outcome.final.items())) or "none")
    )
    assert outcome.raised == expected
    assert outcome.after_signal is not None and outcome.after_signal <= PROMPT
    assert outcome.runs <= (MAP_CONCURRENCY if trial.kind != "run_sync-ctrl-c" else 1)
    assert not outcome.final["IN_PROGRESS"] and not outcome.final["IN_QUEUE"], outcome.final
    assert len(outcome.job_ids) == outcome.runs, "a /run answer was lost"
