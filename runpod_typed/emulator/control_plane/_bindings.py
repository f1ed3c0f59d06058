"""How a module declares its resolvers: by schema coordinate, next to the function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Resolver = TypeVar("Resolver", bound=Callable[..., Any])


class Bindings(dict[str, Callable[..., Any]]):
    """A module's resolvers by schema coordinate (``"Query.pod"``).

    ``@BINDINGS.field("Query.pod")`` adds one. A resource's resolvers are called as
    ``resolver(state, **arguments)`` under the state's lock (see ``_schema``).
    """

    def field(self, coordinate: str) -> Callable[[Resolver], Resolver]:
        def bind(resolver: Resolver) -> Resolver:
            self[coordinate] = resolver
            return resolver

        return bind
