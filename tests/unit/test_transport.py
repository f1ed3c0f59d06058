"""The transport and job flows over httpx.MockTransport: retries, mapping, no duplicate /run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from runpod_typed import (
    AuthenticationError,
    JobState,
    NotFoundError,
    PollingOptions,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    Runpod,
    ServerError,
    TransportError,
)
from runpod_typed._flow import run_sync

FAST_RETRY = RetryPolicy(max_attempts=4, initial_delay=0.0, max_delay=0.01, deadline=5)
BASE = "https://api.runpod.ai/v2"

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, **kw: Any) -> Runpod:
    return Runpod(
        "sk-unit-secret",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        retry=FAST_RETRY,
        rate_limits=False,
        **kw,
    )


def job_json(state: str = "COMPLETED", output: Any = "ok", job_id: str = "j1") -> dict[str, Any]:
    return {"id": job_id, "status": state, "output": output}


def test_run_is_not_resent_after_a_dropped_connection() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.RemoteProtocolError("server closed the connection", request=request)

    with client(handler) as rp, pytest.raises(TransportError, match="duplicate job"):
        rp.endpoint("ep").run({"x": 1})
    assert calls == ["/v2/ep/run"]


def test_run_is_not_resent_after_a_5xx() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503, text="upstream busy")

    with client(handler) as rp, pytest.raises(ServerError) as caught:
        rp.endpoint("ep").run({"x": 1})
    assert calls == ["/v2/ep/run"]
    assert caught.value.status_code == 503


def test_run_is_resent_after_429_honouring_retry_after() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "slow down"}),
            httpx.Response(200, json={"id": "j1", "status": "IN_QUEUE"}),
        ]
    )
    with client(lambda request: next(answers)) as rp:
        assert rp.endpoint("ep").run({"x": 1}).id == "j1"


def test_run_is_resent_when_the_connection_never_opened() -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"id": "j1", "status": "IN_QUEUE"})

    with client(handler) as rp:
        assert rp.endpoint("ep").run({"x": 1}).id == "j1"
    assert attempts == 2


def test_status_is_retried_on_5xx_and_drops() -> None:
    answers: list[Any] = [
        httpx.Response(502, text="bad gateway"),
        "drop",
        httpx.Response(200, json=job_json()),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if answer == "drop":
            raise httpx.ReadError("reset", request=request)
        assert isinstance(answer, httpx.Response)
        return answer

    with client(handler) as rp:
        assert rp.endpoint("ep").job("j1").status().state is JobState.COMPLETED


def test_retries_are_bounded() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(429, headers={"Retry-After": "0"})

    with client(handler) as rp, pytest.raises(RateLimitError):
        rp.endpoint("ep").health()
    assert calls == FAST_RETRY.max_attempts


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, "", AuthenticationError),
        (404, '{"error": "request does not exist"}', NotFoundError),
    ],
)
def test_status_errors_are_mapped(status: int, body: str, error: type[Exception]) -> None:
    with client(lambda request: httpx.Response(status, text=body)) as rp, pytest.raises(error):
        rp.endpoint("ep").job("j1").status()


def test_html_from_a_proxy_is_a_response_format_error() -> None:
    html = "<html><body>502 Bad Gateway (nginx)</body></html>"
    handler: Handler = lambda request: httpx.Response(  # noqa: E731
        200, text=html, headers={"content-type": "text/html"}
    )
    with client(handler) as rp, pytest.raises(ResponseFormatError, match="text/html") as caught:
        rp.endpoint("ep").job("j1").status()
    assert "nginx" in caught.value.body


def test_unknown_job_state_parses_and_is_not_final() -> None:
    with client(lambda request: httpx.Response(200, json=job_json("PAUSED_BY_ADMIN"))) as rp:
        status = rp.endpoint("ep").job("j1").status()
    assert status.state.value == "PAUSED_BY_ADMIN"
    assert not status.is_final


def test_missing_status_sync_route_falls_back_once_per_client() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path.rsplit("/", 2)[-2])
        if "status-sync" in request.url.path:
            return httpx.Response(404, text="404 page not found")
        if request.url.path.endswith("/run"):
            return httpx.Response(200, json={"id": "j1", "status": "IN_QUEUE"})
        return httpx.Response(200, json=job_json())

    with client(handler) as rp:
        ep = rp.endpoint("ep")
        assert ep.run_sync({"x": 1}) == "ok"
        assert ep.run_sync({"x": 2}) == "ok"
    assert seen.count("status-sync") == 1
    assert seen.count("status") == 2


def test_key_is_sent_as_bearer_and_never_in_the_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=job_json())

    with client(handler) as rp:
        rp.endpoint("ep").job("j1").status()
    assert seen[0].headers["authorization"] == "Bearer sk-unit-secret"
    assert "sk-unit-secret" not in str(seen[0].url)
    assert seen[0].headers["user-agent"].startswith("runpod-typed/")


def test_graphql_errors_keep_partial_data() -> None:
    from runpod_typed import GraphQLError
    from runpod_typed._graphql import graphql_call

    body = {"data": {"myself": None}, "errors": [{"message": "boom", "path": ["myself"]}]}
    with (
        client(lambda request: httpx.Response(200, json=body)) as rp,
        pytest.raises(GraphQLError) as caught,
    ):
        run_sync(rp._http, graphql_call(rp._transport, {"query": "query Q { myself { id } }"}))
    assert caught.value.data == {"myself": None}
    assert caught.value.messages == ["boom"]
    assert "at myself" in str(caught.value)


def test_graphql_mutation_is_not_resent_after_5xx() -> None:
    from runpod_typed._graphql import graphql_call

    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        assert json.loads(request.content)["query"].startswith("mutation")
        return httpx.Response(500, text="oops")

    with client(handler) as rp, pytest.raises(ServerError):
        run_sync(rp._http, graphql_call(rp._transport, {"query": "mutation M { podStop }"}))
    assert calls == 1


def test_a_lost_stream_page_is_recovered_from_the_final_output() -> None:
    pages: list[Any] = [
        httpx.Response(200, json={"status": "IN_PROGRESS", "stream": [{"output": "a"}]}),
        "drop",  # the page with "b" and "c" is lost in transit
    ]
    stream_calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal stream_calls
        if "/stream/" in request.url.path:
            stream_calls += 1
            page = pages.pop(0)
            if page == "drop":
                raise httpx.ReadError("reset", request=request)
            assert isinstance(page, httpx.Response)
            return page
        return httpx.Response(200, json=job_json("COMPLETED", output=["a", "b", "c"]))

    with client(handler) as rp:
        assert list(rp.endpoint("ep").job("j1").stream(str)) == ["a", "b", "c"]
    assert stream_calls == 2  # never resent: a resend could skip chunks


def test_a_lost_stream_page_without_an_aggregate_output_is_stream_interrupted() -> None:
    from runpod_typed import StreamInterrupted

    def handler(request: httpx.Request) -> httpx.Response:
        if "/stream/" in request.url.path:
            return httpx.Response(502, text="bad gateway")
        return httpx.Response(200, json=job_json("COMPLETED", output="a summary"))

    with client(handler) as rp, pytest.raises(StreamInterrupted) as caught:
        list(rp.endpoint("ep").job("j1").stream())
    assert caught.value.output == "a summary"
    assert caught.value.delivered == 0


def test_ctrl_c_during_run_waits_for_the_id_then_cancels_the_job() -> None:
    import os
    import signal

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("/run"):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the /run answer is in flight
            return httpx.Response(200, json={"id": "j1", "status": "IN_QUEUE"})
        return httpx.Response(200, json=job_json("CANCELLED"))

    with client(handler) as rp, pytest.raises(KeyboardInterrupt):
        rp.endpoint("ep").run({"x": 1})
    assert seen == ["/v2/ep/run", "/v2/ep/cancel/j1"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_server_without_long_poll_is_asked_again_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """One plain-text 404 from /status-sync switches to /status for a while, not for ever."""
    from runpod_typed import _transport

    now = [1000.0]
    monkeypatch.setattr(_transport.time, "monotonic", lambda: now[0])
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path.rsplit("/", 2)[-2])
        if "status-sync" in request.url.path:
            return httpx.Response(404, text="404 page not found")
        return httpx.Response(200, json=job_json())

    with client(handler) as rp:
        job = rp.endpoint("ep").job("j1")
        assert job.output() == "ok"
        assert job.output() == "ok"  # still believed: straight to /status
        now[0] += _transport.LONG_POLL_REPROBE_SECONDS
        assert job.output() == "ok"  # asked again
    assert paths == ["status-sync", "status", "status", "status-sync", "status"]


def test_an_answer_about_another_job_is_refused() -> None:
    """A status, a wait or a cancel answered with another job's id never yields its output."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=job_json(output="someone else's", job_id="other"))

    with client(handler) as rp:
        job = rp.endpoint("ep").job("j1")
        with pytest.raises(ResponseFormatError, match=r"asked about job j1.*about job other"):
            job.status()
        with pytest.raises(ResponseFormatError, match="about job other"):
            job.cancel()
        with pytest.raises(ResponseFormatError, match="about job other"):
            job.output(polling=PollingOptions(first_delay=0.01, max_delay=0.01), timeout=30)
