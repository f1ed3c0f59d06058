"""Flows under a scripted fake driver and a fake clock: no sockets, no real sleeping.

Retry (`Transport.call` under the routes), waiting (`wait_until_final`), stream
recovery (`stream_chunks`), submit-and-wait (`EndpointFlows.run_flow`) and giving
up (the real `run_sync` / `run_async` over `httpx.MockTransport`, with on_abort).
See flow_script.py for the driver, the clock and the script notation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator
from typing import Any

import anyio
import httpx
import pytest

from runpod_typed._deadline import Deadline
from runpod_typed._endpoint import EndpointFlows
from runpod_typed._errors import (
    AuthenticationError,
    JobFailed,
    NotFoundError,
    ServerError,
    StreamInterrupted,
    TransportError,
    WaitTimeout,
)
from runpod_typed._flow import AbortFlow, Flow, Send, iterate_sync, run_async, run_sync
from runpod_typed._job import JobFlows
from runpod_typed._polling import PollingOptions, StatusWatcher, wait_until_final
from runpod_typed._retry import RetryPolicy
from runpod_typed._serverless import EndpointRoutes
from runpod_typed._status import JobState, JobStatus
from runpod_typed._streaming import stream_chunks
from runpod_typed._transport import LONG_POLL_REPROBE_SECONDS

from .flow_script import (
    ENDPOINT,
    RETRY,
    Expect,
    FakeClock,
    FakeDriver,
    MockServer,
    job,
    make_routes,
    make_transport,
    on,
    page,
)

#: Polling without jitter, so every pause is exact: 0.5, 1.0, then 1.5 s at most.
POLL = PollingOptions(first_delay=0.5, backoff=2.0, max_delay=1.5, jitter=0.0)
BACKOFF = [0.5, 1.0, 1.5]
FATE_UNKNOWN = "RunPod may have created the job anyway"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return FakeClock.install(monkeypatch)


def driver(clock: FakeClock, *script: Expect) -> FakeDriver:
    return FakeDriver(clock, script)


def wait(
    routes: EndpointRoutes,
    polling: PollingOptions = POLL,
    deadline: Deadline | None = None,
    watcher: StatusWatcher | None = None,
) -> Flow[JobStatus]:
    return wait_until_final(
        routes, "j1", polling, deadline=deadline, watcher=watcher or StatusWatcher(None)
    )


def stream(routes: EndpointRoutes) -> Flow[None]:
    watcher = StatusWatcher(None)
    return stream_chunks(routes, "j1", POLL, chunk_type=None, deadline=None, watcher=watcher)


# -- retry: Transport.call under the routes ----------------------------------------------------


def test_a_get_answered_503_is_resent_after_one_backoff_within_the_cap(clock: FakeClock) -> None:
    fake = driver(
        clock,
        on("GET status/j1", status=503, text="upstream busy"),
        on("GET status/j1", job("COMPLETED", "done")),
    )
    status = fake.run(make_routes().status("j1"))
    assert (status.state, status.output) == (JobState.COMPLETED, "done")
    assert fake.requests == ["GET status/j1", "GET status/j1"]
    [pause] = fake.sleeps
    assert 0.0 <= pause <= RETRY.backoff_cap(1) == 0.5


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ReadTimeout, httpx.ReadError])
def test_an_idempotent_long_poll_is_resent_after_a_lost_answer(
    clock: FakeClock, error: type[httpx.TransportError]
) -> None:
    fake = driver(
        clock,
        on("GET status-sync/j1", error=error),
        on("GET status-sync/j1", job("COMPLETED")),
    )
    assert fake.run(make_routes().status_sync("j1", 10)).state is JobState.COMPLETED
    assert [sent.params for sent in fake.sent] == [{"wait": "10000"}] * 2
    assert [sent.timeout for sent in fake.sent] == [10 + 15.0] * 2  # the wait + the margin
    assert len(fake.sleeps) == 1


def test_a_submission_is_not_resent_after_a_dropped_connection(clock: FakeClock) -> None:
    fake = driver(clock, on("POST run", error=httpx.ReadError))
    with pytest.raises(TransportError) as caught:
        fake.run(make_routes().run(b'{"input":{}}'))
    message = str(caught.value)
    assert message.startswith("POST run: no answer from RunPod (ReadError: scripted ReadError)")
    assert "after 1 attempt(s)" in message
    assert FATE_UNKNOWN in message and "so it was not resent" in message
    assert fake.sleeps == []
    [send] = [effect for effect in fake.effects if isinstance(effect, Send)]
    assert send.finish  # the driver must wait for a submission's answer, even on Ctrl-C


def test_a_submission_is_resent_when_the_connection_never_opened(clock: FakeClock) -> None:
    fake = driver(
        clock,
        on("POST run", error=httpx.ConnectError),
        on("POST run", job("IN_QUEUE")),
    )
    assert fake.run(make_routes().run(b'{"input":{}}')).id == "j1"
    assert [sent.body for sent in fake.sent] == [b'{"input":{}}'] * 2
    assert len(fake.sleeps) == 1


def test_a_429_is_waited_out_for_its_retry_after_even_on_a_submission(clock: FakeClock) -> None:
    fake = driver(
        clock,
        on("POST run", {"error": "slow down"}, status=429, headers={"Retry-After": "2"}),
        on("POST run", job("IN_QUEUE")),
    )
    assert fake.run(make_routes().run(b'{"input":{}}')).id == "j1"
    assert fake.sleeps == [2.0]  # the server's wait, over the 0.5 s back-off cap
    assert clock.elapsed == 2.0


def test_retries_stop_at_max_attempts(clock: FakeClock) -> None:
    fake = driver(clock, *[on("GET status/j1", status=503, text="upstream busy")] * 3)
    with pytest.raises(ServerError) as caught:
        fake.run(make_routes().status("j1"))
    assert caught.value.status_code == 503
    assert len(fake.requests) == RETRY.max_attempts == 3
    assert len(fake.sleeps) == 2
    assert all(0.0 <= s <= RETRY.backoff_cap(n) for n, s in enumerate(fake.sleeps, 1))


def test_a_401_raises_authentication_error_without_retry(clock: FakeClock) -> None:
    fake = driver(clock, on("GET status/j1", {"error": "invalid api key"}, status=401))
    with pytest.raises(AuthenticationError) as caught:
        fake.run(make_routes().status("j1"))
    assert caught.value.status_code == 401
    assert str(caught.value).startswith("GET status failed with HTTP 401: invalid api key (check")
    assert (fake.requests, fake.sleeps) == (["GET status/j1"], [])


# -- waiting: wait_until_final ------------------------------------------------------------------


def test_wait_long_polls_status_sync_until_a_final_state(clock: FakeClock) -> None:
    fake = driver(
        clock,
        on("GET status-sync/j1", job("IN_QUEUE"), takes=30),  # the server held the poll
        on("GET status-sync/j1", job("IN_PROGRESS"), takes=30),
        on("GET status-sync/j1", job("COMPLETED", 42), takes=5),
    )
    status = fake.run(wait(make_routes(), PollingOptions(long_poll_window=30)))
    assert (status.state, status.output) == (JobState.COMPLETED, 42)
    assert [sent.params for sent in fake.sent] == [{"wait": "30000"}] * 3
    assert [sent.timeout for sent in fake.sent] == [45.0] * 3
    assert fake.sleeps == []  # a poll that held is followed at once by the next


def test_a_long_poll_answered_early_is_followed_by_backoff(clock: FakeClock) -> None:
    fake = driver(
        clock,
        on("GET status-sync/j1", job("IN_PROGRESS")),  # a server that ignores `wait`
        on("GET status-sync/j1", job("IN_PROGRESS"), takes=1),
        on("GET status-sync/j1", job("COMPLETED")),
    )
    fake.run(wait(make_routes()))
    assert fake.sleeps == BACKOFF[:2]


def test_a_plain_text_404_from_status_sync_switches_to_status_polling(clock: FakeClock) -> None:
    routes = make_routes()
    fake = driver(
        clock,
        on("GET status-sync/j1", status=404, text="404 page not found"),
        on("GET status/j1", job("IN_QUEUE")),
        on("GET status/j1", job("IN_PROGRESS")),
        on("GET status/j1", job("IN_PROGRESS")),
        on("GET status/j1", job("COMPLETED", "ok")),
    )
    assert fake.run(wait(routes)).output == "ok"
    assert routes.transport.long_poll is False
    assert [sent.params for sent in fake.sent[1:]] == [None] * 4
    assert fake.sleeps == BACKOFF  # 0.5, then x2 up to the 1.5 s cap


def test_a_server_without_status_sync_is_asked_again_after_the_reprobe_time(
    clock: FakeClock,
) -> None:
    routes = make_routes(long_poll=False)  # a 404 from /status-sync just now
    polled = driver(clock, on("GET status/j1", job("COMPLETED")))
    polled.run(wait(routes))
    clock.advance(LONG_POLL_REPROBE_SECONDS)
    probed = driver(clock, on("GET status-sync/j1", job("COMPLETED")))
    probed.run(wait(routes))
    assert routes.transport.long_poll is True


def test_a_json_404_from_status_sync_is_no_such_job(clock: FakeClock) -> None:
    routes = make_routes()
    fake = driver(clock, on("GET status-sync/j1", {"error": "job not found"}, status=404))
    with pytest.raises(NotFoundError, match="job not found"):
        fake.run(wait(routes))
    assert routes.transport.long_poll is True


def test_transient_read_failures_are_ridden_out(clock: FakeClock) -> None:
    fake = driver(
        clock,
        on("GET status-sync/j1", error=httpx.ReadTimeout),
        on("GET status-sync/j1", status=503, text="upstream busy"),
        on("GET status-sync/j1", {"error": "slow down"}, status=429),
        on("GET status-sync/j1", job("COMPLETED", "ok")),
    )
    # No transport retries: each failure reaches the wait, which backs off and reads again.
    assert fake.run(wait(make_routes(RetryPolicy.none()))).output == "ok"
    assert fake.sleeps == BACKOFF


def test_a_wait_gives_up_after_ten_failed_reads_in_a_row(clock: FakeClock) -> None:
    fake = driver(clock, *[on("GET status-sync/j1", error=httpx.ConnectError)] * 10)
    with pytest.raises(TransportError, match="ConnectError"):
        fake.run(wait(make_routes(RetryPolicy.none())))
    assert fake.sleeps == BACKOFF + [1.5] * 6


def test_a_definite_error_ends_the_wait_at_once(clock: FakeClock) -> None:
    fake = driver(
        clock,
        on("GET status-sync/j1", error=httpx.ReadTimeout),
        on("GET status-sync/j1", {"error": "invalid api key"}, status=401),
    )
    with pytest.raises(AuthenticationError):
        fake.run(wait(make_routes(RetryPolicy.none())))
    assert fake.sleeps == [0.5]


def test_a_wait_raises_wait_timeout_once_the_clock_passes_its_deadline(clock: FakeClock) -> None:
    deadline = Deadline.after(3.0, "job j1", "j1")
    polling = PollingOptions(first_delay=2.0, backoff=1.0, max_delay=2.0, jitter=0.0)
    fake = driver(clock, *[on("GET status/j1", job("IN_PROGRESS"))] * 2)
    with pytest.raises(WaitTimeout) as caught:
        fake.run(wait(make_routes(long_poll=False), polling, deadline))
    assert fake.sleeps == [2.0, 1.0]  # the last pause is cut to the time left
    assert clock.elapsed == 3.0
    assert caught.value.job_id == "j1" and not caught.value.cancelled
    assert str(caught.value).startswith("gave up waiting for job j1: the client-side timeout")


@pytest.mark.parametrize("long_poll", [False, True])
def test_on_status_keeps_the_progress_interval_without_backoff(
    clock: FakeClock, long_poll: bool
) -> None:
    seen: list[JobState] = []
    polling = PollingOptions(progress_interval=0.2, first_delay=0.5, backoff=2.0, jitter=0.0)
    fake = driver(
        clock,
        on("GET status/j1", job("IN_QUEUE")),
        on("GET status/j1", job("IN_PROGRESS")),
        on("GET status/j1", job("IN_PROGRESS")),
        on("GET status/j1", job("COMPLETED")),
    )
    watcher = StatusWatcher(lambda status: seen.append(status.state))
    fake.run(wait(make_routes(long_poll=long_poll), polling, watcher=watcher))
    assert fake.sleeps == [0.2, 0.2, 0.2]  # an interval under 1 s polls /status, not status-sync
    assert seen == [JobState.IN_QUEUE, JobState.IN_PROGRESS, JobState.COMPLETED]


# -- submit and wait: EndpointFlows.run_flow ----------------------------------------------------


def test_run_flow_submits_once_then_long_polls_for_the_output(clock: FakeClock) -> None:
    flows = EndpointFlows(make_transport(), ENDPOINT, POLL, cancel_on_exit=True)
    flow, abort, deadline = flows.run_flow({"prompt": "hi"}, None, {"timeout": 30})
    fake = driver(
        clock,
        on("POST run", job("IN_QUEUE")),
        on("GET status-sync/j1", job("COMPLETED", {"text": "hello"}), takes=1),
    )
    assert fake.run(flow) == {"text": "hello"}
    assert json.loads(fake.sent[0].body) == {"input": {"prompt": "hi"}}
    assert fake.sent[1].params == {"wait": "30000"}  # the window, cut to the timeout
    assert deadline is not None and (deadline.what, deadline.job_id) == ("job j1", "j1")
    assert abort is not None


def test_run_flow_without_cancel_on_exit_uses_one_runsync(clock: FakeClock) -> None:
    flows = EndpointFlows(make_transport(), ENDPOINT, POLL, cancel_on_exit=False)
    flow, abort, _ = flows.run_flow({"prompt": "hi"}, None, {"timeout": 20})
    fake = driver(clock, on("POST runsync", job("COMPLETED", "hello"), takes=3))
    assert fake.run(flow) == "hello"
    assert fake.sent[0].params == {"wait": "20000"}
    assert abort is None


# -- stream recovery: stream_chunks ------------------------------------------------------------


def test_stream_pages_are_emitted_in_order(clock: FakeClock) -> None:
    fake = driver(
        clock,
        on("GET stream/j1", page("IN_PROGRESS", "a", "b")),
        on("GET stream/j1", page("COMPLETED", "c")),
    )
    assert fake.collect(stream(make_routes())) == ["a", "b", "c"]
    assert [sent.params for sent in fake.sent] == [{"wait": "60000"}] * 2
    assert fake.sleeps == []


def test_a_failed_stream_raises_the_job_error_after_its_chunks(clock: FakeClock) -> None:
    fake = driver(
        clock,
        on("GET stream/j1", page("IN_PROGRESS", "a")),
        on("GET stream/j1", page("FAILED")),
        on("GET status/j1", {"id": "j1", "status": "FAILED", "error": "CUDA out of memory"}),
    )
    with pytest.raises(JobFailed, match="CUDA out of memory"):
        fake.run(stream(make_routes()))
    assert fake.emitted == ["a"]


LOST_PAGES = [
    on("GET stream/j1", error=httpx.ReadError),
    on("GET stream/j1", status=503, text="upstream busy"),
]


@pytest.mark.parametrize("lost", LOST_PAGES, ids=["ReadError", "503"])
def test_a_lost_page_is_recovered_from_the_final_output(clock: FakeClock, lost: Expect) -> None:
    fake = driver(
        clock,
        on("GET stream/j1", page("IN_PROGRESS", "a", "b")),
        lost,  # its chunks are gone with it: /stream is never resent
        on("GET status-sync/j1", job("COMPLETED", ["a", "b", "c", "d"])),
    )
    assert fake.collect(stream(make_routes())) == ["a", "b", "c", "d"]
    assert fake.requests == ["GET stream/j1", "GET stream/j1", "GET status-sync/j1"]


@pytest.mark.parametrize("output", [[], ["a"], {"text": "abcd"}, "abcd"])
def test_an_output_that_is_not_the_chunk_list_raises_stream_interrupted(
    clock: FakeClock, output: Any
) -> None:
    fake = driver(
        clock,
        on("GET stream/j1", page("IN_PROGRESS", "a", "b")),
        on("GET stream/j1", error=httpx.ReadError),
        on("GET status-sync/j1", job("COMPLETED", output)),
    )
    with pytest.raises(StreamInterrupted) as caught:
        fake.run(stream(make_routes()))
    assert (caught.value.output, caught.value.delivered, caught.value.job_id) == (output, 2, "j1")
    assert fake.emitted == ["a", "b"]


def test_a_lost_first_page_with_runpods_default_output_is_not_an_empty_stream(
    clock: FakeClock,
) -> None:
    """Without return_aggregate_stream a generator's output is [], which cannot show
    whether the lost page held chunks: the stream must not end as if there were none."""
    fake = driver(
        clock,
        on("GET stream/j1", error=httpx.ReadError),
        on("GET status-sync/j1", job("COMPLETED", [])),
    )
    with pytest.raises(StreamInterrupted) as caught:
        fake.run(stream(make_routes()))
    assert (caught.value.output, caught.value.delivered) == ([], 0)


def test_an_aggregate_output_equal_to_the_delivered_chunks_ends_the_stream(
    clock: FakeClock,
) -> None:
    fake = driver(
        clock,
        on("GET stream/j1", page("IN_PROGRESS", {"t": 1}, {"t": 2})),
        on("GET stream/j1", error=httpx.ReadError),
        on("GET status-sync/j1", job("COMPLETED", [{"t": 1}, {"t": 2}])),
    )
    assert fake.collect(stream(make_routes())) == [{"t": 1}, {"t": 2}]


def test_recovery_refuses_an_output_list_that_disagrees_with_the_delivered_chunks(
    clock: FakeClock,
) -> None:
    fake = driver(
        clock,
        on("GET stream/j1", page("IN_PROGRESS", "a", "b")),
        on("GET stream/j1", error=httpx.ReadError),
        on("GET status-sync/j1", job("COMPLETED", ["x", "y", "z"])),
    )
    with pytest.raises(StreamInterrupted):
        fake.run(stream(make_routes()))
    assert fake.emitted == ["a", "b"]


# -- giving up: the real drivers over httpx.MockTransport ---------------------------------------

DRIVERS = ["sync", "async"]
Plan = tuple[Flow[Any], AbortFlow | None, Deadline | None]


def drive(mode: str, server: MockServer, plan: Plan) -> Any:
    """Run a planned flow with the real blocking or async driver over the mock server."""
    flow, on_abort, deadline = plan
    if mode == "sync":
        with server.sync_client() as http:
            return run_sync(http, flow, on_abort=on_abort, deadline=deadline)

    async def main() -> Any:
        async with server.async_client() as http:
            return await run_async(http, flow, on_abort=on_abort, deadline=deadline)

    return anyio.run(main)


def job_handle() -> JobFlows[Any]:
    return JobFlows(make_routes(), "j1", output_type=None, polling=POLL, cancel_on_exit=True)


def job_output(timeout: float) -> Plan:
    """`job.output(timeout=...)` of job j1, as a plan: its flow, its /cancel and its deadline."""
    handle = job_handle()
    flow, deadline = handle.output_flow(None, {"timeout": timeout})
    return flow, handle.abort({}), deadline


def gave_up(mode: str, server: MockServer, plan: Plan) -> WaitTimeout:
    with pytest.raises(WaitTimeout) as caught:
        drive(mode, server, plan)
    return caught.value


@pytest.mark.parametrize("mode", DRIVERS)
def test_a_hung_request_is_cut_at_the_deadline_and_the_job_cancelled(
    clock: FakeClock, mode: str
) -> None:
    server = MockServer(
        clock,
        [on("GET status-sync/j1", hang=True), on("POST cancel/j1", job("CANCELLED"))],
    )
    error = gave_up(mode, server, job_output(timeout=2.0))
    assert server.done() == ["GET status-sync/j1", "POST cancel/j1"]
    # The long-poll's read timeout (2 s wait + 15 s margin) was cut to the 2 s left;
    # the cancel ran under its own 5 s budget.
    assert [sent.timeout for sent in server.sent] == [2.0, 5.0]
    assert clock.elapsed == 2.0
    assert (error.job_id, error.cancelled) == ("j1", True)


@pytest.mark.parametrize("mode", DRIVERS)
def test_polls_and_pauses_are_sized_to_the_deadline_then_the_job_cancelled(
    clock: FakeClock, mode: str
) -> None:
    server = MockServer(
        clock,
        [
            on("GET status-sync/j1", job("IN_PROGRESS")),
            on("GET status-sync/j1", job("IN_PROGRESS")),
            on("GET status/j1", job("IN_PROGRESS")),  # 0.5 s left: too short to long-poll
            on("POST cancel/j1", job("CANCELLED")),
        ],
    )
    error = gave_up(mode, server, job_output(timeout=2.0))
    server.done()
    assert [sent.params for sent in server.sent[:3]] == [{"wait": "2000"}, {"wait": "1500"}, None]
    # Paused 0.5 and 1.0 s; the last 1.5 s pause was cut to the 0.5 s left, then gave up.
    assert [sent.at for sent in server.sent] == [0.0, 0.5, 1.5, 2.0]
    assert error.cancelled is True


@pytest.mark.parametrize("mode", DRIVERS)
def test_a_submission_cut_by_the_deadline_has_nothing_to_cancel(
    clock: FakeClock, mode: str
) -> None:
    server = MockServer(clock, [on("POST run", hang=True)])
    flows = EndpointFlows(make_transport(), ENDPOINT, POLL, cancel_on_exit=True)
    error = gave_up(mode, server, flows.run_flow({"prompt": "hi"}, None, {"timeout": 2.0}))
    assert server.done() == ["POST run"]  # no /cancel: the job's id never came
    assert error.cancelled is False
    assert "while the job was being submitted" in str(error)


@pytest.mark.parametrize("mode", DRIVERS)
def test_a_failed_cancel_leaves_cancelled_false(clock: FakeClock, mode: str) -> None:
    server = MockServer(
        clock,
        [
            on("GET status-sync/j1", hang=True),
            on("POST cancel/j1", {"error": "job not found"}, status=404),
        ],
    )
    error = gave_up(mode, server, job_output(timeout=2.0))
    assert server.done() == ["GET status-sync/j1", "POST cancel/j1"]
    assert error.cancelled is False


def test_a_cancel_answered_with_another_final_state_is_not_cancelled(clock: FakeClock) -> None:
    server = MockServer(
        clock,
        [on("GET status-sync/j1", hang=True), on("POST cancel/j1", job("COMPLETED", "done"))],
    )
    assert gave_up("sync", server, job_output(timeout=2.0)).cancelled is False


@pytest.mark.parametrize("mode", DRIVERS)
def test_ctrl_c_during_a_sleep_cancels_the_job_and_is_reraised(
    clock: FakeClock, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    async def async_ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", ctrl_c)
    monkeypatch.setattr(anyio, "sleep", async_ctrl_c)
    server = MockServer(
        clock,
        [on("GET status-sync/j1", job("IN_PROGRESS")), on("POST cancel/j1", job("CANCELLED"))],
    )
    with pytest.raises(KeyboardInterrupt):
        drive(mode, server, job_output(timeout=60.0))
    assert server.done() == ["GET status-sync/j1", "POST cancel/j1"]


def test_leaving_a_stream_early_cancels_the_job(clock: FakeClock) -> None:
    server = MockServer(
        clock,
        [
            on("GET stream/j1", page("IN_PROGRESS", "a", "b")),
            on("POST cancel/j1", job("CANCELLED")),
        ],
    )
    handle = job_handle()
    flow, deadline = handle.stream_flow(None, {})
    with server.sync_client() as http:
        chunks = iterate_sync(http, flow, on_abort=handle.abort({}), deadline=deadline)
        assert next(chunks) == "a"
        assert isinstance(chunks, Generator)
        chunks.close()  # what leaving a for loop does, once the iterator is dropped
    assert server.done() == ["GET stream/j1", "POST cancel/j1"]
