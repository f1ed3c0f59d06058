"""The one place requests are made: key, headers, rate limits, retries, error mapping.

`Transport.call` is a flow (see `_flow.py`), so the blocking and the async client
share it. Everything else in the SDK calls RunPod through it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from runpod_typed._config import ApiKeyProvider, ResolvedUrls
from runpod_typed._errors import (
    BODY_EXCERPT_CHARS,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    ResponseFormatError,
    ServerError,
    TransportError,
)
from runpod_typed._flow import MAX_ANSWER_BYTES, Answer, Flow, Send, Sleep
from runpod_typed._generated.serverless.routes import ROUTES
from runpod_typed._logging import logger, redact, redacted_excerpt
from runpod_typed._ratelimit import RateLimiter
from runpod_typed._retry import Outcome, OutcomeKind, RetryPolicy, RetryState, parse_retry_after
from runpod_typed._version import __version__

USER_AGENT = f"runpod-typed/{__version__}"

#: Extra seconds a long-poll request may take beyond the wait the server was asked for.
LONG_POLL_MARGIN_SECONDS = 15.0
#: How long a client polls after the server said it cannot long-poll, before asking again.
LONG_POLL_REPROBE_SECONDS = 300.0

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: RequestTooLargeError,
}

#: The routes that create a job: an answer lost on them leaves the job's fate unknown.
SUBMISSIONS = frozenset(name for name, route in ROUTES.items() if route.submission)
#: Said of a submission whose outcome the SDK cannot know.
FATE_UNKNOWN = (
    "RunPod may have created the job anyway (its id is unknown); resending could start a "
    "duplicate job, so it was not resent: check the endpoint's jobs before submitting again"
)

_HINTS: dict[int, str] = {
    401: "check the API key (argument api_key=, RUNPOD_API_KEY or ~/.runpod/config.toml)",
    403: "the key is valid but lacks permission for this resource",
    404: "the endpoint, job or route does not exist (a job expires after its ttl)",
    413: "the payload is over RunPod's limit; send large data by URL instead",
    429: "over RunPod's rate limit; slow down or raise the client's retry budget",
}


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One logical request; retries resend the same call."""

    method: str
    url: str
    route: str
    endpoint_id: str = ""
    params: dict[str, str] | None = None
    body: bytes | None = None
    idempotent: bool = True
    timeout: float | None = None


@dataclass
class Transport:
    """What one client needs to talk to RunPod; shared by its sync and async forms."""

    keys: ApiKeyProvider
    urls: ResolvedUrls
    retry: RetryPolicy
    limiter: RateLimiter
    timeout: float = 30.0
    #: Most bytes of one answer read (the client option max_response_bytes).
    max_answer_bytes: int = MAX_ANSWER_BYTES
    #: Until when (monotonic) to poll instead of long-polling: a server without the
    #: long-poll routes is believed for a while, then asked again (a 404 from a proxy
    #: in a bad minute must not turn long-polling off for the client's whole life).
    no_long_poll_until: float = field(default=0.0)

    @property
    def long_poll(self) -> bool:
        """Whether to long-poll now."""
        return time.monotonic() >= self.no_long_poll_until

    def long_poll_missing(self) -> None:
        """The server answered that it has no long-poll route: poll for a while."""
        self.no_long_poll_until = time.monotonic() + LONG_POLL_REPROBE_SECONDS

    def headers(self, has_body: bool) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.keys.get()}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    def call(self, api: ApiCall, retry: RetryPolicy | None = None) -> Flow[Answer]:
        """Send `api` until it succeeds or the retry policy gives up; raise mapped errors."""
        state = RetryState(retry or self.retry, now=time.monotonic())
        while True:
            wait = self.limiter.reserve((api.endpoint_id, api.route), time.monotonic())
            if wait > 0:
                yield Sleep(wait)
            send = Send(
                api.method,
                api.url,
                self.headers(api.body is not None),
                api.params,
                api.body,
                api.timeout or self.timeout,
                max_bytes=self.max_answer_bytes,
                finish=api.route in SUBMISSIONS,
            )
            started = time.monotonic()
            try:
                response = yield send
            except httpx.TransportError as exc:
                outcome = Outcome.from_exception(exc)
                delay = state.next_delay(outcome, idempotent=api.idempotent, now=time.monotonic())
                if delay is None:
                    raise _transport_error(api, exc, outcome, state.attempts) from None
                _log_retry(api, f"{type(exc).__name__}", delay, state.attempts)
                yield Sleep(delay)
                continue
            if not isinstance(response, Answer):
                raise TypeError(f"the driver answered a Send with {type(response).__name__}")
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %d in %.1f ms",
                    api.method,
                    redact(api.url),
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                )
            if response.status_code < 400:
                return response
            outcome = Outcome.from_status(response.status_code, response.headers)
            delay = state.next_delay(outcome, idempotent=api.idempotent, now=time.monotonic())
            if delay is None:
                raise status_error(api, response)
            _log_retry(api, f"HTTP {response.status_code}", delay, state.attempts)
            yield Sleep(delay)

    def call_json(self, api: ApiCall, retry: RetryPolicy | None = None) -> Flow[Any]:
        """`call`, then decode the JSON body (a typed error if it is not JSON)."""
        response = yield from self.call(api, retry)
        return decode_json(api, response)


