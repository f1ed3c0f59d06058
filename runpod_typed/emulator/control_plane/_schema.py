"""The executable schema: RunPod's SDL with every resource's resolvers bound to one state.

Each resource module declares ``BINDINGS``, schema coordinate -> resolver; a field
left unbound answers null. Stateful resolvers are called as ``resolver(state,
**arguments)`` under ``state.lock``; the catalogue's are plain ariadne resolvers.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

from ariadne import ObjectType, make_executable_schema
from graphql import GraphQLEnumType, GraphQLSchema

from runpod_typed.emulator.control_plane import (
    _account,
    _catalogue_queries,
    _clusters,
    _endpoints,
    _pods,
    _registry,
    _secrets,
    _templates,
    _volumes,
)
from runpod_typed.emulator.control_plane._state import State

_RESOURCES = (
    _account,
    _pods,
    _clusters,
    _templates,
    _endpoints,
    _registry,
    _volumes,
    _secrets,
)


def load_sdl() -> str:
    """The SDL snapshot shipped in the package (codegen copies schema/runpod.graphql there)."""
    sdl = resources.files("runpod_typed._generated").joinpath("runpod.graphql")
    return sdl.read_text(encoding="utf-8")


def build_schema(sdl: str, state: State) -> GraphQLSchema:
    resolvers = {
        **{
            coordinate: _locked(state, resolve)
            for resource in _RESOURCES
            for coordinate, resolve in resource.BINDINGS.items()
        },
        **_catalogue_queries.BINDINGS,
    }
    types: dict[str, ObjectType] = {}
    for coordinate, resolver in resolvers.items():
        type_name, field_name = coordinate.split(".")
        types.setdefault(type_name, ObjectType(type_name)).set_field(field_name, resolver)
    schema = make_executable_schema(sdl, *types.values())
    _unpatch_enum_parsing(schema)
    return schema


def _locked(state: State, resolve: Callable[..., Any]) -> Callable[..., Any]:
    """An ariadne resolver running ``resolve(state, **arguments)`` under the state's lock."""

    def resolver(_parent: object, _info: object, **arguments: Any) -> Any:
        with state.lock:
            return resolve(state, **arguments)

    return resolver


def _unpatch_enum_parsing(schema: GraphQLSchema) -> None:
    """Undo ariadne 1.1's per-enum `parse_value` patch.

    The patch (for Python enum values bound to GraphQL enums, which this schema
    does not use) takes one argument, but graphql-core 3.2.14 passes two, so every
    enum in a variable failed to parse. Deleting the instance attribute brings back
    graphql-core's own method.
    """
    for named in schema.type_map.values():
        if isinstance(named, GraphQLEnumType) and "parse_value" in vars(named):
            del named.parse_value
