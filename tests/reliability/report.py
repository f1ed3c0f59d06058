"""Render docs/RELIABILITY.md from the suite's results (called by conftest at session end)."""

from __future__ import annotations

import datetime
import os
import platform
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runpod_typed import __version__

from .recorder import SECTIONS, Case, Results, SecretWitness

COMMAND = "RUNPOD_TYPED_WRITE_RELIABILITY=1 .venv/bin/pytest -m reliability tests/reliability"

_INTRO = {
    "soak": (
        "Jobs submitted with `run` and awaited with `output` through the async client while "
        "the emulator injects faults. A lost answer to `/run` cannot be retried without risking "
        "a second job, so those submissions end in a typed error instead; everything else must "
        "be delivered, correct and submitted exactly once. A second soak streams jobs while "
        "`/stream` reads fail: chunks handed out in an answer that is then lost cannot be read "
        "again, so each stream must deliver every chunk once and in order, or raise."
    ),
    "cancellation": (
        "The caller gives up at a random (seeded) moment; afterwards every job the emulator "
        "created must be CANCELLED, or have been final already, and none may still run."
    ),
    "sync-cancellation": (
        "The blocking client, driven from the main thread as a terminal user drives it: a "
        "timer thread sends SIGINT to the process at a seeded random moment during `map` (8 "
        "jobs of 30 s, 4 at a time) or `run_sync`, and an item of a `map` fails at a random "
        "moment. The call must raise (KeyboardInterrupt, or the item's JobFailed) within the "
        "clean-up budget + 1 s, start no further item, and leave every job the emulator "
        "created CANCELLED (or final already)."
    ),
    "deadlines": (
        "Each call that takes `timeout=`, from the blocking and the async client, against an "
        "emulator whose routes accept the request and then hang (`latency=30` on the routes "
        "the call uses), and again with `/cancel` hanging too. A call given `timeout=T` must "
        "raise `WaitTimeout` (a builtin `TimeoutError`) within T + 1 s, or within T + 1 s + "
        "the clean-up budget when the clean-up meets the hung server (`/cancel` hangs, or the "
        "submission does: the job may exist, and the clean-up may spend its budget learning "
        "its id); "
        "`cancelled` is yes exactly when a job id was known and the cancel was answered, and "
        "then the emulator shows the job CANCELLED. With `cancel_on_exit=False` nothing is "
        "cancelled. The bound is the contract (a call ends when its caller said), with a "
        "generous margin, not a speed target. All trials run at once; set-up (jobs to wait "
        "on, pods) happens before the faults are switched on."
    ),
    "hostile": (
        "A raw loopback server (`tests/reliability/hostile_server.py`) misbehaves on the "
        "routes a call uses: it accepts and never answers, stalls after the headers, trickles "
        "the head or the body one byte at a time, sends an endless chunked body, answers a "
        "status about another job, loses a `/stream` answer before a final output of `[]`, "
        "or answers 401 quoting the key; where giving up cancels a job, also with `/cancel` "
        "misbehaving the same way. A call given `timeout=T` must raise a typed error by "
        "T + 1 s (+ the clean-up budget when the clean-up meets the server: `/cancel`, or a "
        "submission, misbehaves); a call without a timeout argument by what the client's "
        "options allow: its `timeout=` per request times the retry policy's attempts, plus "
        "the policy's longest back-offs (+ 1 s). The key must be in no error. Clients are "
        "tenants of one `RunpodFactory` (the SDK's own pools; a few trials use a blocking "
        "client's own pool, or a pool the caller passes with `http_client=`). Blocking trials run a thread each, async ones on one event "
        "loop; the trials with a deadline of one kind run beside those without one of the "
        "other, their starts 50 ms apart, so that a burst of simultaneous clean-ups on a "
        "loaded machine does not time the test instead of the SDK."
    ),
    "memory": (
        "An endless chunked body, sent as fast as the client reads: the client must refuse "
        "it with ResponseTooLargeError once it has read `max_response_bytes` (default "
        "100 MiB; a client option), and its resident set size (psutil, sampled every 2 ms "
        "while the call runs) may grow by at most the cap + 60 MiB. One trial at a time, "
        "nothing else in flight; the async trials include building the client's pool."
    ),
    "cookies": (
        "The hostile server sets a cookie on every answer. Two tenants of one "
        "`RunpodFactory` (blocking and async) and a plain `Runpod` / `AsyncRunpod` each make "
        "two rounds of calls (health, run_sync, status, pods.list); no request may carry a "
        "`Cookie` header (RunPod needs none, and tenants sharing a pool must never send each "
        "other's). A pool the caller passes (`http_client=`) keeps its own jar: reported, "
        "not judged."
    ),
    "corpus": (
        "Each case expects one typed error (or a successful parse) and runs under a bound, "
        "so a hang fails it too. Malformed servers are `httpx.MockTransport`s; the rest is "
        "the emulator over loopback."
    ),
    "misuse": (
        "Mistakes that must reach the caller typed and explained, quoting no key: a key "
        "function (`api_key=callable`) that raises is a ConfigurationError naming what it "
        "raised, redacted, with nothing chained; a group- or world-readable "
        "`~/.runpod/config.toml` gives one InsecureConfigWarning per file naming the `chmod` "
        "to run (as ssh warns about a private key); an `AsyncRunpod`, or a factory's async "
        "tenants, used from a second event loop raise WrongEventLoopError (also a "
        "RuntimeError) before anything is sent, not httpx's raw 'Event loop is closed'."
    ),
    "tracebacks": (
        "`pytest -l`, rich's `show_locals` and error trackers print the repr of every local "
        "of every frame, and the exceptions chained to an error (a context suppressed with "
        "`from None` included: a tracker can still reach it). 300 clients with their own keys "
        "live at once (more than the 256 keys the redactor used to remember); the oldest 64 "
        "meet 16 kinds of failure from the blocking and the async client, many from a "
        "server that quotes the key back. Each error is rendered by "
        "`traceback.TracebackException(..., capture_locals=True)` with its chain, every "
        "exception reachable through `__cause__`/`__context__` on its own with locals, "
        "rich's `Traceback.extract(..., show_locals=True)`, and the headers of any httpx "
        "request in the chain: no rendering may hold a tenant's key. A GraphQL error or a "
        "job error that quotes the key is the server's payload, kept as received (in "
        "`.errors`, `.status`, and so in locals): for those only the message is judged, and "
        "the payload renderings are counted."
    ),
    "pickling": (
        "Every exception class `runpod_typed` exports, made with its own constructor, must "
        "survive a pickle round trip and come back the same (type, message, attributes) "
        "from a spawned `ProcessPoolExecutor` worker that raises it: an exception that "
        "cannot be rebuilt breaks the pool instead of reaching the caller."
    ),
    "hygiene": (
        "The SDK logs at DEBUG for the whole run into a handler on the root logger; every "
        "log line, request URL, header and body, and every repr and exception text the "
        "suite saw is searched for the API key."
    ),
}


