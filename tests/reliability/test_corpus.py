"""Bad-input corpus: wrong keys, broken servers, hostile names, absurd options.

Each case expects one specific typed error (or, for forward compatibility, a
successful parse) and runs in a daemon thread joined with a bound, so a hang
fails the case instead of the suite. Malformed servers are httpx.MockTransports;
everything RunPod itself would answer comes from the emulator over loopback.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from runpod_typed import (
    AuthenticationError,
    ConfigurationError,
    GraphQLError,
    InvalidRequestError,
    JobFailed,
    JobState,
    MissingApiKeyError,
    NotFoundError,
    OutputValidationError,
    PayloadTooLargeError,
    PermissionDeniedError,
    Policy,
    PollingOptions,
    RateLimit,
    RateLimitError,
    RequestTooLargeError,
    ResponseFormatError,
    RetryPolicy,
    Runpod,
    RunpodError,
    S3Config,
    ServerError,
    TransportError,
)
from runpod_typed.emulator import JobSettings
from runpod_typed.graphql import PodFilter, SaveTemplateInput

from . import harness
from .recorder import SECRET_KEY, WRONG_KEY, Case, SecretWitness, describe

SECTION = "corpus"
pytestmark = pytest.mark.reliability

#: Seconds any case may take before it counts as a hang.
BOUND = 30.0
BASE = "https://api.runpod.ai/v2"
E = TypeVar("E", bound=BaseException)
Answer = httpx.Response | Exception
Handler = Callable[[httpx.Request], httpx.Response]

#: A name that would break out of a GraphQL string literal if it were ever spliced in.
HOSTILE_NAME = 'x"}) { id } } mutation { podTerminate(input: {podId: "p"}) }\n\u2603 \u202eé名'


@dataclass
class Ctx:
    """What a case can use: the emulator, mock servers, and the requests that were sent."""

    witness: SecretWitness
    start_emulator: Callable[..., Any]
    monkeypatch: pytest.MonkeyPatch
    tmp_path: Path
    sent: list[httpx.Request] = field(default_factory=list)
    clients: list[Runpod] = field(default_factory=list)
    _server: Any = None

    @property
    def server(self) -> Any:
        if self._server is None:
            self._server = self.start_emulator()
        return self._server

    def client(self, server: Any = None, **options: Any) -> Runpod:
        """A client of the emulator (the shared one unless `server` is given)."""
        urls = harness.emulator_urls(server or self.server)
        return self._keep(
            harness.sync_client(self.witness, on_request=self.sent.append, **urls, **options)
        )

    def mock(self, *answers: Answer | Handler, **options: Any) -> Runpod:
        """A client of a fake server giving `answers` in turn (the last one repeats).

        An answer may be a response, an exception to raise (a network failure),
        or a function of the request.
        """
        queue = list(answers)

        def handle(request: httpx.Request) -> httpx.Response:
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
            if isinstance(answer, Exception):
                raise answer
            return answer if isinstance(answer, httpx.Response) else answer(request)

        options.setdefault("retry", harness.FAST_RETRY)
        options.setdefault("rate_limits", False)
        options.setdefault("endpoint_base_url", BASE)
        client = harness.sync_client(
            self.witness,
            transport=httpx.MockTransport(handle),
            on_request=self.sent.append,
            **options,
        )
        return self._keep(client)

    def _keep(self, client: Runpod) -> Runpod:
        self.witness.check("client repr", repr(client))
        self.clients.append(client)
        return client

    def raises(self, expected: type[E], call: Callable[[], Any]) -> E:
        """Run `call`; return the error it raised if it is `expected`, else fail the case."""
        try:
            value = call()
        except expected as exc:
            self.witness.check_exception(exc)
            return exc
        except BaseException as exc:
            self.witness.check_exception(exc)
            raise AssertionError(f"expected {expected.__name__}, got {describe(exc)}") from exc
        raise AssertionError(f"expected {expected.__name__}, got a value: {value!r:.200}")

    def paths(self) -> list[str]:
        return [request.url.path for request in self.sent]


Run = Callable[[Ctx], str]


@dataclass(frozen=True)
class BadInput:
    name: str
    expected: str
    run: Run


CORPUS: list[BadInput] = []


def bad_input(expected: str) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        CORPUS.append(BadInput(run.__name__, expected, run))
        return run

    return register


def job_json(state: str = "COMPLETED", **extra: Any) -> dict[str, Any]:
    return {"id": "job-1", "status": state, **extra}


def ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


def text(status: int, body: str, content_type: str = "text/html") -> httpx.Response:
    return httpx.Response(status, text=body, headers={"content-type": content_type})


PROXY_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
    + "<h1>Bad Gateway</h1><p>The upstream server did not answer.</p>" * 40
    + "</body></html>"
)


# -- keys -------------------------------------------------------------------------------------


@bad_input("AuthenticationError (401), no job created, neither key in the message")
def wrong_key(ctx: Ctx) -> str:
    server = ctx.start_emulator(api_key=SECRET_KEY)
    rp = ctx.client(server, api_key=WRONG_KEY)
    err = ctx.raises(AuthenticationError, lambda: rp.endpoint("echo").run_sync({"a": 1}))
    assert err.status_code == 401 and server.counters()["jobs_created"] == 0
    return describe(err)


@bad_input("AuthenticationError (401) from the async client too")
def wrong_key_async(ctx: Ctx) -> str:
    server = ctx.start_emulator(api_key=SECRET_KEY)

    async def attempt() -> None:
        rp = harness.async_client(ctx.witness, api_key=WRONG_KEY, **harness.emulator_urls(server))
        try:
            await rp.endpoint("echo").run({"a": 1})
        finally:
            await rp._http.aclose()

    err = ctx.raises(AuthenticationError, lambda: asyncio.run(attempt()))
    return describe(err)


@bad_input("MissingApiKeyError at first use (not at construction), naming all three sources")
def missing_key(ctx: Ctx) -> str:
    ctx.monkeypatch.delenv("RUNPOD_API_KEY", raising=False)
    ctx.monkeypatch.delenv("RUNPOD_PROFILE", raising=False)
    rp = ctx.mock(ok(job_json()), api_key=None, config_path=ctx.tmp_path / "absent.toml")
    err = ctx.raises(MissingApiKeyError, lambda: rp.endpoint("ep").run({"a": 1}))
    message = str(err)
    assert "api_key=" in message and "RUNPOD_API_KEY" in message
    assert "config.toml" in message and ctx.sent == []
    return describe(err)


@bad_input("ConfigurationError for a key with a newline; the key is not quoted")
def key_with_newline(ctx: Ctx) -> str:
    err = ctx.raises(ConfigurationError, lambda: Runpod(SECRET_KEY + "\nX-Injected: 1"))
    return describe(err)


@bad_input("ConfigurationError when a key function returns None; nothing sent")
def key_function_returns_none(ctx: Ctx) -> str:
    rp = ctx.mock(ok(job_json()), api_key=lambda: None)
    err = ctx.raises(ConfigurationError, lambda: rp.endpoint("ep").job("job-1").status())
    assert ctx.sent == []
    return describe(err)


# -- URLs and ids -----------------------------------------------------------------------------


@bad_input("ConfigurationError for http:// to a non-loopback host (loopback allowed)")
def plain_http_to_remote_host(ctx: Ctx) -> str:
    err = ctx.raises(
        ConfigurationError,
        lambda: Runpod(SECRET_KEY, endpoint_base_url="http://api.example.com/v2"),
    )
    Runpod(SECRET_KEY, endpoint_base_url="http://127.0.0.1:9/v2").close()
    return describe(err)


@bad_input("ConfigurationError for credentials in a base URL; the password is not quoted")
def credentials_in_url(ctx: Ctx) -> str:
    err = ctx.raises(
        ConfigurationError,
        lambda: Runpod(SECRET_KEY, api_base_url=f"https://user:{SECRET_KEY}@api.runpod.io"),
    )
    return describe(err)


@bad_input("InvalidRequestError for endpoint ids that could smuggle a path; nothing sent")
def invalid_endpoint_ids(ctx: Ctx) -> str:
    rp = ctx.mock(ok(job_json()))
    bad = ["", "a/b", "../admin", "x" * 200, "has space", "q?x=1", "é", "id#frag"]
    errors = [ctx.raises(InvalidRequestError, lambda v=v: rp.endpoint(v)) for v in bad]  # type: ignore[misc]
    assert ctx.sent == []
    return f"{len(errors)} ids refused; first: {describe(errors[1])}"


@bad_input("InvalidRequestError for job ids that could smuggle a path; nothing sent")
def invalid_job_ids(ctx: Ctx) -> str:
    rp = ctx.mock(ok(job_json()))
    endpoint = rp.endpoint("ep")
    bad = ["../../graphql", "a/b", "", "j?wait=1"]
    errors = [ctx.raises(InvalidRequestError, lambda v=v: endpoint.job(v).status()) for v in bad]  # type: ignore[misc]
    assert ctx.sent == []
    return f"{len(errors)} ids refused; first: {describe(errors[0])}"


# -- options ----------------------------------------------------------------------------------


@bad_input("ConfigurationError for negative polling options")
def negative_polling_options(ctx: Ctx) -> str:
    fields = ["first_delay", "max_delay", "jitter", "long_poll_window", "timeout"]
    errors = [
        ctx.raises(ConfigurationError, lambda f=f: PollingOptions(**{f: -1.0}))  # type: ignore[misc]
        for f in fields
    ]
    return f"{len(errors)} options refused; first: {describe(errors[0])}"


@bad_input("ConfigurationError for absurd polling options (NaN, huge, bool, max < first)")
def absurd_polling_options(ctx: Ctx) -> str:
    bad: list[dict[str, Any]] = [
        {"first_delay": math.nan},
        {"max_delay": 1e9},
        {"backoff": 100.0},
        {"jitter": 2.0},
        {"long_poll_window": 1000.0},
        {"first_delay": True},
        {"first_delay": 5.0, "max_delay": 1.0},
        {"progress_interval": 0.0},
    ]
    errors = [ctx.raises(ConfigurationError, lambda o=o: PollingOptions(**o)) for o in bad]  # type: ignore[misc]
    return f"{len(errors)} options refused; first: {describe(errors[0])}"


@bad_input("ConfigurationError for a negative or NaN timeout= on output(); nothing sent")
def bad_call_timeout(ctx: Ctx) -> str:
    job = ctx.mock(ok(job_json())).endpoint("ep").job("job-1")
    errors = [
        ctx.raises(ConfigurationError, lambda t=t: job.output(timeout=t))  # type: ignore[misc]
        for t in (-1.0, math.nan)
    ]
    assert ctx.sent == []
    return describe(errors[0])


@bad_input("ConfigurationError for bad RetryPolicy values")
def bad_retry_policy(ctx: Ctx) -> str:
    bad: list[dict[str, Any]] = [
        {"max_attempts": 0},
        {"max_attempts": 1000},
        {"initial_delay": -1.0},
        {"multiplier": math.nan},
        {"deadline": 0},
        {"initial_delay": 5.0, "max_delay": 1.0},
        {"max_retry_after": math.inf},
    ]
    errors = [ctx.raises(ConfigurationError, lambda o=o: RetryPolicy(**o)) for o in bad]  # type: ignore[misc]
    return f"{len(errors)} policies refused; first: {describe(errors[0])}"


@bad_input("ConfigurationError for a rate limit of zero requests")
def bad_rate_limit(ctx: Ctx) -> str:
    return describe(ctx.raises(ConfigurationError, lambda: RateLimit(0, 10)))


@bad_input("InvalidRequestError for bad job policy values; nothing sent")
def bad_job_policy(ctx: Ctx) -> str:
    endpoint = ctx.mock(ok(job_json("IN_QUEUE"))).endpoint("ep")
    bad = [
        Policy(execution_timeout=-5),
        Policy(ttl=math.nan),
        Policy(execution_timeout=10**9),
        Policy(low_priority="yes"),  # type: ignore[arg-type]
    ]
    errors = [
        ctx.raises(InvalidRequestError, lambda p=p: endpoint.run({"a": 1}, policy=p))  # type: ignore[misc]
        for p in bad
    ]
    assert ctx.sent == []
    return f"{len(errors)} policies refused; first: {describe(errors[0])}"


@bad_input("InvalidRequestError for a webhook or S3 config that is not valid; nothing sent")
def bad_webhook_and_s3(ctx: Ctx) -> str:
    endpoint = ctx.mock(ok(job_json("IN_QUEUE"))).endpoint("ep")
    hook = ctx.raises(InvalidRequestError, lambda: endpoint.run({"a": 1}, webhook="not a url"))
    s3 = S3Config(access_id="", access_secret="s", bucket_name="b", endpoint_url="https://s3")
    ctx.raises(InvalidRequestError, lambda: endpoint.run({"a": 1}, s3_config=s3))
    assert ctx.sent == []
    return describe(hook)


@bad_input("InvalidRequestError for map(concurrency=0)")
def bad_map_concurrency(ctx: Ctx) -> str:
    endpoint = ctx.mock(ok(job_json())).endpoint("ep")
    err = ctx.raises(InvalidRequestError, lambda: endpoint.map([1, 2], concurrency=0))
    assert ctx.sent == []
    return describe(err)


# -- inputs -----------------------------------------------------------------------------------


@bad_input("InvalidRequestError for input that is not JSON (object, NaN); nothing sent")
def input_not_json(ctx: Ctx) -> str:
    endpoint = ctx.mock(ok(job_json("IN_QUEUE"))).endpoint("ep")
    err = ctx.raises(InvalidRequestError, lambda: endpoint.run({"obj": object()}))
    ctx.raises(InvalidRequestError, lambda: endpoint.run({"x": math.nan}))
    assert ctx.sent == []
    return describe(err)


@bad_input("InvalidRequestError for a None input; nothing sent")
def input_none(ctx: Ctx) -> str:
    endpoint = ctx.mock(ok(job_json("IN_QUEUE"))).endpoint("ep")
    err = ctx.raises(InvalidRequestError, lambda: endpoint.run(None))
    assert ctx.sent == []
    return describe(err)


@bad_input("PayloadTooLargeError (> 10 MB for /run) before anything is sent")
def payload_too_large(ctx: Ctx) -> str:
    rp = ctx.client()
    big = {"blob": "x" * (10 * 1024 * 1024 + 1)}
    err = ctx.raises(PayloadTooLargeError, lambda: rp.endpoint("echo").run(big))
    assert err.size > err.limit and ctx.sent == []
    assert ctx.server.counters()["requests"].get("run", 0) == 0
    return describe(err)


@bad_input("RequestTooLargeError (413) when the server refuses a body")
def server_refuses_body(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.Response(413, json={"error": "request entity too large"}))
    err = ctx.raises(RequestTooLargeError, lambda: rp.endpoint("ep").run({"a": 1}))
    assert len(ctx.sent) == 1
    return describe(err)


# -- outputs ----------------------------------------------------------------------------------


@bad_input("OutputValidationError keeping the raw output in .raw")
def output_does_not_match_type(ctx: Ctx) -> str:
    rp = ctx.client()
    err = ctx.raises(
        OutputValidationError, lambda: rp.endpoint("echo").run_sync({"a": 1}, output_type=int)
    )
    assert err.raw == {"a": 1}
    return describe(err)


@bad_input("OutputValidationError for a stream chunk that does not match chunk_type")
def chunk_does_not_match_type(ctx: Ctx) -> str:
    job = ctx.client().endpoint("tokens").run({"prompt": "one two"})
    err = ctx.raises(OutputValidationError, lambda: list(job.stream(int)))
    assert err.raw == "one"
    return describe(err)


@bad_input("JobFailed carrying the worker's error message")
def worker_fails(ctx: Ctx) -> str:
    job = ctx.client().endpoint("fail").run({"message": "out of memory"})
    err = ctx.raises(JobFailed, lambda: job.output())
    assert err.error == "out of memory"
    return describe(err)


def fails_midway(job: dict[str, Any]) -> Iterator[str]:
    """A worker that streams two chunks, then crashes."""
    yield "first"
    yield "second"
    raise RuntimeError("worker crashed")


@bad_input("JobFailed from a stream, after the chunks produced before the failure")
def stream_fails_midway(ctx: Ctx) -> str:
    server = ctx.start_emulator(handlers={"midway": fails_midway})
    job = ctx.client(server).endpoint("midway").run({"a": 1})
    chunks: list[str] = []

    def consume() -> None:
        for chunk in job.stream(str):
            chunks.append(chunk)

    err = ctx.raises(JobFailed, consume)
    # The runtime's message for a generator that raises: "handler: <error> \ntraceback: ...".
    assert chunks == ["first", "second"]
    assert err.error.startswith("handler: worker crashed \ntraceback: ")
    return f"chunks {chunks}, then {describe(err)}"


@bad_input("NotFoundError for an endpoint id the account does not have")
def unknown_endpoint(ctx: Ctx) -> str:
    server = ctx.start_emulator(handlers={"mine": "echo"})
    rp = ctx.client(server)
    err = ctx.raises(NotFoundError, lambda: rp.endpoint("someone-elses").run({"a": 1}))
    assert server.counters()["jobs_created"] == 0
    return describe(err)


# -- jobs that are gone -----------------------------------------------------------------------


@bad_input("NotFoundError for a job id RunPod never issued")
def unknown_job(ctx: Ctx) -> str:
    job = ctx.client().endpoint("echo").job("no-such-job")
    return describe(ctx.raises(NotFoundError, job.status))


@bad_input("NotFoundError for an expired job, from status() and from output() (no fallback)")
def expired_job(ctx: Ctx) -> str:
    server = ctx.start_emulator(settings=JobSettings(run_retention_seconds=0.2))
    job = ctx.client(server).endpoint("echo").run({"a": 1})
    assert job.output() == {"a": 1}
    assert harness.wait_until(lambda: server.job_state("echo", job.id) is None, bound=10)
    err = ctx.raises(NotFoundError, job.status)
    ctx.raises(NotFoundError, job.output)
    return describe(err)


@bad_input("BadRequestError (400) for retry() of a job that did not fail")
def retry_completed_job(ctx: Ctx) -> str:
    from runpod_typed import BadRequestError

    job = ctx.client().endpoint("echo").run({"a": 1})
    job.output()
    return describe(ctx.raises(BadRequestError, job.retry))


# -- broken servers ---------------------------------------------------------------------------


@bad_input("ResponseFormatError for a proxy's HTML page answered as 200")
def html_page_as_200(ctx: Ctx) -> str:
    rp = ctx.mock(text(200, PROXY_PAGE))
    err = ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").job("job-1").status())
    assert len(err.body) <= 503
    return describe(err)


@bad_input("ServerError (502) for a proxy's HTML error page once retries are spent")
def html_502_from_proxy(ctx: Ctx) -> str:
    rp = ctx.mock(text(502, PROXY_PAGE))
    err = ctx.raises(ServerError, lambda: rp.endpoint("ep").job("job-1").status())
    assert err.status_code == 502 and len(ctx.sent) == harness.FAST_RETRY.max_attempts
    assert len(str(err)) < 1000
    return describe(err)


@bad_input("ServerError for a 5 MB HTML error page; message and .body stay short")
def huge_error_page(ctx: Ctx) -> str:
    rp = ctx.mock(text(502, "<html>" + "x" * 5_000_000))
    err = ctx.raises(ServerError, lambda: rp.endpoint("ep").job("job-1").status())
    assert len(err.body) <= 503 and len(str(err)) < 1000
    return f"{describe(err)}; .body {len(err.body)} chars"


@bad_input("ResponseFormatError for a body that is not UTF-8")
def non_utf8_body(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.Response(200, content=b'{"id": "\xff\xfe", "status": "COMPLETED"}'))
    return describe(
        ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").job("job-1").status())
    )


@bad_input("ResponseFormatError for a redirect to a login page; it is not followed")
def redirect_not_followed(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.Response(302, headers={"Location": "https://login.example/sso"}))
    err = ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").job("job-1").status())
    assert [r.url.host for r in ctx.sent] == ["api.runpod.ai"]
    return f"{describe(err)}; key sent to api.runpod.ai only"


@bad_input("ResponseFormatError for JSON nested 100,000 deep (a parser bomb)")
def deeply_nested_answer(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000))
    return describe(
        ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").job("job-1").status())
    )


@bad_input("InvalidRequestError for an input nested 100,000 deep; nothing sent")
def deeply_nested_input(ctx: Ctx) -> str:
    nested: list[Any] = []
    for _ in range(100_000):
        nested = [nested]
    endpoint = ctx.mock(ok(job_json("IN_QUEUE"))).endpoint("ep")
    err = ctx.raises(InvalidRequestError, lambda: endpoint.run(nested))
    assert ctx.sent == []
    return describe(err)


@bad_input("ResponseFormatError for truncated JSON")
def truncated_json(ctx: Ctx) -> str:
    rp = ctx.mock(text(200, '{"id": "job-1", "status": "COMPL', "application/json"))
    return describe(
        ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").job("job-1").status())
    )


@bad_input("ResponseFormatError for an empty 200 body")
def empty_body(ctx: Ctx) -> str:
    rp = ctx.mock(text(200, "", "application/json"))
    return describe(
        ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").job("job-1").status())
    )


@bad_input("ResponseFormatError for a JSON array where an object is promised")
def json_array_for_object(ctx: Ctx) -> str:
    rp = ctx.mock(ok([job_json()]))
    return describe(
        ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").job("job-1").status())
    )


@bad_input("ResponseFormatError for a status without its 'status' field")
def status_field_missing(ctx: Ctx) -> str:
    rp = ctx.mock(ok({"id": "job-1", "output": 1}))
    return describe(
        ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").job("job-1").status())
    )


@bad_input("ResponseFormatError for a /run answer without a job id")
def run_answer_without_id(ctx: Ctx) -> str:
    rp = ctx.mock(ok({"status": "IN_QUEUE"}))
    return describe(ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").run({"a": 1})))


@bad_input("ResponseFormatError for null where a state is promised")
def null_state(ctx: Ctx) -> str:
    rp = ctx.mock(ok({"id": "job-1", "status": None}))
    return describe(
        ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").job("job-1").status())
    )


@bad_input("ResponseFormatError for null health counters")
def null_health_counters(ctx: Ctx) -> str:
    rp = ctx.mock(ok({"jobs": None, "workers": {"idle": 1, "running": 0}}))
    return describe(ctx.raises(ResponseFormatError, lambda: rp.endpoint("ep").health()))


@bad_input('ResponseFormatError for a mistyped timing (executionTime: "fast")')
def mistyped_timing(ctx: Ctx) -> str:
    rp = ctx.mock(ok(job_json(executionTime="fast", output=1)))
    job = rp.endpoint("ep").job("job-1")
    return describe(ctx.raises(ResponseFormatError, job.status))


@bad_input("parses: an unknown job state is kept and is not final; output() waits past it")
def unknown_job_state(ctx: Ctx) -> str:
    rp = ctx.mock(
        ok(job_json("HIBERNATING")),
        ok(job_json("HIBERNATING")),
        ok(job_json("COMPLETED", output=42)),
    )
    job = rp.endpoint("ep").job("job-1")
    status = job.status()
    assert str(status.state.value) == "HIBERNATING" and not status.is_final
    assert job.output() == 42
    return f"state={status.state.value}, is_final=False; output() then returned 42"


@bad_input("parses: fields RunPod adds later are ignored, the raw answer is kept")
def unknown_fields(ctx: Ctx) -> str:
    rp = ctx.mock(ok(job_json(output=1, gpuSeconds=3.5, newThing={"a": 1})))
    status = rp.endpoint("ep").job("job-1").status()
    assert status.state is JobState.COMPLETED and status.raw["gpuSeconds"] == 3.5
    return f"state={status.state.value}, raw keeps gpuSeconds"


# -- status codes and retries -----------------------------------------------------------------


@bad_input("PermissionDeniedError (403)")
def forbidden(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.Response(403, json={"error": "forbidden"}))
    return describe(ctx.raises(PermissionDeniedError, lambda: rp.endpoint("ep").health()))


@bad_input("ServerError (500) on an idempotent call after exactly max_attempts tries")
def server_error_retries_exhausted(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.Response(500, json={"error": "internal"}))
    err = ctx.raises(ServerError, lambda: rp.endpoint("ep").job("job-1").status())
    assert len(ctx.sent) == harness.FAST_RETRY.max_attempts
    return f"{describe(err)} after {len(ctx.sent)} attempts"


@bad_input("ServerError (503) on /run after one attempt: a resend could start a second job")
def server_error_on_run(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.Response(503, text="busy"))
    err = ctx.raises(ServerError, lambda: rp.endpoint("ep").run({"a": 1}))
    assert len(ctx.sent) == 1
    return describe(err)


@bad_input("TransportError on /run after one attempt when the connection drops mid-request")
def dropped_connection_on_run(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.RemoteProtocolError("Server disconnected without sending a response"))
    err = ctx.raises(TransportError, lambda: rp.endpoint("ep").run({"a": 1}))
    assert len(ctx.sent) == 1 and "duplicate" in str(err)
    return describe(err)


@bad_input("TransportError on /run after max_attempts when no connection ever opens (safe)")
def connection_refused_on_run(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.ConnectError("Connection refused"))
    err = ctx.raises(TransportError, lambda: rp.endpoint("ep").run({"a": 1}))
    assert len(ctx.sent) == harness.FAST_RETRY.max_attempts
    return f"{describe(err)} after {len(ctx.sent)} attempts"


@bad_input(
    "TransportError for a /run whose connection never opened does not claim a duplicate risk"
)
def refused_connection_message(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.ConnectError("Connection refused"))
    err = ctx.raises(TransportError, lambda: rp.endpoint("ep").run({"a": 1}))
    assert "duplicate" not in str(err), str(err)
    return describe(err)


@bad_input("RateLimitError at once for an absurd Retry-After (a day), .retry_after kept")
def absurd_retry_after(ctx: Ctx) -> str:
    rp = ctx.mock(httpx.Response(429, headers={"Retry-After": "86400"}, json={"error": "slow"}))
    err = ctx.raises(RateLimitError, lambda: rp.endpoint("ep").run({"a": 1}))
    assert len(ctx.sent) == 1 and err.retry_after == 86400
    return describe(err)


@bad_input("RateLimitError after max_attempts for an unparseable or negative Retry-After")
def garbage_retry_after(ctx: Ctx) -> str:
    rp = ctx.mock(
        httpx.Response(429, headers={"Retry-After": "soon"}),
        httpx.Response(429, headers={"Retry-After": "-5"}),
    )
    err = ctx.raises(RateLimitError, lambda: rp.endpoint("ep").job("job-1").status())
    assert len(ctx.sent) == harness.FAST_RETRY.max_attempts
    return f"{describe(err)} after {len(ctx.sent)} attempts"


# -- control plane ----------------------------------------------------------------------------


def graphql_pod(rp: Runpod) -> dict[str, Any]:
    """A real pod as the emulator's GraphQL control plane answers it (raw JSON)."""
    pod = rp.pods.create(name="real", image_name="img", gpu_type_id="NVIDIA GeForce RTX 4090")
    found = rp.graphql.pod(input=PodFilter(pod_id=pod.id)).pod
    assert found is not None
    return found.model_dump(mode="json", by_alias=True)


