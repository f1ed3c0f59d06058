"""REST API v2 over the shared transport: the `send` the generated flows are built with.

The generated operation layer (`generated/rest/flows.py`: `RestFlows`, and `RestApi`
/ `AsyncRestApi` which run it with the client's driver) owns no HTTP. It hands each
request to `rest_call`, which sends it through `Transport.call` -- the same key,
rate limiter, retries and error mapping as the job API and GraphQL -- and hands
the 2xx answer back for the flow to parse into its model. The two log streams go
through `_sse.py` instead.

Resending: GET, PUT and DELETE are idempotent by HTTP semantics (RFC 9110), so
they are resent after a failure that may have reached RunPod (a dropped
connection, a 502/503/504); POST (create, pod actions) and PATCH are resent only
when RunPod certainly did not act on them (the connection never opened, a 429).

Errors: v2 answers a refusal with a problem document (``{title, status, detail,
errors}``, `application/problem+json`); its `detail` and `errors` -- which name an
unknown or invalid field -- become the message of the SDK's status error
(`BadRequestError` for 400, `NotFoundError` for 404, `RateLimitError`, ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runpod_typed._errors import APIStatusError, InvalidRequestError, ResponseFormatError, excerpt
from runpod_typed._flow import Flow
from runpod_typed._generated.rest.flow_base import RestRequest
from runpod_typed._generated.rest.models.error_response import ErrorResponse
from runpod_typed._logging import redact
from runpod_typed._transport import ApiCall, Transport

#: What to do about an error status, when RunPod's text does not say.
_HINTS: dict[int, str] = {
    401: "check the API key (argument api_key=, RUNPOD_API_KEY or ~/.runpod/config.toml)",
    403: "the key is valid but lacks permission for this resource",
    404: "no such resource: a wrong id, or it was deleted",
    429: "over RunPod's rate limit; slow down or raise the client's retry budget",
}
#: Most `errors` entries of a problem document quoted in a message.
_MAX_ERRORS = 5
_REGENERATE = (
    "RunPod may have changed its API: see 'Regenerating after an API change' in the README"
)


@dataclass(frozen=True)
class RestAnswer:
    """A 2xx answer of the v2 API, as the generated flows read it (`json()`)."""

    request: RestRequest
    status_code: int
    content: bytes
    headers: Mapping[str, str] = field(repr=False)

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except (ValueError, RecursionError):
            kind = self.headers.get("content-type", "unknown content type")
            raise ResponseFormatError(
                f"{describe(self.request)}: expected JSON from RunPod, got {kind} "
                f"(HTTP {self.status_code}); a proxy or an outage may be in the way",
                body=redact(self.content.decode("utf-8", "replace")),
            ) from None


def describe(request: RestRequest) -> str:
    """``GET /v2/pods/abc (getPod)``: how messages name a request."""
    return f"{request.method} {request.path} ({request.operation.id})"


def rest_call(transport: Transport, request: RestRequest) -> Flow[RestAnswer]:
    """Send one v2 request; return its 2xx answer or raise the mapped error."""
    if request.headers:
        raise InvalidRequestError(
            f"{describe(request)}: header parameters are only sent by the event streams"
        )
    body = None
    if request.body is not None:
        body = json.dumps(request.body, separators=(",", ":"), ensure_ascii=False).encode()
    api = ApiCall(
        request.method,
        transport.urls.rest_url + request.path,
        f"rest:{request.operation.id}",
        params=request.params or None,
        body=body,
        idempotent=request.operation.idempotent,
    )
    try:
        answer = yield from transport.call(api)
    except APIStatusError as exc:
        exc.args = (error_message(request, exc.status_code, exc.body),)
        raise
    return RestAnswer(request, answer.status_code, answer.content, answer.headers)


def error_message(request: RestRequest, status: int, body: str) -> str:
    """The message of a v2 error: RunPod's detail and field errors, then a hint."""
    message = f"{describe(request)} failed with HTTP {status}"
    problem = problem_details(body)
    if problem is not None:
        title, detail, errors = problem
        message += f": {detail or title}"
        if errors:
            shown = "; ".join(errors[:_MAX_ERRORS])
            more = len(errors) - _MAX_ERRORS
            message += f" ({shown}{f'; {more} more' if more > 0 else ''})"
    elif body.strip():
        message += f": {excerpt(body, 200)}"
    hint = _HINTS.get(status) or (
        "RunPod had a server error; try again later" if status >= 500 else ""
    )
    return f"{message} ({hint})" if hint else message


def problem_details(body: str) -> tuple[str, str, list[str]] | None:
    """(title, detail, errors) of a v2 problem document, or None if `body` is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        problem = ErrorResponse.from_dict(data)
    except (KeyError, TypeError, ValueError):
        detail = data.get("detail") or data.get("error") or data.get("message")
        return ("", detail, []) if isinstance(detail, str) and detail else None
    errors = [str(e) for e in problem.errors] if isinstance(problem.errors, list) else []
    return str(problem.title), str(problem.detail), errors


def invalid_answer(request: RestRequest, answer: Any, exc: Exception | None) -> ResponseFormatError:
    """What the generated flows raise for a 2xx answer the models cannot read."""
    status = getattr(answer, "status_code", "?")
    content = getattr(answer, "content", b"")
    text = redact(content.decode("utf-8", "replace")) if isinstance(content, bytes) else ""
    if exc is None:
        return ResponseFormatError(
            f"{describe(request)}: HTTP {status} is not an answer the v2 description lists; "
            + _REGENERATE,
            body=text,
        )
    return ResponseFormatError(
        f"{describe(request)}: the answer does not match the v2 description the SDK was "
        f"generated from ({type(exc).__name__}: {exc}); {_REGENERATE}",
        body=text,
    )
