"""ControlPlane: the state and the schema, served over HTTP the way RunPod answers.

Errors come back as RunPod's Apollo server sends them: HTTP 200, ``data`` with the
failed field set to null, and ``errors`` with message, path and ``extensions.code``;
a document that fails parsing or validation gets HTTP 400. Bodies and ``variables`` are
read as RunPod's server reads JSON (no NaN/Infinity, out-of-range numbers, lone surrogates
or extreme nesting: 400, ariadne's bad-JSON answer).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from ariadne.exceptions import HttpBadRequestError
from graphql import GraphQLError, GraphQLSchema
from starlette.requests import Request
from starlette.responses import Response

from runpod_typed.emulator import _json as wire
from runpod_typed.emulator.control_plane._schema import build_schema, load_sdl
from runpod_typed.emulator.control_plane._state import State
from runpod_typed.emulator.control_plane._wire import Json

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]

_LOG = logging.getLogger("runpod_typed.emulator.graphql")


class ControlPlane:
    """RunPod's GraphQL API over in-memory state; :meth:`asgi_app` serves it.

    ``pod_transition_seconds`` is how long a pod takes to start (CREATED -> RUNNING
    with a runtime) and how long a terminated pod stays listed before it is gone.
    """

    def __init__(self, *, pod_transition_seconds: float = 0.2, sdl: str | None = None) -> None:
        self._state = State(pod_transition_seconds)
        self._schema = build_schema(load_sdl() if sdl is None else sdl, self._state)

    @property
    def pod_transition_seconds(self) -> float:
        return self._state.pod_transition_seconds

    @pod_transition_seconds.setter
    def pod_transition_seconds(self, seconds: float) -> None:
        self._state.pod_transition_seconds = seconds

    @property
    def state(self) -> State:
        """The records both APIs serve (GraphQL here, REST v2 in ``emulator.rest_v2``)."""
        return self._state

    @property
    def schema(self) -> GraphQLSchema:
        """The executable schema, for in-process execution with graphql-core."""
        return self._schema

    def asgi_app(self) -> ASGIApp:
        """GraphQL over HTTP at the app's root: POST JSON, GET for tools; introspection on."""
        app: ASGIApp = GraphQL(
            self._schema,
            introspection=True,
            logger=_LOG,
            error_formatter=_format_error,
            http_handler=_RunpodHTTPHandler(),
            execute_get_queries=True,
        )
        return app

    def reset(self) -> None:
        """Forget every pod, template, endpoint, credential and volume; restore the user."""
        self._state.reset()


def _format_error(error: GraphQLError, debug: bool = False) -> Json:
    """RunPod's error shape: message, locations, path and an Apollo ``extensions.code``."""
    formatted: Json = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if "code" not in extensions:
        if error.path is not None:
            extensions["code"] = "INTERNAL_SERVER_ERROR"
        elif error.message.startswith("Syntax Error"):
            extensions["code"] = "GRAPHQL_PARSE_FAILED"
        else:
            extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
    formatted["extensions"] = extensions
    return formatted


class _RunpodHTTPHandler(GraphQLHTTPHandler):
    """HTTP 200 whenever the operation executed (even if every field failed), 400 otherwise.

    That is what RunPod's server does; ariadne's default answers 400 when ``data`` is
    null, e.g. after an error in a non-null root field.
    """

    async def create_json_response(
        self, request: Request, result: dict[str, Any], success: bool
    ) -> Response:
        status = 200 if success or "data" in result else 400
        return Response(wire.dumps(result), status, media_type="application/json")

    async def extract_data_from_json_request(self, request: Request) -> Any:
        try:
            return wire.loads(await request.body())
        except ValueError as exc:
            raise HttpBadRequestError(f"Request body is not a valid JSON: {exc}") from None

    def extract_data_from_get_request(self, request: Request) -> dict[Any, Any]:
        variables = request.query_params.get("variables", "").strip()
        if variables:
            try:
                wire.loads(variables)
            except ValueError as exc:
                raise HttpBadRequestError(
                    f"Variables query arg is not a valid JSON: {exc}"
                ) from None
        return super().extract_data_from_get_request(request)


class _ExpectedErrorFilter(logging.Filter):
    """Keep client mistakes (validation, not-found, no capacity) out of the server's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while isinstance(exc, GraphQLError) and exc.original_error is not None:
            exc = exc.original_error
        return not isinstance(exc, GraphQLError)  # a raised GraphQLError is a deliberate answer


_LOG.addFilter(_ExpectedErrorFilter())
