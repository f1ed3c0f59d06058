"""Secret hygiene: the API key shows up in no log line, repr, exception text or URL.

The suite's `SecretWitness` has watched everything since the session began
(the root logger with the SDK at DEBUG, every request the suite's clients
sent, every error the corpus caught). This module adds a representative
workload of its own -- with `debug=True`, so the SDK's own stderr handler is
on too -- and runs last, so its final check judges the whole suite.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from runpod_typed import (
    AsyncRunpod,
    AuthenticationError,
    JobFailed,
    NotFoundError,
    Runpod,
    RunpodError,
    ServerError,
)

from . import harness
from .recorder import SECRET_KEY, SECRETS, WRONG_KEY, Case, Results, SecretWitness

SECTION = "hygiene"
pytestmark = pytest.mark.reliability

GPU = "NVIDIA GeForce RTX 4090"
#: The name `debug=True` gives its stderr handler on the `runpod_typed` logger.
DEBUG_HANDLER = "runpod_typed.debug"


def sync_workload(rp: Runpod, look: Callable[[str, Any], None]) -> None:
    """Every public method of the blocking client once, and the errors users meet."""
    look("client repr", rp)
    endpoint = rp.endpoint("demo")
    look("endpoint repr", endpoint)
    assert endpoint.run_sync({"output": 1}) == 1
    job = endpoint.run({"sleep": 0.05, "progress": ["half"], "output": 2})
    look("job repr", job)
    look("status repr", job.status())
    assert job.output(on_status=lambda status: look("status repr", status)) == 2
    streamed = rp.endpoint("tokens").run({"prompt": "a b c"})
    assert list(streamed.stream(str)) == ["a", "b", "c"]
    long_job = endpoint.run({"sleep": 30})
    look("status repr", long_job.cancel())
    failed = rp.endpoint("fail").run({"message": "boom"})
    with pytest.raises(JobFailed) as caught:
        failed.output()
    look("exception", caught.value)
    look("status repr", failed.retry())
    look("health repr", endpoint.health())
    look("purge repr", endpoint.purge_queue())
    assert endpoint.map([{"output": i} for i in range(5)], concurrency=3) == list(range(5))
    with pytest.raises(NotFoundError) as missing:
        endpoint.job("no-such-job").status()
    look("exception", missing.value)
    pod = rp.pods.create(name="hygiene", image_name="img", gpu_type_id=GPU)
    look("pod repr", pod)
    look("pods repr", rp.pods.list())
    rp.pods.terminate(pod.id)


async def async_workload(rp: AsyncRunpod, look: Callable[[str, Any], None]) -> None:
    look("client repr", rp)
    endpoint = rp.endpoint("demo")
    assert await endpoint.map([{"output": i} for i in range(5)], concurrency=3) == list(range(5))
    job = await endpoint.run({"sleep": 30})
    look("job repr", job)
    look("status repr", await job.cancel())
    chunks = [
        chunk async for chunk in (await rp.endpoint("tokens").run({"prompt": "x y"})).stream()
    ]
    assert chunks == ["x", "y"]
    look("pods repr", await rp.pods.list())


@pytest.fixture
def fresh_debug_handler() -> Iterator[None]:
    """Let `debug=True` install its stderr handler now (into capsys), and remove it after.

    The handler is process-wide and outlives clients; one left by an earlier test
    would write to that test's (closed) capture instead.
    """
    sdk_logger = logging.getLogger("runpod_typed")
    before = list(sdk_logger.handlers)
    for handler in before:
        if handler.name == DEBUG_HANDLER:
            sdk_logger.removeHandler(handler)
    yield
    for handler in list(sdk_logger.handlers):
        sdk_logger.removeHandler(handler)
    for handler in before:
        sdk_logger.addHandler(handler)


def test_workload_leaks_no_key(
    runpod_emulator_factory: Callable[..., Any],
    secret_witness: SecretWitness,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    fresh_debug_handler: None,
    case: Case,
) -> None:
    """A workload under faults with debug=True: no key in logs, stderr, reprs, errors, URLs."""
    server = runpod_emulator_factory(
        api_key=SECRET_KEY, faults="seed=5;status*:500=0.2,429=0.1,drop=0.1,retry_after=0.05"
    )
    looked: list[str] = []

    def look(kind: str, value: Any) -> None:
        text = repr(value)
        looked.append(kind)
        secret_witness.check(kind, text)
        if isinstance(value, BaseException):
            secret_witness.check_exception(value)

    urls = harness.emulator_urls(server)
    caplog.set_level(logging.DEBUG, logger="runpod_typed")
    rp = harness.sync_client(secret_witness, debug=True, **urls)
    try:
        sync_workload(rp, look)
        look("transport repr", rp._transport)
    finally:
        rp._http.close()

    async def run_async() -> None:
        client = harness.async_client(secret_witness, debug=True, **urls)
        try:
            await async_workload(client, look)
        finally:
            await client._http.aclose()

    asyncio.run(run_async())

    wrong = harness.sync_client(secret_witness, api_key=WRONG_KEY, **urls)
    with pytest.raises(AuthenticationError) as denied:
        wrong.endpoint("demo").run({"output": 1})
    look("exception", denied.value)
    wrong._http.close()
    server.set_faults("status:500=1")
    broken = harness.sync_client(secret_witness, retry=harness.FAST_RETRY, **urls)
    with pytest.raises(ServerError) as failing:
        broken.endpoint("demo").job("job-1").status()
    look("exception", failing.value)
    broken._http.close()

    captured = capsys.readouterr()
    surfaces = {
        "caplog record": [caplog.handler.format(r) for r in caplog.records],
        "debug=True stderr": captured.err.splitlines(),
        "stdout": captured.out.splitlines(),
        "emulator counters": [json.dumps(server.counters())],
    }
    for kind, lines in surfaces.items():
        for line in lines:
            secret_witness.check(kind, line)
    hits = [
        f"{kind}: {line[:200]}"
        for kind, lines in surfaces.items()
        for line in lines
        if any(secret in line for secret in SECRETS)
    ]
    debug_lines = [
        r for r in caplog.records if r.name == "runpod_typed" and r.levelno == logging.DEBUG
    ]
    case.observed = (
        f"{len(caplog.records)} records, {len(debug_lines)} stderr debug lines, "
        f"{len(looked)} reprs/errors checked; key found {len(hits)} times"
    )
    assert caplog.records and debug_lines, "the workload should have logged at DEBUG"
    assert any("retrying" in r.getMessage() for r in caplog.records), "no retry was logged"
    assert not hits, hits


def test_errors_raised_by_a_bad_key_do_not_quote_it(
    case: Case, secret_witness: SecretWitness
) -> None:
    """Errors about a malformed key (space, control character) describe it without quoting it."""
    messages = []
    for bad in (f"{SECRET_KEY} x", f"{SECRET_KEY}\x00", f" {SECRET_KEY}\t\n{SECRET_KEY}"):
        with pytest.raises(RunpodError) as caught:
            Runpod(bad)
        secret_witness.check_exception(caught.value)
        messages.append(str(caught.value))
    case.observed = messages[0]
    assert not any(SECRET_KEY in message for message in messages), messages


def test_whole_suite_leaked_no_key(
    secret_witness: SecretWitness, case: Case, results: Results
) -> None:
    """Everything the suite logged, sent and caught (runs last): the key appears nowhere."""
    checked = dict(sorted(secret_witness.checked.items()))
    case.observed = (
        f"{sum(checked.values())} items checked; key found {len(secret_witness.leaks)} times"
    )
    results.figure(SECTION, "items checked for the key", sum(checked.values()))
    results.figure(SECTION, "places the key was found", len(secret_witness.leaks))
    assert checked.get("log line", 0) > 0 and checked.get("request URL", 0) > 0
    assert not secret_witness.leaks, secret_witness.leaks[:10]