def strings_in(value: Any) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [s for item in items for s in strings_in(item)]


@bad_input("names with quotes/newlines/unicode travel as GraphQL variables, never in the query")
def hostile_names_are_variables(ctx: Ctx) -> str:
    rp = ctx.client()
    template = SaveTemplateInput(
        name=HOSTILE_NAME,
        image_name="img",
        container_disk_in_gb=5,
        volume_in_gb=0,
        docker_args="",
        env=[],
    )
    saved = rp.graphql.save_template(input=template).save_template
    assert saved is not None and saved.name == HOSTILE_NAME
    err = ctx.raises(RunpodError, lambda: rp.graphql.pod(input=PodFilter(pod_id=HOSTILE_NAME)))
    bodies = [json.loads(r.content) for r in ctx.sent if r.url.path.endswith("/graphql")]
    assert len(bodies) == 2
    for body in bodies:
        for piece in (HOSTILE_NAME, '"})', "\u2603", "podTerminate(input: {podId"):
            assert piece not in body["query"], f"{piece!r} spliced into {body['operationName']}"
    assert all(HOSTILE_NAME in strings_in(body["variables"]) for body in bodies)
    return f"name round-trips; pods.get of that id: {describe(err)}"


@bad_input("GraphQLError with .data None for errors without data")
def graphql_errors_without_data(ctx: Ctx) -> str:
    rp = ctx.mock(ok({"data": None, "errors": [{"message": "boom", "path": ["myself"]}]}))
    err = ctx.raises(GraphQLError, lambda: rp.graphql.myself())
    assert err.data is None and err.messages == ["boom"]
    return describe(err)