def decode_json(api: ApiCall, response: Answer) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):  # RecursionError: JSON nested beyond what Python parses
        kind = response.headers.get("content-type", "unknown content type")
        message = (
            f"{api.method} {api.route}: expected JSON from RunPod, got {kind} "
            f"(HTTP {response.status_code}); a proxy or an outage may be in the way"
        )
        if api.route in SUBMISSIONS:
            message += f"; {FATE_UNKNOWN}"
        body = redacted_excerpt(response.text, BODY_EXCERPT_CHARS)
    raise ResponseFormatError(message, body=body)


#: RunPod's `{"error": ...}` answers are short; a bigger body is a page, not parsed.
_MESSAGE_BODY_CHARS = 100_000


def status_error(api: ApiCall, response: Answer) -> APIStatusError:
    """Map an HTTP error status to the error hierarchy, with a redacted body excerpt."""
    code = response.status_code
    text = response.text
    # Only what the error keeps is redacted: a proxy's error page may be megabytes.
    body = redacted_excerpt(text, BODY_EXCERPT_CHARS)
    url = redact(response.url)
    detail = redact(_server_message(text))
    hint = _HINTS.get(code) or ("RunPod had a server error; try again later" if code >= 500 else "")
    message = f"{api.method} {api.route} failed with HTTP {code}"
    if detail:
        message += f": {detail}"
    if hint:
        message += f" ({hint})"
    if code >= 500 and api.route in SUBMISSIONS:
        message += f"; {FATE_UNKNOWN}"
    if code == 429:
        return RateLimitError(
            message,
            body=body,
            method=api.method,
            url=url,
            retry_after=parse_retry_after(response.headers.get("retry-after"), time.time()),
        )
    cls = _STATUS_ERRORS.get(code) or (ServerError if code >= 500 else APIStatusError)
    return cls(message, status_code=code, body=body, method=api.method, url=url)


def _server_message(body: str) -> str:
    """The server's own error text when the body is RunPod's `{"error": ...}` shape."""
    if len(body) > _MESSAGE_BODY_CHARS or not body.lstrip().startswith("{"):
        return ""
    try:
        parsed = json.loads(body)
    except ValueError:
        return ""
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        return str(parsed["error"])[:200]
    return ""


def _transport_error(
    api: ApiCall, exc: httpx.TransportError, outcome: Outcome, attempts: int
) -> TransportError:
    message = (
        f"{api.method} {api.route}: no answer from RunPod ({type(exc).__name__}: "
        f"{redact(str(exc)) or 'connection failed'}) after {attempts} attempt(s)"
    )
    if outcome.kind is OutcomeKind.SEND_FAILED and api.route in SUBMISSIONS:
        message += f"; {FATE_UNKNOWN}"
    return TransportError(message)


def _log_retry(api: ApiCall, why: str, delay: float, attempts: int) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "retrying %s %s after %s (attempt %d) in %.2f s",
            api.method,
            api.route,
            why,
            attempts,
            delay,
        )