def _cell(value: Any) -> str:
    if isinstance(value, Mapping):
        value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    elif isinstance(value, float):
        value = f"{value:g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _figures(figures: Mapping[str, Any]) -> list[str]:
    scalars = [(k, v) for k, v in figures.items() if not isinstance(v, list)]
    lines = _table(["figure", "value"], scalars) if scalars else []
    for name, rows in figures.items():
        if isinstance(rows, list) and rows:
            lines += [f"**{name}**", ""]
            lines += _table(rows[0].keys(), (row.values() for row in rows))
    return lines


def _cases(cases: list[Case]) -> list[str]:
    return _table(
        ["#", "case", "expected", "observed", "result"],
        (
            (i, f"`{c.name}`", c.expected, c.observed or "-", c.outcome)
            for i, c in enumerate(cases, 1)
        ),
    )


def render(results: Results, witness: SecretWitness) -> str:
    by_section: dict[str, list[Case]] = {name: [] for name in SECTIONS}
    for case in results.cases.values():
        by_section.setdefault(case.section, []).append(case)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Reliability",
        "",
        "<!-- Generated by tests/reliability/report.py; do not edit by hand. -->",
        "",
        f"Generated from the results of `{COMMAND}` on {now}: runpod-typed {__version__}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count() or '?'} CPUs. The emulator runs in the same process, over loopback.",
        "",
        "## Summary",
        "",
    ]
    totals = []
    for name, title in SECTIONS.items():
        outcomes = Counter(c.outcome for c in by_section.get(name, []))
        totals.append((title, sum(outcomes.values()), _outcomes(outcomes)))
    lines += _table(["section", "cases", "outcomes"], totals)
    for name, title in SECTIONS.items():
        lines += [f"## {title}", "", _INTRO[name], ""]
        if name == "hygiene":
            lines += _table(["checked", "items"], sorted(witness.checked.items()))
            leaks = witness.leaks or ["none"]
            lines += ["Places the key was found: " + "; ".join(leaks), ""]
        lines += _figures(results.figures.get(name, {}))
        lines += _cases(by_section.get(name, []))
    return "\n".join(lines).rstrip() + "\n"


def _outcomes(outcomes: Counter[str]) -> str:
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "none"


def write_report(results: Results, witness: SecretWitness, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results, witness), encoding="utf-8")