@bad_input("GraphQLError keeping partial data in .data")
def graphql_errors_with_partial_data(ctx: Ctx) -> str:
    partial = {"myself": {"id": "u1", "pods": None}}
    rp = ctx.mock(ok({"data": partial, "errors": [{"message": "pods failed", "path": ["pods"]}]}))
    err = ctx.raises(GraphQLError, lambda: rp.graphql.pods())
    assert err.data == partial
    return describe(err)


@bad_input("GraphQLError for a 400 carrying a GraphQL error list (query validation)")
def graphql_validation_error(ctx: Ctx) -> str:
    body = {"errors": [{"message": "Cannot query field 'nope' on type 'Query'."}]}
    rp = ctx.mock(httpx.Response(400, json=body))
    return describe(ctx.raises(GraphQLError, lambda: rp.graphql.myself()))


@bad_input("ResponseFormatError for a GraphQL answer with neither data nor errors")
def graphql_neither_data_nor_errors(ctx: Ctx) -> str:
    rp = ctx.mock(ok({"extensions": {}}))
    return describe(ctx.raises(ResponseFormatError, lambda: rp.graphql.myself()))


@bad_input("ResponseFormatError for a GraphQL 'errors' that is not a list of objects")
def graphql_errors_not_a_list(ctx: Ctx) -> str:
    rp = ctx.mock(ok({"data": None, "errors": "something broke"}))
    return describe(ctx.raises(ResponseFormatError, lambda: rp.graphql.myself()))


