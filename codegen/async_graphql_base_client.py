"""Base class of the generated async GraphQL client (`AsyncRunpodGraphQLClient`).

The async twin of graphql_base_client.py (copied next to it into
generated/graphql/): same payloads, but `send` is a coroutine function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .graphql_base_client import Payload, build_payload, response_data

AsyncSend = Callable[[Payload], Awaitable[dict[str, Any]]]


class AsyncGraphQLBaseClient:
    """Turns generated operation calls into payloads for an async `send`."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        return await self._send(build_payload(query, operation_name, variables, kwargs))

    def get_data(self, response: dict[str, Any]) -> dict[str, Any]:
        return response_data(response)
