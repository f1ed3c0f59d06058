"""Base class of the generated flow client (`RunpodGraphQLFlows`).

codegen/generate.py copies this file into generated/graphql/, next to the
flow client it derives from the sync client (codegen.postprocess.flow_client_source).
Each operation method is a generator -- a *flow* -- that builds the same
payload as the sync client, `yield from`s `send` (itself a flow, which yields
the caller's effects: "send this request", "sleep this long") and returns the
checked answer model. It does no I/O, so code that composes flows (the facade's
control-plane helpers) can call operations with `yield from` and run the whole
thing under one driver, blocking or async.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from .graphql_base_client import ClientBase, Payload, build_payload

#: The effects the caller's `send` flow yields (the flow client only passes them on).
Effect = TypeVar("Effect")
#: `send` as a flow: yields the caller's effects, returns the answer checked for GraphQL errors.
FlowSend = Callable[[Payload], Generator[Effect, Any, dict[str, Any]]]


class GraphQLFlowBaseClient(ClientBase[FlowSend[Effect]], Generic[Effect]):
    """Turns generated operation calls into payloads for a `send` flow."""

    def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> Generator[Effect, Any, dict[str, Any]]:
        return (yield from self._send(build_payload(query, operation_name, variables)))
