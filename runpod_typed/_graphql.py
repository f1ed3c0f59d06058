"""GraphQL over the shared transport: the `send` the generated clients are built with.

The generated clients (ariadne-codegen) own no HTTP: they hand each operation's
payload to `send`, which goes through the same key, retries and error mapping
as the job API. Mutations are not retried once they may have reached RunPod.
"""

from __future__ import annotations

import json
import re
from typing import Any

from runpod_typed._errors import BadRequestError, GraphQLError, ResponseFormatError
from runpod_typed._flow import Flow
from runpod_typed._transport import ApiCall, Transport

_MUTATION = re.compile(r"^\s*mutation\b", re.MULTILINE)


def graphql_call(transport: Transport, payload: dict[str, Any]) -> Flow[dict[str, Any]]:
    """POST one operation; return the whole answer, or raise GraphQLError with partial data."""
    query = str(payload.get("query", ""))
    api = ApiCall(
        "POST",
        transport.urls.graphql_url,
        "graphql",
        body=json.dumps(payload, separators=(",", ":")).encode(),
        idempotent=_MUTATION.search(query) is None,
    )
    operation = payload.get("operationName")
    try:
        answer = yield from transport.call_json(api)
    except BadRequestError as exc:  # validation errors come back as 400 with an error list
        errors = _errors_in(exc.body)
        if errors is None:
            raise
        raise GraphQLError(errors, operation_name=operation) from None
    if not isinstance(answer, dict):
        raise ResponseFormatError("GraphQL: the answer is not a JSON object", body=str(answer))
    data = answer.get("data")
    if answer.get("errors"):
        errors = answer["errors"]
        if not isinstance(errors, list) or not all(isinstance(e, dict) for e in errors):
            raise ResponseFormatError(
                "GraphQL: 'errors' is not a list of objects", body=str(answer)
            )
        raise GraphQLError(
            errors, data=data if isinstance(data, dict) else None, operation_name=operation
        )
    if not isinstance(data, dict):
        raise ResponseFormatError(
            "GraphQL: the answer has neither data nor errors", body=str(answer)
        )
    return answer


def _errors_in(body: str) -> list[dict[str, Any]] | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    if isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors):
        return errors
    return None


def says_not_found(error: GraphQLError) -> bool:
    """Whether every error in the answer means "no such object".

    Apollo servers (RunPod's among them) tag it `extensions.code == "NOT_FOUND"`;
    RunPod's own resolvers also answer with messages like "Pod not found".
    """
    return bool(error.errors) and all(_not_found(entry) for entry in error.errors)


def _not_found(entry: dict[str, Any]) -> bool:
    extensions = entry.get("extensions")
    if isinstance(extensions, dict) and extensions.get("code") == "NOT_FOUND":
        return True
    return "not found" in str(entry.get("message", "")).lower()


def invalid_answer(exc: Exception, data: dict[str, Any]) -> ResponseFormatError:
    """What the generated clients raise when an answer does not fit the operation's models."""
    first = str(exc).splitlines()
    detail = " ".join(first[1:3]).strip() if len(first) > 2 else str(exc)
    return ResponseFormatError(
        f"GraphQL: the answer does not match the schema the SDK was generated from ({detail}); "
        "RunPod may have changed its API: see 'Regenerating after an API change' in the README",
        body=json.dumps(data)[:2000],
    )
