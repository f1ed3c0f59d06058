"""RunPod's REST API v2 in the emulator, on the GraphQL control plane's state.

Every operation of the v2 description (``generated/rest/operations.py``) is served
at its path under ``/v2``: pods (with lifecycle states and actions), serverless
endpoints (workers, releases), templates, network volumes, registries and ECR
delegations, SSH keys, the catalogue, billing, clusters, and the pod and worker
log streams as server-sent events. A pod created here is the record GraphQL
shows, and the other way round (`_resources` writes through GraphQL's
resolvers). Requests are checked against the description (`_spec`): unknown
fields and bad values are 400 with RunPod's problem document naming them, an
unknown id is 404, and answers carry the statuses the description gives (201
for a create, 204 for a delete).

The job API also lives under /v2 (``/v2/{endpoint_id}/run``); RunPod keeps the two
on separate hosts, the emulator on one. A path belongs to v2 when its first
segment after /v2 is one of v2's collections (`owns`: pods, serverless,
templates, network-volumes, registries, catalog, billing, clusters, account), so
one base URL serves both, and clients given two (``api_base_url`` and
``endpoint_base_url``) reach the same server either way. The emulator refuses to
serve a serverless endpoint under one of those names (`check_endpoint_id`).

The app itself is `_app.RestV2`, imported when first needed (it loads the control plane).
"""

from __future__ import annotations

from collections.abc import Iterable

from runpod_typed._generated.rest.operations import COLLECTIONS
from runpod_typed.emulator.rest_v2._spec import owns

__all__ = ["COLLECTIONS", "check_endpoint_id", "owns"]


def check_endpoint_id(endpoint_ids: Iterable[str]) -> None:
    """Refuse serverless endpoint ids that name a v2 collection (`/v2/pods/...` is v2's)."""
    taken = sorted(set(endpoint_ids) & COLLECTIONS)
    if taken:
        raise ValueError(
            f"endpoint id(s) {', '.join(taken)} would shadow REST v2's /v2/<collection> "
            f"paths; the reserved names are {', '.join(sorted(COLLECTIONS))}"
        )
