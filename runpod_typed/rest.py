"""The generated REST API v2 types, under a stable public name.

Models that openapi-python-client generates from RunPod's v2 description
(schema/runpod-rest-v2.openapi.json; see docs/ARCHITECTURE.md), e.g.
`from runpod_typed.rest import CreatePodRequest, PodStatus, LogEvent`; `rp.rest` (a
`RestApi`, or `AsyncRestApi` on `AsyncRunpod`) is the client whose methods take and
return them, one per operation. `UNSET` marks a field left out.
"""

from runpod_typed._generated.rest.flows import AsyncRestApi, RestApi, RestFlows
from runpod_typed._generated.rest.models import *  # noqa: F403
from runpod_typed._generated.rest.models import __all__ as _models
from runpod_typed._generated.rest.types import UNSET, Unset

__all__ = [*_models, "UNSET", "AsyncRestApi", "RestApi", "RestFlows", "Unset"]
