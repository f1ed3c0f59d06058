"""The emulator's GraphQL control plane: RunPod's schema, executed against in-memory state.

The executable schema is built from the same SDL snapshot the SDK is generated from,
so a document RunPod would reject (unknown field, wrong argument type, missing
required input) is rejected here by GraphQL validation before any resolver runs.

Layout, by resource:

- ``_state``: the records (user, pods, clusters, templates, endpoints, registry
  credentials, network volumes, secrets) and the :class:`State` holding them with its
  lock and id maker;
- ``_errors``: RunPod's error shape, and ``get_or_not_found``, the one lookup that
  answers a missing record with RunPod's NOT_FOUND error;
- ``_wire``: reading RunPod's inputs and writing its values (camelCase views);
- ``_account``, ``_pods``, ``_clusters``, ``_templates``, ``_endpoints``, ``_registry``,
  ``_volumes``, ``_secrets``: each resource's resolvers, bound by
  ``@BINDINGS.field("Type.field")`` (``_bindings``);
- ``catalogue`` and ``_catalogue_queries``: the illustrative hardware catalogue and
  the queries and placement rules over it;
- ``_schema``: binds every ``BINDINGS`` onto the SDL; ``_plane``: :class:`ControlPlane`
  and the HTTP answer shape.
"""

from runpod_typed.emulator.control_plane._errors import (
    NO_INSTANCES,
    NOT_ENOUGH_GPUS_ON_HOST,
    SPOT_AS_ON_DEMAND,
)
from runpod_typed.emulator.control_plane._plane import ControlPlane
from runpod_typed.emulator.control_plane._schema import load_sdl

__all__ = [
    "NOT_ENOUGH_GPUS_ON_HOST",
    "NO_INSTANCES",
    "SPOT_AS_ON_DEMAND",
    "ControlPlane",
    "load_sdl",
]
