"""Base class of the generated sync GraphQL client (`RunpodGraphQLClient`).

ariadne-codegen copies this file into generated/graphql/. The generated client
owns no HTTP: each operation becomes a JSON-ready payload handed to `send`,
which the facade backs with its transport (key, retries, error mapping, and
raising on GraphQL errors), so the sync, async and flow clients share one
behaviour. Operation methods take exactly the operation's variables (codegen's
post-processing drops ariadne-codegen's catch-all `**kwargs`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

# In codegen/ this is ariadne-codegen's template; codegen.postprocess points the copy in
# generated/graphql/ at the package's own `.base_model`.
from ariadne_codegen.client_generators.dependencies.base_model import UnsetType
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

Payload = dict[str, Any]
Send = Callable[[Payload], dict[str, Any]]
#: Builds the error to raise when an answer does not fit the operation's models.
Invalid = Callable[[ValidationError, dict[str, Any]], Exception]
Model = TypeVar("Model", bound=BaseModel)


def build_payload(
    query: str, operation_name: str | None, variables: dict[str, Any] | None
) -> Payload:
    """The GraphQL request body; variables left UNSET are omitted, inputs use wire names."""
    return {
        "query": query,
        "operationName": operation_name,
        "variables": {
            name: _to_wire(value)
            for name, value in (variables or {}).items()
            if not isinstance(value, UnsetType)
        },
    }


def _to_wire(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, list):
        return [_to_wire(item) for item in value]
    return to_jsonable_python(value)


def response_data(response: dict[str, Any]) -> dict[str, Any]:
    """The `data` object of an answer `send` already checked for GraphQL errors."""
    data = response.get("data")
    if not isinstance(data, dict):
        raise ValueError("the GraphQL answer has no 'data' object")
    return data


def parse_data(model: type[Model], data: dict[str, Any], invalid: Invalid | None) -> Model:
    """Validate `data` as the operation's model; `invalid` maps a mismatch to the caller's error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        if invalid is None:
            raise
        raise invalid(exc, data) from None


SendOf = TypeVar("SendOf")


class ClientBase(Generic[SendOf]):
    """What the sync, async and flow clients share: the caller's `send`, and reading answers."""

    def __init__(self, send: SendOf, invalid: Invalid | None = None) -> None:
        self._send = send
        self._invalid = invalid

    def parse(self, model: type[Model], data: dict[str, Any]) -> Model:
        return parse_data(model, data, self._invalid)

    def get_data(self, response: dict[str, Any]) -> dict[str, Any]:
        return response_data(response)


class GraphQLBaseClient(ClientBase[Send]):
    """Turns generated operation calls into payloads for `send`."""

    def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._send(build_payload(query, operation_name, variables))
