"""Base class of the generated async GraphQL client (`AsyncRunpodGraphQLClient`).

The async twin of graphql_base_client.py (copied next to it into
generated/graphql/): same payloads, but `send` is a coroutine function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .graphql_base_client import ClientBase, Payload, build_payload

AsyncSend = Callable[[Payload], Awaitable[dict[str, Any]]]


class AsyncGraphQLBaseClient(ClientBase[AsyncSend]):
    """Turns generated operation calls into payloads for an async `send`."""

    async def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await self._send(build_payload(query, operation_name, variables))
