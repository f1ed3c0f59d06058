"""Errors the way RunPod's Apollo server sends them, and the one lookup every resource uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from graphql import GraphQLError

Record = TypeVar("Record")

# RunPod's own wording (clients match on these), reproduced exactly.
NO_INSTANCES = (
    "There are no longer any instances available with the requested specifications. "
    "Please refresh and try again."
)
NOT_ENOUGH_GPUS_ON_HOST = "There are not enough free GPUs on the host machine to start this pod."
SPOT_AS_ON_DEMAND = "Cannot resume a spot pod as an on demand pod."


def error(message: str, code: str = "BAD_USER_INPUT") -> GraphQLError:
    """A resolver error with the ``extensions.code`` Apollo (and so RunPod) attaches."""
    return GraphQLError(message, extensions={"code": code})


def no_instances() -> GraphQLError:
    return error(NO_INSTANCES, "INTERNAL_SERVER_ERROR")


def get_or_not_found(records: Mapping[str, Record], key: str | None, kind: str) -> Record:
    """The record ``key`` names, or RunPod's NOT_FOUND error: ``"<kind> not found: <key>"``."""
    record = None if key is None else records.get(key)
    if record is None:
        raise error(f"{kind} not found: {key}", "NOT_FOUND")
    return record