@bad_input("parses: an enum value the schema does not know yet (desiredStatus, podType)")
def graphql_unknown_enum(ctx: Ctx) -> str:
    pod = graphql_pod(ctx.client())
    pod.update(desiredStatus="HIBERNATING", podType="QUANTUM")
    rp = ctx.mock(ok({"data": {"myself": {"pods": [pod]}}}))
    answer = rp.graphql.pods().myself
    assert answer is not None and answer.pods is not None
    [parsed] = answer.pods
    assert parsed is not None and parsed.desired_status is not None
    assert parsed.desired_status.value == "HIBERNATING"
    assert parsed.pod_type is not None and parsed.pod_type.value == "QUANTUM"
    return f"desired_status={parsed.desired_status.value}, pod_type={parsed.pod_type.value}"


@bad_input("ResponseFormatError for GraphQL data missing a non-null field (imageName)")
def graphql_missing_non_null_field(ctx: Ctx) -> str:
    pod = graphql_pod(ctx.client())
    del pod["imageName"]
    rp = ctx.mock(ok({"data": {"myself": {"pods": [pod]}}}))
    return describe(ctx.raises(ResponseFormatError, rp.graphql.pods))


# -- the runner -------------------------------------------------------------------------------


@pytest.fixture
def ctx(
    secret_witness: SecretWitness,
    runpod_emulator_factory: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Ctx]:
    context = Ctx(secret_witness, runpod_emulator_factory, monkeypatch, tmp_path)
    yield context
    for client in context.clients:
        client._http.close()


@pytest.mark.parametrize("bad", CORPUS, ids=[bad.name for bad in CORPUS])
def test_bad_input(bad: BadInput, ctx: Ctx, case: Case) -> None:
    """One corpus case, bounded so that a hang fails it."""
    case.expected = bad.expected
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["observed"] = bad.run(ctx)
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"corpus-{bad.name}", daemon=True)
    worker.start()
    worker.join(BOUND)
    if worker.is_alive():
        case.observed = f"no answer within {BOUND:g} s (hang)"
        pytest.fail(case.observed)
    error = outcome.get("error")
    if error is None:
        case.observed = outcome["observed"]
        return
    case.observed = describe(error)
    raise error
