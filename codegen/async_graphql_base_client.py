"""Base class of the generated async GraphQL client (`AsyncRunpodGraphQLClient`).

The async twin of graphql_base_client.py (copied next to it into
generated/graphql/): same payloads, but `send` is a coroutine function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .graphql_base_client import Invalid, Model, Payload, build_payload, parse_data, response_data

AsyncSend = Callable[[Payload], Awaitable[dict[str, Any]]]


class AsyncGraphQLBaseClient:
    """Turns generated operation calls into payloads for an async `send`."""

    def __init__(self, send: AsyncSend, invalid: Invalid | None = None) -> None:
        self._send = send
        self._invalid = invalid

    def parse(self, model: type[Model], data: dict[str, Any]) -> Model:
        return parse_data(model, data, self._invalid)

    async def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await self._send(build_payload(query, operation_name, variables))

    def get_data(self, response: dict[str, Any]) -> dict[str, Any]:
        return response_data(response)
